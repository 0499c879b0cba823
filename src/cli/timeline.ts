/**
 * The rehearsal's record: per-pod timelines, per-second series and the assumptions it ran under,
 * and their text forms.
 */
import { ProbeRecord } from './probe';

/** Per-pod timeline, model seconds since the first rollout started (initial pods start before 0). */
export interface PodTimeline {
  readonly name: string;
  readonly revision: number;
  readonly address: string;
  readonly port?: number;
  readonly pid?: number;
  readonly started: number;
  /** The app answered its readiness probe. */
  readonly containersReady?: number;
  /** The LB routes to it (registration + health checks done). */
  readonly inLoadBalancer?: number;
  /** Pod Ready (after the readiness gate, if any). */
  readonly ready?: number;
  readonly available?: number;
  readonly deleted?: number;
  /** Drawn deregistration lag for this pod (model s). */
  readonly deregistrationLag?: number;
  /** Drawn registration delay (reconcile + health checks), model s. */
  readonly registrationDelay?: number;
  readonly deregistered?: number;
  readonly preStopStarted?: number;
  readonly preStopEnded?: number;
  /** When the stop signal was sent, and which. */
  readonly stopSignalSent?: number;
  readonly stopSignal?: string;
  readonly sigkill?: number;
  readonly exited?: number;
  readonly exitCode?: number | null;
  readonly exitSignal?: string | null;
  /** exited - deleted (model s). */
  readonly terminationSeconds?: number;
  /** Still running when the rehearsal ended (pods of the last revision): killed by the rig's cleanup. */
  readonly cleanedUp: boolean;
}

export interface SeriesPoint {
  /** Model second since the first rollout started (bin start). */
  readonly t: number;
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
}

/** What the run assumed, printed before it starts and kept in the result. */
export interface Assumptions {
  readonly deployment: string;
  readonly provider: string;
  readonly deregistrationLag: string;
  readonly declaredDeregistrationDelay: string;
  readonly registration: string;
  readonly readinessGate: string;
  readonly minReadySeconds: number;
  readonly lbIdleTimeoutSeconds: number;
  readonly app: string;
  readonly appKeepAliveSeconds: number | null;
  readonly stopSignal: string;
  readonly preStop: string;
  readonly terminationGracePeriodSeconds: number;
  readonly timeScale: number;
  readonly rate: string;
  readonly warnings: readonly string[];
}

export function formatAssumptions(a: Assumptions): string {
  const rows: Array<[string, string]> = [
    ['deployment', a.deployment],
    ['load balancer', a.provider],
    ['deregistration lag', `${a.deregistrationLag} (manifest declares D = ${a.declaredDeregistrationDelay})`],
    ['registration', a.registration],
    ['readiness gate', a.readinessGate],
    ['minReadySeconds', String(a.minReadySeconds)],
    ['LB idle timeout', `${a.lbIdleTimeoutSeconds} s`],
    ['app', `${a.app}${a.appKeepAliveSeconds === null ? '' : `, keep-alive idle timeout ${a.appKeepAliveSeconds} s`}`],
    ['stop signal', a.stopSignal],
    ['preStop', a.preStop],
    ['grace period', `${a.terminationGracePeriodSeconds} s`],
    ['time scale', `${a.timeScale} (every duration above is in model seconds)`],
    ['probe rate', a.rate],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    'assumptions:',
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    ...a.warnings.map((w) => `  warning: ${w}`),
  ].join('\n');
}

/** Bin records by model second since the rollout start (`offset` = model time of the probe origin). */
export function toSeries(records: readonly ProbeRecord[], offset: number, scale: number): SeriesPoint[] {
  const bins = new Map<number, { sent: number; ok: number; failed: number }>();
  for (const r of records) {
    const t = Math.floor(offset + r.t / 1000 / scale);
    const b = bins.get(t) ?? { sent: 0, ok: 0, failed: 0 };
    b.sent++;
    if (r.error === null) b.ok++;
    else b.failed++;
    bins.set(t, b);
  }
  return [...bins.entries()].sort(([a], [b]) => a - b).map(([t, b]) => ({ t, ...b }));
}

/** Human-readable per-pod timeline. */
export function formatTimeline(pods: readonly PodTimeline[]): string {
  const f = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(2));
  const header = ['pod', 'rev', 'started', 'in LB', 'ready', 'deleted', 'lag', 'deregistered', 'preStop end', 'stop signal', 'exited', 'SIGKILL', 'termination'];
  const rows = pods.map((p) => [
    p.name, String(p.revision), f(p.started), f(p.inLoadBalancer), f(p.ready), f(p.deleted), f(p.deregistrationLag), f(p.deregistered),
    f(p.preStopEnded), p.stopSignalSent === undefined ? '-' : `${f(p.stopSignalSent)} ${p.stopSignal ?? ''}`.trim(),
    p.cleanedUp ? '(running)' : `${f(p.exited)}${p.exitSignal ? ` ${p.exitSignal}` : p.exitCode !== undefined && p.exitCode !== null ? ` code ${p.exitCode}` : ''}`,
    f(p.sigkill), f(p.terminationSeconds),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [
    'per-pod timeline (model seconds since the rollout started; termination = exited - deleted):',
    line(header),
    ...rows.map(line),
  ].join('\n');
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
