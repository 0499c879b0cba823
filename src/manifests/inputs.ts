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

/** A file that was found but not read as manifests, and why (reported as a note). */
export interface SkippedInput {
  readonly file: string;
  readonly reason: string;
}

/** What `readInputSet` read, and what it left out on purpose. */
export interface InputSet {
  readonly inputs: ManifestInput[];
  readonly skipped: SkippedInput[];
}

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** A Helm chart directory: a `Chart.yaml` next to a `templates/` folder. */
export function isHelmChart(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'Chart.yaml')) && isDirectory(path.join(dir, 'templates'));
}

/**
 * The chart a file is a template of: the file lies in (or below) the `templates/` folder of a chart
 * and holds a template action (`{{`). Such a file is Go template text, not YAML; `helm template`
 * renders it. Returns the chart directory, or undefined.
 */
export function helmTemplateChart(file: string, text: string): string | undefined {
  if (!text.includes('{{')) return undefined;
  let dir = path.dirname(path.resolve(file));
  for (;;) {
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    if (path.basename(dir) === 'templates' && fs.existsSync(path.join(parent, 'Chart.yaml'))) return parent;
    dir = parent;
  }
}

/** Every manifest file under a directory, recursively, in a stable order (iterative: any depth). */
function manifestFiles(dir: string): string[] {
  const found: string[] = [];
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    const entries = fs.readdirSync(current, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    const subdirs: string[] = [];
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) subdirs.push(full);
      } else if (entry.isFile() && MANIFEST_FILE.test(entry.name)) {
        found.push(full);
      }
    }
    // Depth first, in name order: the last pushed is visited first.
    for (let i = subdirs.length - 1; i >= 0; i--) pending.push(subdirs[i]);
  }
  return found;
}

/**
 * Reads the inputs: files, directories (recursively *.yaml, *.yml, *.json) and "-" for stdin. A file
 * given twice (directly, or in a directory given too) is read once. Helm templates (files with
 * `{{` in a chart's `templates/` folder) are skipped and listed in `skipped`, a chart's own settings
 * (Chart.yaml, values*.yaml) are skipped silently; a Helm chart directory given as an input is
 * refused: it must be rendered first.
 */
export function readInputSet(paths: readonly string[], readStdin: () => string): InputSet {
  if (paths.length === 0) {
    throw new CheckInputError('no input: give manifest files, directories, or - to read standard input');
  }
  const inputs: ManifestInput[] = [];
  const skipped: SkippedInput[] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    if (p === '-') {
      if (!seen.has('-')) inputs.push({ file: '<stdin>', text: readStdin() });
      seen.add('-');
      continue;
    }
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch {
      throw new CheckInputError(`${p}: no such file or directory`);
    }
    if (stat.isDirectory() && isHelmChart(p)) {
      throw new CheckInputError(`${p}: a Helm chart (Chart.yaml and templates/), not manifests: render it with \`helm template\` first `
        + `(helm template ${p} | check -)`);
    }
    const files = stat.isDirectory() ? manifestFiles(p) : [p];
    if (stat.isDirectory() && files.length === 0) {
      throw new CheckInputError(`${p}: no *.yaml, *.yml or *.json files in this directory`);
    }
    for (const file of files) {
      const key = realPath(file);
      if (seen.has(key)) continue;
      seen.add(key);
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (e) {
        throw new CheckInputError(`${file}: cannot read: ${(e as Error).message}`);
      }
      const chart = helmTemplateChart(file, text);
      if (chart !== undefined) {
        skipped.push({ file, reason: `a Helm template of the chart in ${shown(chart)}, not YAML: not audited; render the chart with \`helm template\` and check its output` });
        continue;
      }
      // A chart's own settings (Chart.yaml, values.yaml, ...) are not Kubernetes objects.
      if (CHART_SETTINGS.test(path.basename(file)) && isHelmChart(path.dirname(file))) continue;
      inputs.push({ file, text });
    }
  }
  return { inputs, skipped };
}

/** The files of a chart directory that configure the chart rather than describe objects. */
const CHART_SETTINGS = /^(?:Chart\.(?:ya?ml|lock)|values.*\.(?:ya?ml|json)|requirements\.(?:ya?ml|lock))$/;

/** A directory as the user would write it: relative to the working directory when inside it. */
function shown(dir: string): string {
  const relative = path.relative(process.cwd(), dir);
  return relative === '' ? '.' : relative.startsWith('..') || path.isAbsolute(relative) ? dir : relative;
}

function realPath(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

/** Reads the inputs (see `readInputSet`); the skipped Helm templates are left out silently. */
export function readInputs(paths: readonly string[], readStdin: () => string): ManifestInput[] {
  return readInputSet(paths, readStdin).inputs;
}
