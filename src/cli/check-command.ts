/**
 * `check`: audit manifests from files, directories and stdin for rollout drops.
 * Exit codes: 0 nothing at or above `--fail-on`, 1 something was, 2 unusable input (an unparsable
 * document is reported as a finding in every format, and still exits 2).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { FixCliOptions, runFix } from './check-fix';
import { audit, AuditResult, CheckOptions, compareFindings } from '../check/audit';
import { inputFindings, MANIFEST_SYNTAX_RULE, nothingToAudit } from '../check/input-findings';
import { FailOn, formatText, summarize, toJson, toSarif } from '../check/report';
import { CheckInputError, readInputs, readInputSet } from '../manifests/inputs';
import { ManifestInput, PROVIDER_IDS, ProviderId, readManifests } from '../manifests/topology';

export { CheckInputError, readInputs };

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

/**
 * Reads, parses and audits. A document that cannot be parsed, and a Helm template that was skipped,
 * become findings (`manifest-syntax-error`, `helm-template-skipped`) and the rest is audited;
 * throws `CheckInputError` when nothing usable was given (no path, a Helm chart, no object at all).
 */
export function runCheck(paths: readonly string[], options: CheckOptions, readStdin: () => string = defaultIo.readStdin): AuditResult {
  const { inputs, skipped } = readInputSet(paths, readStdin);
  const { objects, errors } = readManifests(inputs);
  const empty = nothingToAudit(inputs, objects, errors, skipped);
  if (empty !== undefined) throw new CheckInputError(empty);
  const result = audit(objects, options);
  const findings = inputFindings(errors, skipped);
  if (findings.length === 0) return result;
  for (const f of result.findings) findings.push(f);
  findings.sort(compareFindings);
  return { ...result, findings };
}

/** The inputs of `--fix`, refused (exit 2) when they hold no Kubernetes object at all, as for `check`. */
function readFixInputs(paths: readonly string[], readStdin: () => string): ManifestInput[] {
  const { inputs, skipped } = readInputSet(paths, readStdin);
  const { objects, errors } = readManifests(inputs);
  const empty = nothingToAudit(inputs, objects, errors, skipped);
  if (empty !== undefined) throw new CheckInputError(empty);
  return inputs;
}

/** Whether the input itself was unusable in part: a document could not be parsed (exit 2). */
export function hasUnparsableInput(result: AuditResult): boolean {
  return result.findings.some((f) => f.rule === MANIFEST_SYNTAX_RULE);
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
  namespace?: string;
  fix?: boolean;
  dryRun?: boolean;
  fixFormat: FixCliOptions['fixFormat'];
  fixOut?: string;
  prestopAction: FixCliOptions['preStopAction'];
}

/** Defines `check` on `cmd`. The action sets `process.exitCode` (0 or 1); unusable input throws (exit 2). */
export function configureCheckCommand(cmd: Command, io: CheckIo = defaultIo): Command {
  return cmd
    .description('Audit Kubernetes manifests (plain YAML, kind: List, helm template, kustomize build, cdk8s synth) for requests '
      + 'dropped during rollouts: every Deployment served through an Ingress, an HTTPRoute or a Service of type LoadBalancer. Exits 0 when nothing at or above --fail-on was found, '
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
    .addOption(new Option('-n, --namespace <namespace>',
      'the namespace objects without metadata.namespace are applied to, as with kubectl apply -n (default: default)'))
    .option('--fix', 'fix what can be fixed: rewrite YAML files in place (comments and formatting kept), then report what is left')
    .option('--dry-run', 'with --fix: print the changes (a unified diff, or the patches) and write nothing')
    .addOption(new Option('--fix-format <format>', 'with --fix: edit the files in place, or write Kustomize strategic-merge patches (for Helm, Kustomize or generated input)')
      .choices(['in-place', 'kustomize']).default('in-place'))
    .option('--fix-out <dir>', 'with --fix-format kustomize: the directory for the patches, kustomization.yaml and a Helm post-renderer')
    .addOption(new Option('--prestop-action <action>', 'with --fix: how a missing preStop wait is written (sleep-action needs Kubernetes 1.30 or later, and nothing in the image)')
      .choices(['exec-sleep', 'sleep-action']).default('exec-sleep'))
    .action((inputs: string[], opts: CheckCliOptions) => {
      const checkOptions = {
        provider: opts.provider,
        deregistrationDelaySeconds: opts.deregistrationDelay,
        drainTimeoutSeconds: opts.drainTimeout,
        namespace: opts.namespace,
      };
      if (!opts.fix && (opts.dryRun || opts.fixOut !== undefined || opts.fixFormat !== 'in-place')) {
        throw new CheckInputError('--dry-run, --fix-format and --fix-out only apply with --fix');
      }
      const result = opts.fix
        ? runFix(readFixInputs(inputs, io.readStdin), checkOptions, {
          dryRun: opts.dryRun === true, fixFormat: opts.fixFormat, fixOut: opts.fixOut, preStopAction: opts.prestopAction,
        }, io)
        : runCheck(inputs, checkOptions, io.readStdin);
      // A dry run prints the changes on stdout; the report then goes to stderr.
      const report = opts.fix && opts.dryRun ? io.err : io.out;
      if (opts.format === 'json') {
        report(JSON.stringify(toJson(result, opts.failOn), null, 2) + '\n');
      } else if (opts.format === 'sarif') {
        report(JSON.stringify(toSarif(result, { version: packageVersion() }), null, 2) + '\n');
      } else {
        report(formatText(result, opts.failOn));
      }
      // An unparsable document is unusable input (exit 2), reported with everything else.
      process.exitCode = hasUnparsableInput(result) ? 2 : summarize(result, opts.failOn).failed ? 1 : 0;
    });
}
