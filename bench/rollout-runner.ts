/**
 * The rollout benchmark's machinery, shared by `bench/rollout.ts` (full run, writes the docs) and
 * the reduced shape test in the suite.
 *
 * Inputs are generated from the current commit: every example chart under examples/ is synthesized
 * into a scratch directory (nothing is read from dist/), its provider detected from its Ingress, and
 * the variants are derived from that output with the library's own ShutdownBudget.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Chart, Duration } from 'cdk8s';
import { Document, parseAllDocuments } from 'yaml';
import { ShutdownBudget } from '../src/budget';
import {
  DEREGISTRATION_DELAY_ANNOTATION, DRAIN_TIMEOUT_ANNOTATION, DRAINS_ON_STOP_SIGNAL_ANNOTATION, SAFETY_MARGIN_ANNOTATION,
} from '../src/budget-annotations';
import { SigtermMode } from '../src/demo-app/demo-app';
import { Arrivals } from '../src/probe/probe';
import { DelayDistribution, fixedDelay, LB_PROFILES, LbProfileId } from '../src/rehearse/lb-profiles';
import { RehearsalResult, runRehearsal } from '../src/rehearse/rehearse';
import { readRehearsalManifest, RehearsalManifest } from '../src/rehearse/rehearse-manifest';

export const ROOT = path.resolve(__dirname, '..');
/** Longest request the demo app serves (model ms). */
export const MAX_LATENCY_MS = 2000;

export interface SynthesizedExample {
  readonly name: string;
  readonly file: string;
  readonly text: string;
  readonly sha256: string;
  readonly provider: LbProfileId;
  readonly providerReason: string;
  readonly d: number;
  readonly s: number;
  readonly m: number;
  readonly drains: boolean;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Synthesize every chart exported by examples/*.ts (synth.ts excluded) into `dir`.
 * `only`: example file names (without .ts) to keep.
 */
export function synthesizeExamples(dir: string, only?: readonly string[]): SynthesizedExample[] {
  const examplesDir = path.join(ROOT, 'examples');
  const files = fs.readdirSync(examplesDir).filter((f) => f.endsWith('.ts') && f !== 'synth.ts').sort();
  const out: SynthesizedExample[] = [];
  for (const f of files) {
    const name = f.replace(/\.ts$/, '');
    if (only && !only.includes(name)) continue;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(examplesDir, f)) as Record<string, unknown>;
    const charts = Object.values(mod).filter((v): v is new (scope: App, id: string) => Chart =>
      typeof v === 'function' && Object.prototype.isPrototypeOf.call(Chart.prototype, (v as { prototype: object }).prototype));
    for (const ChartClass of charts) {
      const outdir = path.join(dir, 'synth', name);
      const app = new App({ outdir });
      new ChartClass(app, name);
      app.synth();
      const file = path.join(outdir, `${name}.k8s.yaml`);
      const text = fs.readFileSync(file, 'utf8');
      const manifest = readRehearsalManifest([{ file, text }]);
      const a = (key: string) => {
        const deployment = parseAllDocuments(text).map((d) => d.toJS()).find((o) => o?.kind === 'Deployment');
        return deployment?.metadata?.annotations?.[key];
      };
      out.push({
        name,
        file,
        text,
        sha256: sha256(text),
        provider: manifest.provider,
        providerReason: manifest.providerReason,
        d: Number(a(DEREGISTRATION_DELAY_ANNOTATION)),
        s: Number(a(DRAIN_TIMEOUT_ANNOTATION)),
        m: Number(a(SAFETY_MARGIN_ANNOTATION)),
        drains: a(DRAINS_ON_STOP_SIGNAL_ANNOTATION) === 'true',
      });
    }
  }
  return out;
}

type Edit = (deployment: Document) => void;

