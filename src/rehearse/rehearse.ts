/**
 * `rehearse`: rolling restarts of a synthesized Deployment on one machine. This orchestrator wires
 * the parts together, runs warmup, rollouts and settle, builds the result and cleans up on every
 * path (abort and the wall-clock limit included):
 *
 * - the plan: options and manifest resolved before anything starts (rehearse-plan.ts);
 * - the pods and their lifecycle, reconciled by the Deployment controller, a pure function
 *   (simulated-cluster.ts, deployment-controller.ts);
 * - pods: real processes (the demo app, or the user's server with `--app-command`), each on its own
 *   loopback address (pod-process.ts);
 * - the cloud load balancer: HAProxy as data plane, driven by a control plane whose delays come
 *   from a provider profile, never from the manifest under test (lb-profiles.ts, lb-driver.ts);
 * - the kubelet: readiness probe, preStop (safe by default, prestop-plan.ts), stop signal, SIGKILL
 *   at the grace period (kubelet.ts);
 * - the probe sending load through HAProxy, and the record (timeline.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { findHaproxy, Haproxy } from './haproxy';
import { terminatePod, writeSleepShim } from './kubelet';
import { LbDriver } from './lb-driver';
import { DelayDistribution, HealthCheckTiming, LbProfileId, sampleDelay } from './lb-profiles';
import { probeReadiness, startPodProcess } from './pod-process';
import { RehearsalError, RehearsalInterruptedError, RehearsalPlan, RehearseOptions, resolveRehearsal, seededRandom } from './rehearse-plan';
import { ClusterEnvironment, SimulatedCluster } from './simulated-cluster';
import { formatClock, formatRehearsalProgress, rehearsalStatus } from './status';
import { Assumptions, PodTimeline, podTimelines, round3, SeriesPoint, toSeries } from './timeline';
import { LatencyRange } from '../demo-app/demo-app';
import { DeploymentSpec } from '../manifests/deployment-spec';
import { Arrivals, defaultConcurrency, ProbeProgress, ProbeRecord, ProbeSummary, runProbe, summarize } from '../probe/probe';
import { ProcessTracker } from '../process/procs';

export { kubeletRemainingGrace, writeSleepShim } from './kubelet';
export { formatTimeline, toSeries } from './timeline';
export type { PodTimeline, SeriesPoint } from './timeline';
export {
  DEFAULT_APP_KEEP_ALIVE_SECONDS, DEFAULT_NETWORK_DELAY_MS, RehearsalError, RehearsalInterruptedError, resolveRehearsal, seededRandom,
} from './rehearse-plan';
export type { RehearsalPlan, RehearseOptions } from './rehearse-plan';

export interface RehearsalResult {
  readonly assumptions: Assumptions;
  readonly deployment: {
    readonly name: string;
    readonly replicas: number;
    readonly strategy: string;
    readonly maxSurge: number;
    readonly maxUnavailable: number;
    readonly minReadySeconds: number;
    readonly terminationGracePeriodSeconds: number;
    readonly declaredDeregistrationDelaySeconds: number | null;
  };
  readonly params: {
    readonly provider: LbProfileId | null;
    readonly timeScale: number;
    readonly lag: DelayDistribution;
    readonly registrationReconcile: DelayDistribution;
    readonly healthCheck: HealthCheckTiming;
    readonly readinessGate: string | null;
    readonly lbIdleTimeoutSeconds: number;
    readonly appKeepAliveSeconds: number | null;
    readonly appLatencyMs: LatencyRange;
    readonly app: string;
    readonly stopSignal: string;
    readonly rate: number;
    readonly arrivals: Arrivals;
    readonly concurrency: number;
    readonly probeTimeoutSeconds: number;
    readonly seed: number;
  };
  readonly summary: ProbeSummary;
  readonly pods: PodTimeline[];
  readonly series: SeriesPoint[];
  /** Model time at which each rollout started (the first is 0). */
  readonly rolloutStarts: number[];
  /** Model seconds from the first rollout's start until the last old pod exited. */
  readonly rolloutSeconds: number;
  readonly wallSeconds: number;
  /** Every process the rehearsal started (all gone when it returns). */
  readonly pids: { readonly haproxy: number; readonly apps: number[]; readonly preStop: number[] };
  readonly records?: ProbeRecord[];
}

/** The run's one error channel: the first failure wins, and every wait races against it. */
class FailureChannel {
  public readonly failed: Promise<never>;
  private rejection?: (e: Error) => void;

  constructor() {
    this.failed = new Promise<never>((_, reject) => { this.rejection = reject; });
    this.failed.catch(() => undefined);
  }

  public fail(error: Error): void {
    this.rejection!(error);
  }

