/** Command-line wiring of `measure` (the tool is src/measure/). */
import * as fs from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { nonNegative, positive, positiveInt } from './cli-args';
import { formatReport, measureCluster, exitStatus, MeasureOutcome } from '../measure/measure';
import { measureRehearsal } from '../measure/rehearsal';
import { DelayDistribution, LB_PROFILE_IDS, LbProfileId, parseDelay } from '../rehearse/lb-profiles';

export interface MeasureIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly abortOnSignals: () => { signal: AbortSignal; dispose: () => void };
}

interface MeasureCliOptions {
  rate: number;
  lb?: LbProfileId;
  host?: string;
  timeout: number;
  cacert?: string;
  insecure?: boolean;
  restart?: string;
  restarts: number;
  terminations?: number;
  warmup: number;
  maxDuration: number;
  out?: string;
  json?: boolean;
  quiet?: boolean;
  rehearse?: boolean;
  lag?: DelayDistribution;
  registration?: DelayDistribution;
  timeScale: number;
  seed?: number;
  rollouts: number;
  meter?: string;
  haproxy?: string;
}

function delay(v: string): DelayDistribution {
  try {
    return parseDelay(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

const HELP_AFTER = `
On a cluster: deploy the meter (lag-meter manifest --provider ... | kubectl apply -f -), then
  measure https://meter.example.com --lb aws-alb --restarts 3 \\
    --restart "kubectl rollout restart deployment/lag-meter && kubectl rollout status deployment/lag-meter"
Without --restart, restart the meter yourself while it measures.

In a rehearsal (nothing leaves this machine; figures in model seconds, compared in tests with
the lags the rehearsal drew): measure --rehearse --lb gke-ingress [--lag 5-12] [manifest...]

Exit status: 0 measured, 1 the load balancer dropped requests during the measurement,
2 could not measure (too few terminations seen, nothing answers, responses without the
meter's headers) or usage error, 130 interrupted.`;

/** `measure <url>` / `measure --rehearse [manifest...]`. */
export function configureMeasureCommand(cmd: Command, io: MeasureIo): Command {
  return cmd
    .description('Measure the load balancer\'s real deregistration and registration delays with the lag meter (see lag-meter manifest)')
    .argument('[target...]', 'the meter\'s URL through the load balancer; with --rehearse, the meter\'s manifest file(s) (default: its own for --lb)')
    .option('-r, --rate <n>', 'requests per second (model seconds with --rehearse), Poisson arrivals', positive, 20)
    .addOption(new Option('--lb <provider>', 'the load balancer (warns when a delay exceeds the library\'s default; required with --rehearse)').choices([...LB_PROFILE_IDS]))
    .option('-H, --host <host>', 'Host header (and TLS server name) to send')
    .option('-t, --timeout <seconds>', 'per-request timeout', positive, 10)
    .option('--cacert <file>', 'https: trust the CA certificate(s) in this PEM file')
    .option('-k, --insecure', 'https: do not verify the server\'s certificate')
    .option('--restart <command>', 'restart the meter with this command of yours (run with /bin/sh -c), --restarts times')
    .option('--restarts <n>', 'how many restarts to measure', positiveInt, 1)
    .option('--terminations <n>', 'fewest pod terminations that make a measurement (default: --restarts)', positiveInt)
    .option('--warmup <seconds>', 'load before the first restart', nonNegative, 10)
    .option('--max-duration <seconds>', 'give up after this long', positive, 1800)
    .option('-o, --out <file>', 'write every request (with the meter\'s headers) to a .jsonl file')
    .option('--json', 'print {"deregistration", "registration", "suggested"} as JSON')
    .option('-q, --quiet', 'no log on stderr')
    .option('--rehearse', 'measure a rehearsal of the meter on this machine instead of a cluster')
    .option('--lag <seconds>', 'with --rehearse: the lag instead of the profile\'s ("12", "5-12", "5-12/0.05:20")', delay)
    .option('--registration <seconds>', 'with --rehearse: the registration reconcile delay instead of the profile\'s', delay)
    .option('-s, --time-scale <factor>', 'with --rehearse: multiply every model duration', positive, 0.1)
    .option('--seed <n>', 'with --rehearse: seed of the drawn lags and arrivals', nonNegative)
    .option('--rollouts <n>', 'with --rehearse: rolling restarts of the meter', positiveInt, 1)
    .option('--meter <file>', 'with --rehearse: run this meter server file in the pods instead of the shipped one')
    .option('--haproxy <path>', 'with --rehearse: haproxy binary')
    .addHelpText('after', HELP_AFTER)
    .action(async (targets: string[], opts: MeasureCliOptions) => {
      const log = opts.quiet || opts.json ? undefined : (line: string) => io.err(line + '\n');
      const { signal, dispose } = io.abortOnSignals();
      try {
        const outcome = opts.rehearse ? await rehearsed(targets, opts, signal, log) : await onCluster(targets, opts, signal, log);
        if (opts.json) io.out(JSON.stringify(outcome.report, null, 2) + '\n');
        else io.out((opts.rehearse ? `rehearsal of the meter: every figure in model seconds (time scale ${opts.timeScale})\n` : '') + formatReport(outcome, opts.lb) + '\n');
        if (outcome.unmeasured !== undefined && opts.json) io.err(`could not measure: ${outcome.unmeasured}\n`);
        process.exitCode = exitStatus(outcome);
      } finally {
        dispose();
      }
    });
}

async function onCluster(targets: string[], opts: MeasureCliOptions, signal: AbortSignal, log?: (l: string) => void): Promise<MeasureOutcome> {
  if (targets.length !== 1) throw new Error(`measure needs exactly one URL (the meter's, through the load balancer), got ${targets.length}`);
  let ca: Buffer | undefined;
  if (opts.cacert !== undefined) ca = fs.readFileSync(opts.cacert);
  return measureCluster({
    url: targets[0],
    rate: opts.rate,
    host: opts.host,
    timeoutMs: opts.timeout * 1000,
    ca,
    insecure: opts.insecure,
    provider: opts.lb,
    restartCommand: opts.restart,
    restarts: opts.restarts,
    minTerminations: opts.terminations ?? opts.restarts,
    warmupMs: opts.warmup * 1000,
    maxDurationMs: opts.maxDuration * 1000,
    signal,
    log,
    out: opts.out,
  });
}

async function rehearsed(targets: string[], opts: MeasureCliOptions, signal: AbortSignal, log?: (l: string) => void): Promise<MeasureOutcome> {
  if (opts.lb === undefined) throw new Error('measure --rehearse needs --lb <provider>: the profile whose lags the rehearsal draws');
  if (opts.restart !== undefined) throw new Error('--restart applies to a cluster; a rehearsal restarts the meter itself (--rollouts)');
  const inputs = targets.length === 0 ? undefined : targets.map((file) => ({ file, text: fs.readFileSync(file === '-' ? 0 : file, 'utf8') }));
  return measureRehearsal({
    inputs,
    provider: opts.lb,
    lag: opts.lag,
    registration: opts.registration,
    timeScale: opts.timeScale,
    rate: opts.rate,
    rollouts: opts.rollouts,
    seed: opts.seed,
    minTerminations: opts.terminations ?? 1,
    meterFile: opts.meter,
    haproxyPath: opts.haproxy,
    signal,
    log,
  });
}