function editDeployment(text: string, edit: Edit): string {
  const docs = parseAllDocuments(text) as Document[];
  const dep = docs.find((d) => d.get('kind') === 'Deployment');
  if (!dep) throw new Error('no Deployment');
  edit(dep);
  return docs.map((d) => d.toString()).join('---\n');
}

const POD_SPEC = ['spec', 'template', 'spec'];
const LIFECYCLE = [...POD_SPEC, 'containers', 0, 'lifecycle'];

/** The derived manifest for an app that drains (or not): the example as synthesized, or re-derived by ShutdownBudget. */
export function derivedManifest(ex: SynthesizedExample, app: SigtermMode): { text: string; preStop: number; grace: number } {
  const drains = app === 'drain';
  const budget = ShutdownBudget.derive({
    deregistrationDelay: Duration.seconds(ex.d),
    drainTimeout: Duration.seconds(ex.s),
    safetyMargin: Duration.seconds(ex.m),
    drainsOnStopSignal: drains,
  });
  if (drains === ex.drains) return { text: ex.text, preStop: budget.preStopSleepSeconds, grace: budget.terminationGracePeriodSeconds };
  const text = editDeployment(ex.text, (dep) => {
    dep.setIn([...POD_SPEC, 'terminationGracePeriodSeconds'], budget.terminationGracePeriodSeconds);
    dep.setIn([...LIFECYCLE, 'preStop'], dep.createNode({ exec: { command: ['/bin/sh', '-c', `sleep ${budget.preStopSleepSeconds}`] } }));
    dep.setIn(['metadata', 'annotations', DRAINS_ON_STOP_SIGNAL_ANNOTATION], String(drains));
  });
  return { text, preStop: budget.preStopSleepSeconds, grace: budget.terminationGracePeriodSeconds };
}

/** The usual hand-written manifest: no preStop, the default grace period of 30 s (launch side as derived). */
export function naiveManifest(text: string): string {
  return editDeployment(text, (dep) => {
    dep.deleteIn(LIFECYCLE);
    dep.setIn([...POD_SPEC, 'terminationGracePeriodSeconds'], 30);
  });
}

/** The launch-side variants: `replicas` pods; naive drops minReadySeconds and readiness gates. */
export function launchManifest(text: string, replicas: number, naive: boolean): string {
  return editDeployment(text, (dep) => {
    dep.setIn(['spec', 'replicas'], replicas);
    if (naive) {
      dep.deleteIn(['spec', 'minReadySeconds']);
      dep.deleteIn([...POD_SPEC, 'readinessGates']);
    }
  });
}

export type RowKind = 'sensitivity' | 'launch' | 'keep-alive';

export interface Scenario {
  readonly kind: RowKind;
  readonly example: SynthesizedExample;
  readonly app: SigtermMode;
  readonly variant: string;
  readonly manifestText: string;
  readonly manifestSha256: string;
  /** Lag as a fraction of D (sensitivity), or undefined (profile lag). */
  readonly lagFraction?: number;
  readonly lag?: DelayDistribution;
  readonly appKeepAliveSeconds?: number;
  /** One-way LB-to-pod delay for the app's idle closes (model ms). */
  readonly networkDelayMs?: number;
  readonly rate: number;
  readonly minRequests: number;
  readonly latencyMaxMs: number;
  /** Readiness gate mode (naive launch rows switch it off). */
  readonly readinessGate?: 'auto' | 'off';
  /** Probe request spacing (keep-alive rows: Poisson, so that connections idle for irregular gaps). */
  readonly arrivals?: Arrivals;
}

export interface BenchConfig {
  readonly scale: number;
  /** Requests per model second. */
  readonly rate: number;
  readonly minRequests: number;
  readonly fractions: readonly number[];
  /** Fractions at which naive rows run too. */
  readonly naiveFractions: readonly number[];
  readonly apps: readonly SigtermMode[];
  readonly launch: boolean;
  readonly keepAlive: boolean;
  /** Keep-alive rows: requests per model second (low, so connections go idle). */
  readonly keepAliveRate: number;
  /** Keep-alive rows: the app's short idle timeout (model s) and the one-way network delay (model ms). */
  readonly keepAliveShortSeconds: number;
  readonly keepAliveNetworkDelayMs: number;
  readonly keepAliveMinRequests: number;
}

