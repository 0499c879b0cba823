/**
 * The rehearsal's record: per-pod timelines, per-second series and the assumptions it ran under,
 * and their text forms.
 */
import { ProbeRecord } from '../probe/probe';
import { ExitInfo } from '../process/procs';

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

/** What happened to one pod, in real times (performance.now() ms), as the simulated cluster records it. */
export interface PodRecord {
  readonly name: string;
  readonly revision: number;
  readonly address: string;
  readonly process?: { readonly pid: number; readonly port: number };
  readonly started: number;
  readonly containersReadyAt?: number;
  readonly inLbAt?: number;
  readonly readyAt?: number;
  readonly availableAt?: number;
  readonly deletedAt?: number;
  /** Model seconds. */
  readonly lag?: number;
  /** Model seconds. */
  readonly registrationDelay?: number;
  readonly deregisteredAt?: number;
  readonly preStopStartedAt?: number;
  readonly preStopEndedAt?: number;
  readonly stopSignalAt?: number;
  readonly sigkillAt?: number;
  readonly exitedAt?: number;
  readonly exit?: ExitInfo;
  readonly cleanedUp: boolean;
}

/**
 * The timelines of `pods` in model seconds: `toModel` converts a real time to model seconds since
 * the first rollout started. A pod killed by the rig's cleanup reports no exit.
 */
export function podTimelines(pods: readonly PodRecord[], toModel: (real: number) => number, scale: number, stopSignal: string): PodTimeline[] {
  const model = (x: number | undefined) => (x === undefined ? undefined : round3(toModel(x)));
  const seconds = (x: number | undefined) => (x === undefined ? undefined : round3(x));
  return pods.map((p): PodTimeline => ({
    name: p.name,
    revision: p.revision,
    address: p.address,
    port: p.process?.port,
    pid: p.process?.pid,
    started: round3(toModel(p.started)),
    containersReady: model(p.containersReadyAt),
    inLoadBalancer: model(p.inLbAt),
    ready: model(p.readyAt),
    available: model(p.availableAt),
    deleted: model(p.deletedAt),
    deregistrationLag: seconds(p.lag),
    registrationDelay: seconds(p.registrationDelay),
    deregistered: model(p.deregisteredAt),
    preStopStarted: model(p.preStopStartedAt),
    preStopEnded: model(p.preStopEndedAt),
    stopSignalSent: model(p.stopSignalAt),
    stopSignal: p.stopSignalAt === undefined ? undefined : stopSignal,
    sigkill: model(p.sigkillAt),
    exited: p.cleanedUp ? undefined : model(p.exitedAt),
    exitCode: p.cleanedUp ? undefined : p.exit?.code,
    exitSignal: p.cleanedUp ? undefined : p.exit?.signal,
    terminationSeconds: !p.cleanedUp && p.deletedAt !== undefined && p.exitedAt !== undefined
      ? round3((p.exitedAt - p.deletedAt) / 1000 / scale) : undefined,
    cleanedUp: p.cleanedUp,
  }));
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
