/**
 * `measure --rehearse`: the rehearsal runs the lag meter as its pods (their preStop hook is the
 * meter's httpGet, which the rehearsal's kubelet sends to the pod), HAProxy stands in for the load
 * balancer with lags drawn from a profile, and the measurement reads the meter's headers from the
 * rehearsal's own Poisson load, in model seconds. The rehearsal's record of the lags it drew is the
 * truth a measurement can be compared with; the measurement never sees it.
 */
import { analyze, MeasureReport } from './analysis';
import { CAPTURED_HEADERS, MeasureError, MeasureOutcome, samplesOf, unmeasuredReason } from './measure';
import { lagMeterManifest } from './meter-manifest';
import { METER_SERVER_FILE } from '../lag-meter';
import { ManifestInput } from '../manifests/topology';
import { serverCommandSpec } from '../process/server-command';
import { DelayDistribution, LbProfileId } from '../rehearse/lb-profiles';
import { runRehearsal } from '../rehearse/rehearse';
import { readRehearsalManifest } from '../rehearse/rehearse-manifest';

export interface RehearsalMeasureOptions {
  /** The meter's manifest; default: the LagMeter construct's for `provider`. */
  readonly inputs?: readonly ManifestInput[];
  readonly provider: LbProfileId;
  readonly lag?: DelayDistribution;
  readonly registration?: DelayDistribution;
  readonly timeScale: number;
  /** Requests per model second. */
  readonly rate: number;
  readonly rollouts: number;
  readonly seed?: number;
  readonly minTerminations: number;
  /** The meter's server file (default: the shipped one). */
  readonly meterFile?: string;
  readonly haproxyPath?: string;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
  readonly maxWallSeconds?: number;
}

/** One pod's truth, as the rehearsal drew it (model seconds). */
export interface PodTruth {
  readonly pod: string;
  readonly deregistrationLag?: number;
  readonly registrationDelay?: number;
}

export interface RehearsalMeasureOutcome extends MeasureOutcome {
  /** The rehearsal's own record: what it drew per pod. */
  readonly truth: PodTruth[];
  readonly timeScale: number;
  /** Model seconds the load ran. */
  readonly modelSeconds: number;
}

function envOf(podSpec: Record<string, any>, name: string): string | undefined {
  const env: unknown[] = Array.isArray(podSpec.containers?.[0]?.env) ? podSpec.containers[0].env : [];
  const found = env.find((e) => (e as { name?: string })?.name === name) as { value?: unknown } | undefined;
  return typeof found?.value === 'string' ? found.value : undefined;
}

/** Rehearse the meter's manifest and measure it. */
export async function measureRehearsal(o: RehearsalMeasureOptions): Promise<RehearsalMeasureOutcome> {
  const inputs = o.inputs ?? [{ file: `<lag meter for ${o.provider}>`, text: lagMeterManifest({ provider: o.provider }) }];
  const manifest = readRehearsalManifest(inputs, { lb: o.provider });
  const spec = manifest.spec;
  if (spec.preStop?.kind !== 'httpGet' || spec.preStop.path !== '/prestop') {
    throw new MeasureError(`${manifest.location}: Deployment ${spec.name} is not a lag meter (its preStop hook is not an httpGet to /prestop): `
      + 'measure --rehearse rehearses the meter\'s manifest (lag-meter manifest, or the LagMeter construct)');
  }
  const scale = o.timeScale;
  const wait = Number(envOf(spec.podSpec, 'METER_WAIT_SECONDS') ?? 180);
  // The rehearsal's kubelet runs no startup probe: Ready after the readiness probe's successThreshold.
  const readyAfter = String(spec.readinessProbe?.successThreshold ?? 1);
  const readinessPath = spec.readinessProbe?.path ?? '/ready';
  // The meter runs in real time: its wait is scaled here, its headers are scaled back by the analysis.
  const appCommand = serverCommandSpec([process.execPath, o.meterFile ?? METER_SERVER_FILE, '--host', '{host}', '--port', '{port}', '--name', '{name}',
    '--wait', String(wait * scale), '--readiness-path', readinessPath, '--ready-after', readyAfter]);
  const result = await runRehearsal({
    manifest: spec,
    context: manifest.context,
    provider: o.provider,
    lag: o.lag,
    registrationReconcile: o.registration,
    timeScale: scale,
    rate: o.rate,
    arrivals: 'poisson',
    appCommand,
    captureHeaders: CAPTURED_HEADERS,
    rollouts: o.rollouts,
    seed: o.seed,
    haproxyPath: o.haproxyPath,
    signal: o.signal,
    log: o.log,
    maxWallSeconds: o.maxWallSeconds,
  });
  const { samples, foreign } = samplesOf(result.records);
  const report: MeasureReport = analyze(samples, { msPerSecond: 1000 * scale, provider: o.provider });
  const truth = result.pods.map((p) => ({ pod: p.name, deregistrationLag: p.deregistrationLag, registrationDelay: p.registrationDelay }));
  return {
    report,
    summary: result.summary,
    foreign,
    unmeasured: unmeasuredReason(result.summary, samples, foreign, o.minTerminations, report),
    waitSeconds: wait,
    truth,
    timeScale: scale,
    modelSeconds: result.summary.durationMs / 1000 / scale,
  };
}