export function scenarios(examples: readonly SynthesizedExample[], c: BenchConfig): Scenario[] {
  const out: Scenario[] = [];
  for (const ex of examples) {
    for (const app of c.apps) {
      const derived = derivedManifest(ex, app);
      const naive = naiveManifest(derived.text);
      for (const fraction of c.fractions) {
        const base = { kind: 'sensitivity' as const, example: ex, app, lagFraction: fraction, lag: fixedDelay(fraction * ex.d), rate: c.rate, minRequests: c.minRequests, latencyMaxMs: MAX_LATENCY_MS };
        out.push({ ...base, variant: 'derived', manifestText: derived.text, manifestSha256: sha256(derived.text) });
        if (c.naiveFractions.includes(fraction)) out.push({ ...base, variant: 'naive', manifestText: naive, manifestSha256: sha256(naive) });
      }
    }
    const derivedDrain = derivedManifest(ex, 'drain').text;
    // Launch and keep-alive rows isolate their subject from the shutdown side. Keep-alive: the LB
    // lets old pods go at half of D. Launch: the profile's lag without its tail and capped at 0.9 D,
    // so an old pod leaves the LB as early as the provider lets it, never later than the preStop.
    const safeLag = fixedDelay(0.5 * ex.d);
    const profileLag = LB_PROFILES[ex.provider].deregistrationLag;
    const launchLag: DelayDistribution = {
      minSeconds: Math.min(profileLag.minSeconds, 0.9 * ex.d),
      typicalSeconds: Math.min(profileLag.typicalSeconds, 0.9 * ex.d),
      tailProbability: 0,
      tailMaxSeconds: Math.min(profileLag.typicalSeconds, 0.9 * ex.d),
    };
    if (c.launch) {
      const launches = [['naive launch', launchManifest(derivedDrain, 1, true), 'off'], ['derived', launchManifest(derivedDrain, 1, false), 'auto']] as const;
      for (const [variant, text, readinessGate] of launches) {
        out.push({
          kind: 'launch',
          example: ex,
          app: 'drain',
          variant,
          manifestText: text,
          manifestSha256: sha256(text),
          rate: c.rate,
          lag: launchLag,
          minRequests: c.minRequests,
          latencyMaxMs: MAX_LATENCY_MS,
          readinessGate,
        });
      }
    }
    if (c.keepAlive) {
      const idle = LB_PROFILES[ex.provider].idleTimeoutSeconds;
      const short = c.keepAliveShortSeconds;
      for (const [variant, keepAlive] of [[`app idle ${short} s < LB ${idle} s`, short], [`app idle ${idle + 5} s > LB ${idle} s`, idle + 5]] as const) {
        out.push({
          kind: 'keep-alive',
          example: ex,
          app: 'drain',
          variant,
          manifestText: derivedDrain,
          manifestSha256: sha256(derivedDrain),
          lag: safeLag,
          appKeepAliveSeconds: keepAlive,
          networkDelayMs: c.keepAliveNetworkDelayMs,
          rate: c.keepAliveRate,
          minRequests: c.keepAliveMinRequests,
          latencyMaxMs: 100,
          arrivals: 'poisson',
        });
      }
    }
  }
  return out;
}

