/**
 * `check`: audit manifests from files, directories and stdin for rollout drops.
 * Exit codes: 0 nothing at or above `--fail-on`, 1 something was, 2 unusable input.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { audit, AuditResult, CheckOptions } from './audit';
import { FailOn, formatText, summarize, toJson, toSarif } from './report';
import { loadManifests, ManifestInput, PROVIDER_IDS, ProviderId } from '../cli/topology';

/** Where `check` reads and writes; tests substitute their own. */
export interface CheckIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Reads all of standard input. */
  readonly readStdin: () => string;
}

const defaultIo: CheckIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  readStdin: () => fs.readFileSync(0, 'utf8'),
};

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

/** Reads, parses and audits; throws `ManifestSyntaxError`/`CheckInputError` for unusable input. */
export function runCheck(paths: readonly string[], options: CheckOptions, readStdin: () => string = defaultIo.readStdin): AuditResult {
  return audit(loadManifests(readInputs(paths, readStdin)), options);
}

function seconds(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of seconds >= 0');
  return n;
}

function packageVersion(): string {
  for (const candidate of [path.join(__dirname, '..', '..', 'package.json'), path.join(__dirname, '..', 'package.json')]) {
    try {
      return JSON.parse(fs.readFileSync(candidate, 'utf8')).version ?? '0.0.0';
    } catch {
      continue;
    }
  }
  return '0.0.0';
}

interface CheckCliOptions {
  format: 'text' | 'json' | 'sarif';
  failOn: FailOn;
  provider?: ProviderId;
  deregistrationDelay?: number;
  drainTimeout: number;
}

/** Defines `check` on `cmd`. The action sets `process.exitCode` (0 or 1); unusable input throws (exit 2). */
export function configureCheckCommand(cmd: Command, io: CheckIo = defaultIo): Command {
  return cmd
    .description('Audit Kubernetes manifests (plain YAML, kind: List, helm template, kustomize build, cdk8s synth) for requests '
      + 'dropped during rollouts: every Deployment served through an Ingress. Exits 0 when nothing at or above --fail-on was found, '
      + '1 when something was, 2 for unusable input')
    .argument('[inputs...]', 'manifest files, directories (recursively *.yaml, *.yml, *.json), or - for standard input')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json', 'sarif']).default('text'))
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding at or above this severity is found')
      .choices(['error', 'warning', 'info', 'none']).default('error'))
    .addOption(new Option('-p, --provider <provider>', 'the load balancer behind Ingresses whose class does not tell (class alb: Alibaba Cloud or AWS; a missing or unknown class)')
      .choices([...PROVIDER_IDS]))
    .addOption(new Option('-D, --deregistration-delay <seconds>',
      'D: seconds until the load balancer stops routing to a deleted pod (default: the Deployment\'s annotation, else the provider\'s default)')
      .argParser(seconds))
    .addOption(new Option('-S, --drain-timeout <seconds>',
      'S: seconds the app needs to finish in-flight requests, where the Deployment has no drain-timeout annotation')
      .argParser(seconds).default(30))
    .action((inputs: string[], opts: CheckCliOptions) => {
      const result = runCheck(inputs, {
        provider: opts.provider,
        deregistrationDelaySeconds: opts.deregistrationDelay,
        drainTimeoutSeconds: opts.drainTimeout,
      }, io.readStdin);
      if (opts.format === 'json') {
        io.out(JSON.stringify(toJson(result, opts.failOn), null, 2) + '\n');
      } else if (opts.format === 'sarif') {
        io.out(JSON.stringify(toSarif(result, { version: packageVersion() }), null, 2) + '\n');
      } else {
        io.out(formatText(result, opts.failOn));
      }
      process.exitCode = summarize(result, opts.failOn).failed ? 1 : 0;
    });
}
