/**
 * The `rehearse` command: options, help and output around `runRehearsal`.
 */
import * as fs from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { nonNegative, positive, positiveInt } from './cli-args';
import { LatencyRange, parseLatency, SigtermMode } from '../demo-app/demo-app';
import { ARRIVALS, Arrivals, formatSummary } from '../probe/probe';
import { parseSignal, serverCommandSpec, ServerCommandError } from '../process/server-command';
import { DelayDistribution, DelaySpecError, describeDelay, LB_PROFILE_IDS, LB_PROFILES, LbProfileId, parseDelay } from '../rehearse/lb-profiles';
import { formatTimeline, RehearsalInterruptedError, resolveRehearsal, runRehearsal } from '../rehearse/rehearse';
import { readRehearsalManifest } from '../rehearse/rehearse-manifest';
import { formatStatusLine, StatusLine } from '../rehearse/status';
import { formatAssumptions } from '../rehearse/timeline';

/** Where the command writes (the CLI's stdout/stderr, or a test's buffers). */
export interface RehearseIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Aborts on SIGINT/SIGTERM; `dispose` removes the handlers. */
  readonly abortOnSignals: () => { signal: AbortSignal; dispose: () => void };
  /** `err` is a terminal: show one live status line instead of the plain log. */
  readonly errIsTty?: boolean;
  /** The terminal's width, to keep the status line on one row. */
  readonly errColumns?: () => number | undefined;
}

function delay(v: string): DelayDistribution {
  try {
    return parseDelay(v);
  } catch (e) {
    throw new InvalidArgumentError((e as DelaySpecError).message);
  }
}

function signalName(v: string): NodeJS.Signals {
  try {
    return parseSignal(v);
  } catch (e) {
    throw new InvalidArgumentError((e as ServerCommandError).message);
  }
}

function collect(v: string, previous: string[] = []): string[] {
  return [...previous, v];
}

function healthCheck(v: string): { intervalSeconds: number; healthyThreshold: number } {
  const m = /^\s*(\d+(?:\.\d+)?)\s*[x*]\s*(\d+)\s*$/.exec(v);
  if (!m) throw new InvalidArgumentError('expected INTERVALxTHRESHOLD, e.g. "15x2"');
  return { intervalSeconds: Number(m[1]), healthyThreshold: Number(m[2]) };
}

interface RehearseCliOptions {
  arrivals: Arrivals;
  path: string;
  deployment?: string;
  lb?: LbProfileId;
  lag?: DelayDistribution;
  lagFraction?: number;
  registration?: DelayDistribution;
  healthCheck?: { intervalSeconds: number; healthyThreshold: number };
  readinessGate: 'auto' | 'on' | 'off';
  lbIdleTimeout?: number;
  appKeepAlive?: number;
  networkDelay?: number;
  timeScale: number;
  appLatency: LatencyRange;
  appMode?: SigtermMode;
  appCommand?: string;
  appTemplate?: string[];
  stopSignal?: NodeJS.Signals;
  allowExec?: boolean;
  rate: number;
  concurrency?: number;
  timeout: number;
  rollouts: number;
  minRequests?: number;
  warmup: number;
  settle: number;
  seed?: number;
  haproxy?: string;
  out?: string;
  json?: boolean;
  quiet?: boolean;
  dryRun?: boolean;
}

const PROFILE_HELP = LB_PROFILE_IDS.map((id) => {
  const p = LB_PROFILES[id];
  return `  ${id.padEnd(12)} lag ${describeDelay(p.deregistrationLag)}; registration ${describeDelay(p.registrationReconcile)} + health check `
    + `${p.defaultHealthCheck.intervalSeconds} s x ${p.defaultHealthCheck.healthyThreshold}; LB idle timeout ${p.idleTimeoutSeconds} s`;
}).join('\n');

const HELP_AFTER = `
Load balancer profiles (model seconds; sources in docs and src/rehearse/lb-profiles.ts):
${PROFILE_HELP}
The lag is never taken from the manifest's own deregistration delay D (that would test D against
itself); D is printed beside it. --lag-fraction runs a fixed lag of a fraction of D (sensitivity).

Safety: rehearse runs pods and HAProxy on this machine. It does NOT run commands from the manifest
unless you pass --allow-exec: recognised preStop waits (sleep N, sh -c "sleep N", the native sleep
action, the construct's own wrapper around a declared command) are modelled as waits; any other
preStop command is refused. --app-command runs the command YOU give, once per pod.

Exit status: 0 no request failed, 1 some failed, 2 usage or setup error, 130 interrupted.`;