export interface Row {
  readonly kind: RowKind;
  readonly example: string;
  readonly provider: LbProfileId;
  readonly app: SigtermMode;
  readonly variant: string;
  readonly manifestSha256: string;
  readonly d: number;
  readonly lagFraction: number | null;
  readonly lag: string;
  readonly preStop: string;
  readonly grace: number;
  readonly replicas: number;
  readonly minReadySeconds: number;
  readonly readinessGate: string | null;
  readonly appKeepAliveSeconds: number | null;
  readonly lbIdleTimeoutSeconds: number;
  readonly rollouts: number;
  readonly requests: number;
  readonly failed: number;
  readonly failurePercent: number;
  readonly byError: Record<string, number>;
  readonly podsGoneBeforeDeregistration: number;
  readonly podsTerminated: number;
  readonly sigkills: number;
  readonly wallSeconds: number;
  readonly timeScale: number;
  readonly series: RehearsalResult['series'];
  readonly rolloutStarts: number[];
}

/**
 * The time scale of an example's rows: the configured one, smaller for long deregistration delays so
 * that D never takes more than 10 x the configured scale in real seconds (a row's wall time stays
 * bounded); the probe rate per model second shrinks with it, so the real rate is the same.
 */
export function scaleFor(ex: SynthesizedExample, c: BenchConfig): { scale: number; rateFactor: number } {
  const scale = Math.min(c.scale, (c.scale * 10) / Math.max(ex.d, 1));
  return { scale, rateFactor: scale / c.scale };
}

export async function runScenario(sc: Scenario, c: BenchConfig, seed: number, signal?: AbortSignal): Promise<Row> {
  // Keep-alive rows race real milliseconds (the app's idle close against the LB's reuse): they run
  // at the configured scale for every example, so the race window means the same thing everywhere.
  const { scale, rateFactor } = sc.kind === 'keep-alive' ? { scale: c.scale, rateFactor: 1 } : scaleFor(sc.example, c);
  const manifest: RehearsalManifest = readRehearsalManifest([{ file: `${sc.example.name}.k8s.yaml`, text: sc.manifestText }]);
  const r = await runRehearsal({
    manifest: manifest.spec,
    context: manifest.context,
    provider: manifest.provider,
    lag: sc.lag,
    appMode: sc.app,
    appKeepAliveSeconds: sc.appKeepAliveSeconds,
    networkDelayMs: sc.networkDelayMs,
    readinessGate: sc.readinessGate ?? 'auto',
    timeScale: scale,
    appLatency: { minMs: 0, maxMs: sc.latencyMaxMs },
    rate: sc.rate * rateFactor,
    arrivals: sc.arrivals,
    minRequests: sc.minRequests,
    seed,
    maxWallSeconds: 600,
    signal,
  });
  const old = r.pods.filter((p) => p.terminationSeconds !== undefined);
  return {
    kind: sc.kind,
    example: sc.example.name,
    provider: sc.example.provider,
    app: sc.app,
    variant: sc.variant,
    manifestSha256: sc.manifestSha256,
    d: sc.example.d,
    lagFraction: sc.lagFraction ?? null,
    lag: r.assumptions.deregistrationLag,
    preStop: r.assumptions.preStop,
    grace: r.deployment.terminationGracePeriodSeconds,
    replicas: r.deployment.replicas,
    minReadySeconds: r.deployment.minReadySeconds,
    readinessGate: r.params.readinessGate,
    appKeepAliveSeconds: r.params.appKeepAliveSeconds,
    lbIdleTimeoutSeconds: r.params.lbIdleTimeoutSeconds,
    rollouts: r.rolloutStarts.length,
    requests: r.summary.total,
    failed: r.summary.failed,
    failurePercent: (100 * r.summary.failed) / Math.max(1, r.summary.total),
    byError: Object.fromEntries(Object.entries(r.summary.byError).filter(([, v]) => v > 0)),
    podsGoneBeforeDeregistration: old.filter((p) => p.deregistered !== undefined && p.exited! < p.deregistered).length,
    podsTerminated: old.length,
    sigkills: old.filter((p) => p.sigkill !== undefined).length,
    wallSeconds: r.wallSeconds,
    timeScale: scale,
    series: r.series,
    rolloutStarts: r.rolloutStarts,
  };
}
