/** Reading manifest inputs: files, directories (recursively) and standard input. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ManifestInput } from './topology';

/** Unusable input (a missing path, a directory without manifests): exit 2. */
export class CheckInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckInputError';
  }
}

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/** Every manifest file under a directory, recursively, in a stable order. */
function manifestFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string) => {
    const entries = fs.readdirSync(current, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) walk(full);
      } else if (entry.isFile() && MANIFEST_FILE.test(entry.name)) {
        found.push(full);
      }
    }
  };
  walk(dir);
  return found;
}

/** Reads the inputs: files, directories (recursively *.yaml, *.yml, *.json) and "-" for stdin. */
export function readInputs(paths: readonly string[], readStdin: () => string): ManifestInput[] {
  if (paths.length === 0) {
    throw new CheckInputError('no input: give manifest files, directories, or - to read standard input');
  }
  const inputs: ManifestInput[] = [];
  for (const p of paths) {
    if (p === '-') {
      inputs.push({ file: '<stdin>', text: readStdin() });
      continue;
    }
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch {
      throw new CheckInputError(`${p}: no such file or directory`);
    }
    const files = stat.isDirectory() ? manifestFiles(p) : [p];
    if (stat.isDirectory() && files.length === 0) {
      throw new CheckInputError(`${p}: no *.yaml, *.yml or *.json files in this directory`);
    }
    for (const file of files) {
      try {
        inputs.push({ file, text: fs.readFileSync(file, 'utf8') });
      } catch (e) {
        throw new CheckInputError(`${file}: cannot read: ${(e as Error).message}`);
      }
    }
  }
  return inputs;
}
