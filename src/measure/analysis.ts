/**
 * What the lag meter's headers say: per pod, the last request that reached it after its preStop
 * hook (its observed deregistration delay D) and the first request through the load balancer after
 * its readiness probe passed (its observed registration delay); over all pods, count, max, p50,
 * p95, the resolution, and the props to paste.
 *
 * Every figure comes from the meter's own clock (durations it measured itself), so the client's
 * clock never needs to agree with the pod's. `msPerSecond` converts the meter's milliseconds into
 * the seconds reported: 1000 on a real cluster, 1000 x time scale in a rehearsal (model seconds).
 */
import { Duration } from 'cdk8s';
import { deriveShutdownBudget } from '../budget';
import { METER_HEADERS } from '../lag-meter';
import { defaultLoadBalancer } from './meter-manifest';
import { LB_PROFILES, LbProfileId } from '../rehearse/lb-profiles';

/** One answered request, as `measure` keeps it. */
export interface MeterSample {
  /** When the request was sent, client ms since the measurement started. */
  readonly t: number;
  readonly pod: string;
  readonly sincePrestopMs?: number;
  readonly sinceReadyMs?: number;
  readonly waitMs?: number;
}

/** One pod's figure. */
export interface PodFigure {
  readonly pod: string;
  readonly seconds: number;
  /** Deregistration: the pod still received requests when its wait ended (within the resolution), so D is at least the wait. */
  readonly atLeastWait: boolean;
}

/** One figure over all pods: the stable JSON shape. */
export interface FigureSummary {
  readonly observed: number;
  readonly maxSeconds: number | null;
  readonly p50Seconds: number | null;
  readonly p95Seconds: number | null;
  /** The gap between requests reaching one pod, at this rate: figures are this precise (see `resolutionNote`). */
  readonly resolutionSeconds: number | null;
  readonly pods: PodFigure[];
}

export interface Suggested {
  readonly deregistrationDelaySeconds: number | null;
  readonly safetyMarginSeconds: number | null;
  /** Without a readiness gate: hold new pods un-Available this long. */
  readonly minReadySeconds: number | null;
  /** The provider's readiness gate, which waits for the LB instead of a fixed time (null: unknown provider). */
  readonly readinessGate: string | null;
}

export interface MeasureReport {
  readonly deregistration: FigureSummary;
  readonly registration: FigureSummary;
  readonly suggested: Suggested;
}

/**
 * Per-pod gaps are Poisson-like: 99.9 % of gaps between requests reaching one pod are shorter than
 * ln(1000) mean gaps (an exponential bound; round-robin makes gaps more regular, not less).
 */
export const RESOLUTION_GAPS = Math.log(1000);

/** A sample from a response's captured headers; undefined when the response is not the meter's. */
export function sampleOf(t: number, headers: { readonly [name: string]: string } | undefined): MeterSample | undefined {
  const pod = headers?.[METER_HEADERS.pod];
  if (pod === undefined) return undefined;
  const num = (name: string) => {
    const v = headers?.[name];
    return v === undefined || !Number.isFinite(Number(v)) ? undefined : Number(v);
  };
  return {
    t, pod, sincePrestopMs: num(METER_HEADERS.sincePrestopMs), sinceReadyMs: num(METER_HEADERS.sinceReadyMs), waitMs: num(METER_HEADERS.waitMs),
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Mean gap between requests reaching one pod, client ms (undefined with too few samples). */
export function meanGapMs(samples: readonly MeterSample[]): number | undefined {
  const byPod = groupByPod(samples);
  let span = 0;
  let gaps = 0;
  for (const list of byPod.values()) {
    if (list.length < 2) continue;
    span += list[list.length - 1].t - list[0].t;
    gaps += list.length - 1;
  }
  return gaps === 0 ? undefined : span / gaps;
}

function groupByPod(samples: readonly MeterSample[]): Map<string, MeterSample[]> {
  const byPod = new Map<string, MeterSample[]>();
  for (const s of [...samples].sort((a, b) => a.t - b.t)) {
    const list = byPod.get(s.pod) ?? [];
    list.push(s);
    byPod.set(s.pod, list);
  }
  return byPod;
}

function summary(figures: PodFigure[], resolution: number | null): FigureSummary {
  const sorted = figures.map((f) => f.seconds).sort((a, b) => a - b);
  return {
    observed: figures.length,
    maxSeconds: sorted.length > 0 ? sorted[sorted.length - 1] : null,
    p50Seconds: percentile(sorted, 50),
    p95Seconds: percentile(sorted, 95),
    resolutionSeconds: resolution,
    pods: figures,
  };
}

/**
 * The report. `msPerSecond`: real ms per reported second (1000, or 1000 x time scale in a
 * rehearsal); the client's and the meter's ms are both real ms.
 */
export function analyze(samples: readonly MeterSample[], o: { msPerSecond: number; provider?: LbProfileId }): MeasureReport {
  const gap = meanGapMs(samples);
  const resolution = gap === undefined ? null : round3((gap * RESOLUTION_GAPS) / o.msPerSecond);
  const deregistration: PodFigure[] = [];
  const registration: PodFigure[] = [];
  for (const [pod, list] of groupByPod(samples)) {
    const after = list.filter((s) => s.sincePrestopMs !== undefined);
    if (after.length > 0) {
      const last = Math.max(...after.map((s) => s.sincePrestopMs!));
      const wait = after[0].waitMs;
      // Still reached within one resolution of the wait's end: the load balancer had not let it go yet.
      const stillIn = wait !== undefined && last + (gap ?? 0) * RESOLUTION_GAPS >= wait;
      deregistration.push({ pod, seconds: round3(last / o.msPerSecond), atLeastWait: stillIn });
    }
    // The first request after readiness, for pods that turned ready while the load ran.
    const first = list.find((s) => s.sinceReadyMs !== undefined);
    if (first !== undefined && first.t >= first.sinceReadyMs!) {
      registration.push({ pod, seconds: round3(first.sinceReadyMs! / o.msPerSecond), atLeastWait: false });
    }
  }
  const dereg = summary(deregistration, resolution);
  const reg = summary(registration, resolution);
  return { deregistration: dereg, registration: reg, suggested: suggest(dereg, reg, o.provider) };
}

/** The props to paste: D covers the largest observed delay plus the resolution; M as the library derives it. */
export function suggest(dereg: FigureSummary, reg: FigureSummary, provider: LbProfileId | undefined): Suggested {
  const res = dereg.resolutionSeconds ?? 0;
  const d = dereg.maxSeconds === null ? null : Math.ceil(dereg.maxSeconds + res);
  const m = d === null ? null : deriveShutdownBudget({ deregistrationDelay: Duration.seconds(d) }).safetyMarginSeconds;
  const minReady = reg.maxSeconds === null ? null : Math.ceil(reg.maxSeconds + (reg.resolutionSeconds ?? 0));
  const gate = provider === undefined ? null : LB_PROFILES[provider].readinessGatePrefixes[0] ?? null;
  return { deregistrationDelaySeconds: d, safetyMarginSeconds: m, minReadySeconds: minReady, readinessGate: gate };
}

/** The library's default D for the provider, in seconds. */
export function libraryDefaultSeconds(provider: LbProfileId): number {
  return defaultLoadBalancer(provider).defaultDeregistrationDelay.toSeconds();
}