/** Add the `rehearse` options and action to `cmd`. */
export function configureRehearseCommand(cmd: Command, io: RehearseIo): Command {
  return cmd
    .description('Run rolling restarts of a Deployment on this machine: real processes as pods, HAProxy as the cloud load balancer '
      + '(delays from a provider profile), kubelet and Deployment controller modelled, load sent throughout; exits 1 if any request failed')
    .argument('<manifest...>', 'synthesized manifest file(s) (.k8s.yaml)')
    .option('--deployment <name>', 'the Deployment to rehearse (required when the manifest has several)')
    .addOption(new Option('--lb <provider>', 'load balancer profile (default: detected from the Ingress)').choices([...LB_PROFILE_IDS]))
    .option('--lag <seconds>', 'deregistration lag instead of the profile\'s: "12", "5-12" or "5-12/0.05:20" (5 % tail up to 20 s)', delay)
    .option('--lag-fraction <x>', 'fixed lag = x times the manifest\'s declared D (sensitivity runs)', nonNegative)
    .option('--registration <seconds>', 'controller reconcile delay before health checks start, instead of the profile\'s', delay)
    .option('--health-check <IxN>', 'LB health check interval x healthy threshold, instead of the profile\'s / manifest\'s', healthCheck)
    .addOption(new Option('--readiness-gate <mode>', 'readiness gate holding new pods un-Ready until the LB routes to them').choices(['auto', 'on', 'off']).default('auto'))
    .option('--lb-idle-timeout <seconds>', 'how long the LB keeps idle connections to pods (default: the profile\'s)', nonNegative)
    .option('--app-keep-alive <seconds>', 'demo app keep-alive idle timeout (default 620, longer than every profile\'s LB idle timeout)', nonNegative)
    .option('--network-delay <ms>', 'one-way LB-to-pod network delay in model ms: the window in which an app\'s idle close races a reused connection (default 0.5)', nonNegative)
    .option('-s, --time-scale <factor>', 'multiply every model duration (0.1: a 45 s grace period takes 4.5 s)', positive, 1)
    .addOption(new Option('--app-latency <ms>', 'demo app response time in model ms, fixed ("150") or range ("0-2000")')
      .argParser(parseLatency).default({ minMs: 0, maxMs: 2000 }, '0-2000'))
    .addOption(new Option('--app-mode <mode>', 'what the demo app does on the stop signal (default: the manifest\'s drains-on-stop-signal annotation)').choices(['drain', 'abrupt', 'ignore']))
    .option('--app-command <command line>', 'run this real server in each pod instead of the demo app ({host} {port} {dir} placeholders, HOST/PORT env)')
    .option('--app-template <file>', 'template rendered into each pod\'s {dir} (repeatable)', collect)
    .option('--stop-signal <signal>', 'signal the kubelet sends (default: the manifest\'s lifecycle.stopSignal, else its stop-signal annotation, else SIGTERM)', signalName)
    .option('--allow-exec', 'run preStop commands from the manifest that are not recognised waits (on this machine!)')
    .option('-r, --rate <n>', 'probe requests per model second', positive, 50)
    .option('--path <path>', 'path the probe requests through the LB (for example a real server\'s slow route)', '/')
    .addOption(new Option('--arrivals <spacing>', 'probe request spacing: fixed (1/rate apart) or poisson (independent arrivals, same mean; drawn from --seed)').choices([...ARRIVALS]).default('fixed'))
    .option('-c, --concurrency <n>', 'probe max requests in flight', positiveInt)
    .option('-t, --timeout <seconds>', 'probe timeout in model seconds', positive, 10)
    .option('--rollouts <n>', 'rolling restarts to run back to back', positiveInt, 1)
    .option('--min-requests <n>', 'keep running rollouts until the probe has sent this many requests', positiveInt)
    .option('--warmup <seconds>', 'model seconds of load before the first rollout', nonNegative, 2)
    .option('--settle <seconds>', 'model seconds of load after the last old pod exited', nonNegative, 2)
    .option('--seed <n>', 'seed for the drawn lags and delays', nonNegative)
    .option('--haproxy <path>', 'haproxy binary (default: PATH, then /usr/sbin)')
    .option('-o, --out <file>', 'write every probe request to a .jsonl or .csv file')
    .option('--json', 'print the full result as JSON on stdout')
    .option('-q, --quiet', 'no live status line or log on stderr (a pipe gets the plain log, a terminal one live status line)')
    .option('--dry-run', 'print the assumptions and exit without starting anything')
    .addHelpText('after', HELP_AFTER)
    .action((files: string[], opts: RehearseCliOptions) => rehearseAction(files, opts, io));
}

