/**
 * `measure`: Poisson load through the load balancer to the lag meter while the meter is restarted,
 * then the meter's headers turned into per-pod delays (analysis.ts). On a real cluster
 * (`measureCluster`) or in a rehearsal where the truth is known (`measureRehearsal`, rehearsal.ts).
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { analyze, libraryDefaultSeconds, MeasureReport, MeterSample, meanGapMs, sampleOf } from './analysis';
import { METER_HEADERS } from '../lag-meter';
import { ProbeRecord, ProbeSummary, runProbe } from '../probe/probe';
import { LbProfileId } from '../rehearse/lb-profiles';

/** The meter's headers, as the probe keeps them. */
export const CAPTURED_HEADERS: readonly string[] = Object.values(METER_HEADERS);

export class MeasureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MeasureError';
  }
}

/** The meter's samples in probe records, and how many answered responses were not the meter's. */
export function samplesOf(records: readonly ProbeRecord[]): { samples: MeterSample[]; foreign: number } {
  const samples: MeterSample[] = [];
  let foreign = 0;
  for (const r of records) {
    if (r.error !== null) continue;
    const s = sampleOf(r.t, r.headers);
    if (s === undefined) foreign++;
    else samples.push(s);
  }
  return { samples, foreign };
}

/** What a measurement produced, and what the exit status says about it. */
export interface MeasureOutcome {
  readonly report: MeasureReport;
  readonly summary: ProbeSummary;
  /** Answered responses without the meter's headers. */
  readonly foreign: number;
  /** Why nothing trustworthy was measured (exit 2), if so. */
  readonly unmeasured?: string;
  /** The meter's preStop wait, seconds (from its header), when seen. */
  readonly waitSeconds?: number;
}

/** Exit status: 2 could not measure, 1 the load balancer dropped requests, 0 measured. */
export function exitStatus(o: MeasureOutcome): number {
  if (o.unmeasured !== undefined) return 2;
  return o.summary.failed > 0 ? 1 : 0;
}

/** Why the measurement cannot be trusted, or undefined. */
export function unmeasuredReason(
  summary: ProbeSummary, samples: readonly MeterSample[], foreign: number, minTerminations: number, report: MeasureReport,
): string | undefined {
  if (summary.ok === 0) return `nothing answered: ${summary.total} request(s), none succeeded`;
  if (samples.length === 0) return `${foreign} response(s) without the lag meter's headers (${METER_HEADERS.pod}): is the URL the meter's?`;
  if (foreign > 0) return `${foreign} of ${foreign + samples.length} responses lack the lag meter's headers: something else answers at this URL`;
  if (report.deregistration.observed < minTerminations) {
    return `${report.deregistration.observed} pod termination(s) seen, fewer than the ${minTerminations} asked for: restart the meter (--restart) or raise the rate`;
  }
  return undefined;
}

export interface ClusterMeasureOptions {
  readonly url: string;
  /** Requests per second, Poisson arrivals. */
  readonly rate: number;
  readonly host?: string;
  readonly timeoutMs?: number;
  readonly ca?: Buffer;
  readonly insecure?: boolean;
  readonly provider?: LbProfileId;
  /** A command that restarts the meter (run with /bin/sh -c), `restarts` times. */
  readonly restartCommand?: string;
  readonly restarts: number;
  /** Fewest pod terminations that make a measurement. */
  readonly minTerminations: number;
  /** Load before the first restart, ms. */
  readonly warmupMs?: number;
  /** Give up after this long, ms. */
  readonly maxDurationMs: number;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
  readonly out?: string;
}

/** Runs `command` with /bin/sh -c (the user's own command); resolves with its exit code. */
function runCommand(command: string, log: (line: string) => void): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
    const relay = (d: Buffer) => d.toString().split('\n').filter((l) => l !== '').forEach((l) => log(`  | ${l}`));
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    child.on('error', () => resolve(127));
    child.on('close', (code) => resolve(code ?? 1));
  });
}

/**
 * Whether every pod seen terminating is done: its wait is over, or no request has reached it for
 * `quietMs` while the load ran (the load balancer has let it go).
 */
