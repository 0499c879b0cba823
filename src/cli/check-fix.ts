/**
 * `check --fix`: plain YAML files are rewritten in place (or, with `--dry-run`, their diff is
 * printed); `--fix-format kustomize` writes strategic-merge patches to `--fix-out` instead, for
 * input that is generated. A dry run never writes a file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { audit, AuditResult, CheckOptions } from '../check/audit';
import { fixManifests, FixOutcome } from '../check/fix/engine';
import { kustomizeOutput } from '../check/fix/kustomize';
import { unifiedDiff } from '../check/fix/line-diff';
import { FixPreStopAction } from '../check/fix/prestop';
import { CheckInputError } from '../manifests/inputs';
import { loadManifests, ManifestInput } from '../manifests/topology';

export interface FixCliOptions {
  readonly dryRun: boolean;
  readonly fixFormat: 'in-place' | 'kustomize';
  readonly fixOut?: string;
  readonly preStopAction: FixPreStopAction;
}

export interface FixIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const STDIN = '<stdin>';

/** Refuses what cannot be fixed as asked, before anything is read or written. */
export function validateFixOptions(inputs: readonly ManifestInput[], options: FixCliOptions): void {
  if (options.fixFormat === 'kustomize') {
    if (options.fixOut === undefined && !options.dryRun) {
      throw new CheckInputError('--fix-format kustomize needs --fix-out <dir> (the directory for the patches)');
    }
    return;
  }
  if (options.fixOut !== undefined) throw new CheckInputError('--fix-out is for --fix-format kustomize');
  for (const input of inputs) {
    if (input.file === STDIN) {
      throw new CheckInputError('standard input cannot be fixed in place: use --fix-format kustomize --fix-out <dir>');
    }
    if (!/\.ya?ml$/i.test(input.file)) {
      throw new CheckInputError(`${input.file}: only YAML files are fixed in place; use --fix-format kustomize --fix-out <dir>`);
    }
  }
}

function describeFixed(outcome: FixOutcome): string {
  const fixed = Object.entries(outcome.fixed);
  const lines: string[] = [];
  lines.push(fixed.length === 0 ? 'fix: nothing to fix automatically'
    : `fix: ${fixed.map(([rule, n]) => `${rule}${n > 1 ? ` (${n})` : ''}`).join(', ')}`);
  for (const m of outcome.manual) {
    lines.push(`fix: left to you: ${m.finding.rule} on ${m.finding.object.kind} ${m.finding.object.name} (${m.finding.location.file}:${m.finding.location.line}): ${m.reason}`);
  }
  return lines.join('\n') + '\n';
}

/** Fixes, writes (unless a dry run) and returns the audit of what is on disk afterwards. */
export function runFix(inputs: readonly ManifestInput[], checkOptions: CheckOptions, options: FixCliOptions, io: FixIo): AuditResult {
  validateFixOptions(inputs, options);
  const outcome = fixManifests(inputs, checkOptions, { preStopAction: options.preStopAction });
  io.err(describeFixed(outcome));
  if (options.fixFormat === 'kustomize') {
    const files = kustomizeOutput(outcome.before, outcome.after);
    if (options.dryRun) {
      for (const f of files.filter((x) => x.name !== 'rendered.yaml')) io.out(`# ${f.name}\n${f.text}${f.text.endsWith('\n') ? '' : '\n'}`);
    } else {
      fs.mkdirSync(options.fixOut!, { recursive: true });
      for (const f of files) {
        const target = path.join(options.fixOut!, f.name);
        fs.writeFileSync(target, f.text);
        if (f.executable) fs.chmodSync(target, 0o755);
      }
      io.err(`fix: wrote ${files.length} files to ${options.fixOut} (kubectl kustomize ${options.fixOut} prints the fixed manifests)\n`);
    }
    // The input itself is unchanged: report it as it is.
    return audit(loadManifests(outcome.before), checkOptions);
  }
  outcome.after.forEach((after, i) => {
    const before = outcome.before[i];
    if (after.text === before.text) return;
    // git's a/ and b/ prefixes for relative paths (`git apply`, `patch -p1`); an absolute path as it is.
    const [a, b] = path.isAbsolute(before.file) ? [before.file, after.file] : [`a/${before.file}`, `b/${after.file}`];
    if (options.dryRun) io.out(unifiedDiff(a, b, before.text, after.text));
    else fs.writeFileSync(after.file, after.text);
  });
  return options.dryRun ? audit(loadManifests(outcome.before), checkOptions) : outcome.result;
}