/** The `rehearse` action: read the manifest, then print the assumptions (--dry-run) or run the rehearsal and print its result. */
async function rehearseAction(files: string[], opts: RehearseCliOptions, io: RehearseIo): Promise<void> {
  const inputs = files.map((file) => ({ file, text: fs.readFileSync(file === '-' ? 0 : file, 'utf8') }));
  const manifest = readRehearsalManifest(inputs, { deployment: opts.deployment, lb: opts.lb });
  if ((opts.appTemplate ?? []).length > 0 && opts.appCommand === undefined) throw new Error('--app-template needs --app-command');
  if (opts.appCommand !== undefined && opts.appMode !== undefined) throw new Error('--app-mode applies to the demo app only; a real server (--app-command) behaves as it does');
  const appCommand = opts.appCommand !== undefined ? serverCommandSpec(opts.appCommand, opts.appTemplate ?? []) : undefined;
  // A terminal gets one live status line; a pipe the plain log; -q and --json neither.
  const live = !opts.quiet && !opts.json && io.errIsTty ? new StatusLine(io.err, io.errColumns) : undefined;
  const log = opts.quiet || opts.json || live ? undefined : (line: string) => io.err(line + '\n');
  const options = {
    manifest: manifest.spec,
    context: manifest.context,
    provider: manifest.provider,
    lag: opts.lag,
    lagFractionOfDeclared: opts.lagFraction,
    registrationReconcile: opts.registration,
    healthCheck: opts.healthCheck,
    readinessGate: opts.readinessGate,
    lbIdleTimeoutSeconds: opts.lbIdleTimeout,
    appKeepAliveSeconds: opts.appKeepAlive,
    networkDelayMs: opts.networkDelay,
    timeScale: opts.timeScale,
    appLatency: opts.appLatency,
    appMode: opts.appMode,
    appCommand,
    stopSignal: opts.stopSignal,
    allowExec: opts.allowExec,
    rate: opts.rate,
    arrivals: opts.arrivals,
    probePath: opts.path,
    concurrency: opts.concurrency,
    probeTimeoutSeconds: opts.timeout,
    rollouts: opts.rollouts,
    minRequests: opts.minRequests,
    warmupSeconds: opts.warmup,
    settleSeconds: opts.settle,
    seed: opts.seed,
    haproxyPath: opts.haproxy,
    out: opts.out,
    log,
    onStatus: live ? (s: Parameters<typeof formatStatusLine>[0]) => live.update(formatStatusLine(s)) : undefined,
  };
  const header = (a: Parameters<typeof formatAssumptions>[0]) => `${formatAssumptions(a)}\n  provider detection: ${manifest.providerReason}\n`;
  if (opts.dryRun) {
    io.out(header(resolveRehearsal(options).assumptions));
    return;
  }
  const { signal, dispose } = io.abortOnSignals();
  try {
    const result = await runRehearsal({ ...options, signal, onAssumptions: (a) => (opts.json ? undefined : io.err(header(a) + '\n')) });
    live?.clear();
    const { records: _records, ...printable } = result;
    if (opts.json) io.out(JSON.stringify(printable, null, 2) + '\n');
    else io.out(`${formatSummary(result.summary)}\n\n${formatTimeline(result.pods)}\n`);
    process.exitCode = result.summary.failed > 0 ? 1 : 0;
  } catch (e) {
    live?.clear();
    if (e instanceof RehearsalInterruptedError) {
      io.out(`interrupted: partial result\n${formatSummary(e.partial.summary)}\n\n${formatTimeline(e.partial.pods)}\n`);
    }
    throw e;
  } finally {
    live?.clear();
    dispose();
  }
}