export function terminationsSettled(samples: readonly MeterSample[], nowMs: number, quietMs: number): { settled: boolean; terminating: number } {
  const last = new Map<string, MeterSample>();
  for (const s of samples) if (s.sincePrestopMs !== undefined && (last.get(s.pod)?.t ?? -Infinity) <= s.t) last.set(s.pod, s);
  let settled = true;
  for (const s of last.values()) {
    const waitOver = s.waitMs !== undefined && s.sincePrestopMs! + (nowMs - s.t) >= s.waitMs;
    if (!waitOver && nowMs - s.t < quietMs) settled = false;
  }
  return { settled, terminating: last.size };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

/** Load through the URL, the restarts, then load until every termination seen is over. */
export async function measureCluster(o: ClusterMeasureOptions): Promise<MeasureOutcome> {
  const log = o.log ?? (() => undefined);
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  o.signal?.addEventListener('abort', onAbort);
  const start = performance.now();
  const live: MeterSample[] = [];
  const probe = runProbe({
    url: o.url,
    rate: o.rate,
    arrivals: 'poisson',
    host: o.host,
    timeoutMs: o.timeoutMs,
    ca: o.ca,
    insecure: o.insecure,
    captureHeaders: CAPTURED_HEADERS,
    signal: stop.signal,
    timeOrigin: start,
    out: o.out,
    onRecord: (r) => { const s = r.error === null ? sampleOf(r.t, r.headers) : undefined; if (s) live.push(s); },
  });
  probe.catch(() => undefined);
  const deadline = setTimeout(() => { log('maximum duration reached'); stop.abort(); }, o.maxDurationMs);
  try {
    await sleep(o.warmupMs ?? 10_000, stop.signal);
    for (let i = 0; i < o.restarts && o.restartCommand !== undefined && !stop.signal.aborted; i++) {
      log(`restart ${i + 1} of ${o.restarts}: ${o.restartCommand}`);
      const code = await runCommand(o.restartCommand, log);
      if (code !== 0) throw new MeasureError(`the restart command exited with ${code}: ${o.restartCommand}`);
    }
    if (o.restartCommand === undefined) log(`restart the meter now (${o.restarts} time(s)); measuring until ${o.minTerminations} termination(s) are over`);
    // After the restart commands, a pod not yet seen terminating will not be: wait one meter wait at most.
    const restartsDone = performance.now();
    while (!stop.signal.aborted) {
      const gap = meanGapMs(live) ?? 1000;
      const { settled, terminating } = terminationsSettled(live, performance.now() - start, Math.max(10_000, 20 * gap));
      if (settled && terminating >= o.minTerminations) break;
      const waitMs = live.find((s) => s.waitMs !== undefined)?.waitMs ?? 180_000;
      if (settled && o.restartCommand !== undefined && performance.now() - restartsDone > waitMs + 30_000) break;
      await sleep(1000, stop.signal);
    }
  } finally {
    clearTimeout(deadline);
    stop.abort();
    o.signal?.removeEventListener('abort', onAbort);
  }
  const { summary, records } = await probe;
  const { samples, foreign } = samplesOf(records);
  const report = analyze(samples, { msPerSecond: 1000, provider: o.provider });
  const waitMs = samples.find((s) => s.waitMs !== undefined)?.waitMs;
  const unmeasured = unmeasuredReason(summary, samples, foreign, o.minTerminations, report);
  return { report, summary, foreign, unmeasured, waitSeconds: waitMs === undefined ? undefined : waitMs / 1000 };
}

/** The two limits every measurement has, stated with its numbers. */
export function limitsText(waitSeconds: number | undefined, report: MeasureReport): string[] {
  const atLeast = report.deregistration.pods.filter((p) => p.atLeastWait);
  return [
    'limits:',
    '  - D is measured from the preStop hook, not from the deletion: the kubelet calls the hook once it has seen the deletion '
    + '(usually well under a second, a few seconds on a busy node). The preStop wait starts at the same hook, so D from the hook is '
    + 'what the wait must cover; the suggested safetyMargin covers the hook coming later on another pod.',
    atLeast.length > 0
      ? `  - ${atLeast.length} pod(s) still received requests when the meter's ${waitSeconds ?? '?'} s wait ended: their D is at least the wait (shown as ">="). `
        + 'Deploy the meter with a longer wait (--wait) and measure again.'
      : `  - a pod still receiving requests when the meter's wait (${waitSeconds ?? '?'} s) ends would only show D >= the wait; none did.`,
  ];
}

/** How to turn the provider's readiness gate on with this library. */
const GATE_HOW: { readonly [id in LbProfileId]: string } = {
  'alibaba-alb': 'LoadBalancer.alibabaAlb({ directAccess: true, readinessGate: true })',
  'tencent-clb': 'on by default: with directAccess (the default) TKE injects it',
  'aws-alb': 'LoadBalancer.awsAlb({ readinessGateNamespaceLabelled: true }) in a namespace labelled elbv2.k8s.aws/pod-readiness-gate-inject=enabled',
  'gke-ingress': 'on by default: GKE injects it for NEG-backed Services',
};

function figureLine(label: string, f: MeasureReport['deregistration']): string {
  const s = (x: number | null) => (x === null ? '-' : `${x.toFixed(2)} s`);
  return `${label}: ${f.observed} observed, max ${s(f.maxSeconds)}, p50 ${s(f.p50Seconds)}, p95 ${s(f.p95Seconds)} (resolution ${s(f.resolutionSeconds)})`;
}

/** The human-readable report (seconds; model seconds for a rehearsal, which the CLI says above it). */
export function formatReport(outcome: MeasureOutcome, provider: LbProfileId | undefined): string {
  const { report } = outcome;
  const lines: string[] = ['per pod (deregistration: last request after /prestop; registration: first request after the readiness probe passed):'];
  const pods = new Set([...report.deregistration.pods.map((p) => p.pod), ...report.registration.pods.map((p) => p.pod)]);
  for (const pod of pods) {
    const d = report.deregistration.pods.find((p) => p.pod === pod);
    const r = report.registration.pods.find((p) => p.pod === pod);
    lines.push(`  ${pod.padEnd(32)} D ${d === undefined ? '-' : `${d.atLeastWait ? '>=' : ''}${d.seconds.toFixed(2)} s`}   registration ${r === undefined ? '-' : `${r.seconds.toFixed(2)} s`}`);
  }
  lines.push(figureLine('deregistration', report.deregistration), figureLine('registration', report.registration));
  lines.push('  (resolution: 99.9 % of gaps between requests reaching one pod are shorter: D can read up to that much short, registration that much long)');
  const sg = report.suggested;
  lines.push('suggested props:');
  lines.push(`  shutdown: { deregistrationDelay: Duration.seconds(${sg.deregistrationDelaySeconds ?? '?'}), safetyMargin: Duration.seconds(${sg.safetyMarginSeconds ?? '?'}) }`);
  if (sg.readinessGate !== null && provider !== undefined) {
    lines.push(`  launch: the provider's readiness gate (${sg.readinessGate}) waits for the load balancer: ${GATE_HOW[provider]}; without it, minReadySeconds ${sg.minReadySeconds ?? '?'}`);
  } else {
    lines.push(`  launch: minReadySeconds ${sg.minReadySeconds ?? '?'}, or the provider's readiness gate`);
  }
  if (provider !== undefined && report.deregistration.maxSeconds !== null) {
    const dflt = libraryDefaultSeconds(provider);
    if (report.deregistration.maxSeconds > dflt) {
      lines.push(`WARNING: the measured max D ${report.deregistration.maxSeconds.toFixed(2)} s exceeds the library's default for ${provider} (${dflt} s): declare shutdown.deregistrationDelay`);
    }
  }
  lines.push(...limitsText(outcome.waitSeconds, report));
  if (outcome.summary.failed > 0) lines.push(`the load balancer dropped ${outcome.summary.failed} of ${outcome.summary.total} requests during the measurement`);
  if (outcome.unmeasured !== undefined) lines.push(`could not measure: ${outcome.unmeasured}`);
  return lines.join('\n');
}