  /** `work`, unless the run fails first. */
  public race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([this.failed, work]);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Rehearse rolling restarts of `options.manifest` on this machine and report every request's fate.
 */
export async function runRehearsal(options: RehearseOptions): Promise<RehearsalResult & { records: ProbeRecord[] }> {
  const spec = options.manifest;
  const plan = resolveRehearsal(options);
  options.onAssumptions?.(plan.assumptions);
  const scale = plan.scale;
  const toRealMs = (modelSeconds: number) => modelSeconds * 1000 * scale;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = seededRandom(seed);
  const probeTimeoutMs = toRealMs(options.probeTimeoutSeconds ?? 10);
  const realRate = plan.rate / scale;
  const concurrency = options.concurrency ?? defaultConcurrency(realRate, probeTimeoutMs);
  const rollouts = options.rollouts ?? 1;
  const log = options.log ?? (() => undefined);
  const readinessPath = spec.readinessProbe?.path ?? '/healthz';

  const haproxyBinary = findHaproxy(options.haproxyPath);
  const wallStart = performance.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-rehearse-'));
  const shimDir = path.join(dir, 'bin');
  const tracker = new ProcessTracker();
  const preStopPids: number[] = [];
  const rolloutStarts: number[] = [];
  let sentSoFar = 0;
  let rolloutStart = Infinity;
  const model = (real: number) => (real - rolloutStart) / 1000 / scale;
  const clock = (real: number) => formatClock(rolloutStart === Infinity ? undefined : model(real)); // one clock, model seconds

  const failure = new FailureChannel();
  let finished = false;
  const probeStop = new AbortController();
  let interrupted = false;
  const onAbort = () => {
    interrupted = true;
    failure.fail(new RehearsalError('interrupted'));
  };
  options.signal?.addEventListener('abort', onAbort);
  const maxWall = options.maxWallSeconds ?? 900;
  const wallTimer = setTimeout(() => failure.fail(new RehearsalError(`rehearsal did not finish within ${maxWall} s`)), maxWall * 1000);
  let probe: ReturnType<typeof runProbe> | undefined;
  let probeStart = 0;
  let lbDriver: LbDriver | undefined;
  let cluster: SimulatedCluster | undefined;
  const finish = () => {
    finished = true;
    cluster?.stop();
  };
  const timelines = (): PodTimeline[] => podTimelines(cluster?.pods ?? [], model, scale, plan.stopSignal);

  try {
    writeSleepShim(shimDir, scale);
    const lb = await Haproxy.start({ binary: haproxyBinary, dir, tracker, idleTimeoutMs: toRealMs(plan.idleTimeout) });
    void lb.exited.then((e) => { if (!finished) failure.fail(new RehearsalError(`haproxy exited unexpectedly (${e.code ?? e.signal})`)); });
    log(`haproxy ${haproxyBinary} listening on 127.0.0.1:${lb.port} (pid ${lb.pid})`);
    lbDriver = new LbDriver(lb, toRealMs, (e) => failure.fail(e));
    const environment: ClusterEnvironment = {
      now: () => performance.now(),
      toRealMs,
      startProcess: (pod) => startPodProcess({
        tracker, app: plan.app, name: pod.name, address: pod.address, dir, timeScale: scale, readinessPath, stopSignal: plan.stopSignal,
      }),
      probeReadiness: (pod, proc, stopped, onReady) => probeReadiness({
        address: pod.address, port: proc.port, path: readinessPath, probe: spec.readinessProbe, toRealMs, stopped, onReady, timers: pod.timers,
      }),
      sampleRegistrationDelay: () => sampleDelay(plan.reconcile, random) + plan.registrationHealthCheckSeconds,
      sampleDeregistrationLag: () => sampleDelay(plan.lag, random),
      lb: lbDriver,
      terminate: (pod, proc, events) => terminatePod({
        pid: proc.pid,
        address: pod.address,
        port: proc.port,
        plan: plan.plan,
        graceSeconds: spec.terminationGracePeriodSeconds,
        stopSignal: plan.stopSignal,
        tracker,
        toRealMs,
        now: () => performance.now(),
        scale,
        shimDir,
        gone: () => pod.gone,
        timers: pod.timers,
        events: { ...events, preStopPid: (pid) => preStopPids.push(pid) },
      }),
      onEvent: (pod, what) => log(`${clock(performance.now())} ${pod.name.padEnd(14)} ${what}`),
      onFailure: (e) => failure.fail(e),
    };
    cluster = new SimulatedCluster({ ...deploymentOf(plan, spec), readinessGate: plan.gate, preStopDescription: plan.plan.description }, environment);

    log(`starting ${spec.replicas} pod(s) of ${spec.name}`);
    await failure.race(cluster.converge());

    probeStart = performance.now();
    probe = runProbe({
      url: `http://127.0.0.1:${lb.port}${options.probePath ?? '/'}`,
      rate: realRate,
      arrivals: options.arrivals,
      random: seededRandom(seed + 1), // its own stream: the lags drawn do not depend on the arrivals
      concurrency,
      timeoutMs: probeTimeoutMs,
      signal: probeStop.signal,
      out: options.out,
      captureHeaders: options.captureHeaders,
      onProgress: (progress: ProbeProgress) => {
        sentSoFar = progress.totalSent;
        log(formatRehearsalProgress(clock(performance.now()), progress));
        const now = performance.now();
        options.onStatus?.(rehearsalStatus({
          pods: cluster!.pods,
          revision: cluster!.revision,
          rollout: rolloutStarts.length,
          rollouts,
          replicas: spec.replicas,
          sent: progress.totalSent,
          failed: progress.totalFailed,
          scale,
          graceSeconds: spec.terminationGracePeriodSeconds,
          settleSeconds: options.settleSeconds ?? 2,
          rolloutSeconds: rolloutStarts.length > 0 ? (now - rolloutStarts[rolloutStarts.length - 1]) / 1000 / scale : undefined,
          modelSeconds: rolloutStart === Infinity ? undefined : model(now),
        }));
      },
      timeOrigin: probeStart,
    });
    probe.catch(() => undefined);
    await failure.race(delay(toRealMs(options.warmupSeconds ?? 2)));

    rolloutStart = performance.now();
    const minRequests = options.minRequests ?? 0;
    for (let i = 0; i < rollouts || sentSoFar < minRequests; i++) {
      const revision = cluster.nextRevision();
      rolloutStarts.push(performance.now());
      log(`${clock(performance.now())} rollout ${i + 1}: revision ${revision}`);
      await failure.race(cluster.converge());
      log(`${clock(performance.now())} rollout ${i + 1} complete, waiting for old pods to exit`);
      await failure.race(cluster.oldPodsGone());
    }
    const lastExit = Math.max(...cluster.oldPods().map((p) => p.exitedAt ?? 0), rolloutStart);
    await failure.race(delay(toRealMs(options.settleSeconds ?? 2)));
    probeStop.abort();
    const { summary, records } = await failure.race(probe);
    finish();

    cluster.markRunningAsCleanedUp();
    const podTimelineList = timelines();
    await cleanup();
    return {
      ...describeRun(options, plan, seed, concurrency),
      summary,
      pods: podTimelineList,
      series: toSeries(records, (probeStart - rolloutStart) / 1000 / scale, scale),
      rolloutStarts: rolloutStarts.map((x) => round3(model(x))),
      rolloutSeconds: round3(model(lastExit)),
      wallSeconds: round3((performance.now() - wallStart) / 1000),
      pids: { haproxy: lb.pid, apps: cluster.pods.map((p) => p.process?.pid).filter((x): x is number => x !== undefined), preStop: preStopPids },
      records,
    };
  } catch (e) {
    if (interrupted) {
      finish();
      probeStop.abort();
      const partialRecords = probe ? (await probe.catch(() => undefined))?.records ?? [] : [];
      cluster?.markRunningAsCleanedUp();
      throw new RehearsalInterruptedError({ summary: summarize(partialRecords), pods: timelines(), assumptions: plan.assumptions });
    }
    throw e;
  } finally {
    await cleanup();
  }

  async function cleanup(): Promise<void> {
    finish();
    probeStop.abort();
    clearTimeout(wallTimer);
    options.signal?.removeEventListener('abort', onAbort);
    cluster?.clearTimers();
    lbDriver?.close();
    await tracker.killAll();
    tracker.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The Deployment and the parameters the run used, as the result reports them. */
function describeRun(options: RehearseOptions, plan: RehearsalPlan, seed: number, concurrency: number): Pick<RehearsalResult, 'assumptions' | 'deployment' | 'params'> {
  const spec = options.manifest;
  return {
    assumptions: plan.assumptions,
    deployment: deploymentOf(plan, spec),
    params: {
      provider: options.provider ?? null,
      timeScale: plan.scale,
      lag: plan.lag,
      registrationReconcile: plan.reconcile,
      healthCheck: plan.healthCheck,
      readinessGate: plan.gate ?? null,
      lbIdleTimeoutSeconds: plan.idleTimeout,
      appKeepAliveSeconds: plan.app.kind === 'demo' ? plan.app.keepAliveSeconds : null,
      appLatencyMs: options.appLatency ?? { minMs: 0, maxMs: 2000 },
      app: plan.appText,
      stopSignal: plan.stopSignal,
      rate: plan.rate,
      arrivals: options.arrivals ?? 'fixed',
      concurrency,
      probeTimeoutSeconds: options.probeTimeoutSeconds ?? 10,
      seed,
    },
  };
}

/** The Deployment as the run resolved it. */
function deploymentOf(plan: RehearsalPlan, spec: DeploymentSpec) {
  return {
    name: spec.name,
    replicas: spec.replicas,
    strategy: spec.strategy.type,
    maxSurge: plan.maxSurge,
    maxUnavailable: plan.maxUnavailable,
    minReadySeconds: spec.minReadySeconds,
    terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
    declaredDeregistrationDelaySeconds: spec.deregistrationDelaySeconds ?? null,
  };
}
