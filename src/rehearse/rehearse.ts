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
  return new RehearsalRun(options).execute();
}

/**
 * One rehearsal, in steps: the load balancer, the cluster, the probe, the rollouts, the result. Its
 * fields are the state the steps share (the processes to clean up, the one failure channel, the
 * model clock); every path out of `execute` cleans up.
 */
class RehearsalRun {
  private readonly spec: DeploymentSpec;
  private readonly plan: RehearsalPlan;
  private readonly scale: number;
  private readonly seed: number;
  private readonly random: () => number;
  private readonly probeTimeoutMs: number;
  private readonly realRate: number;
  private readonly concurrency: number;
  private readonly rollouts: number;
  private readonly log: (line: string) => void;
  private readonly readinessPath: string;
  private readonly haproxyBinary: string;
  private readonly wallStart: number;
  private readonly dir: string;
  private readonly shimDir: string;
  private readonly tracker = new ProcessTracker();
  private readonly preStopPids: number[] = [];
  private readonly rolloutStarts: number[] = [];
  private readonly failure = new FailureChannel();
  private readonly probeStop = new AbortController();
  private readonly wallTimer: ReturnType<typeof setTimeout>;
  private sentSoFar = 0;
  private rolloutStart = Infinity;
  private finished = false;
  private interrupted = false;
  private probe: ReturnType<typeof runProbe> | undefined;
  private probeStart = 0;
  private lbDriver: LbDriver | undefined;
  private cluster: SimulatedCluster | undefined;

  constructor(private readonly options: RehearseOptions) {
    this.spec = options.manifest;
    this.plan = resolveRehearsal(options);
    options.onAssumptions?.(this.plan.assumptions);
    this.scale = this.plan.scale;
    this.seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
    this.random = seededRandom(this.seed);
    this.probeTimeoutMs = this.toRealMs(options.probeTimeoutSeconds ?? 10);
    this.realRate = this.plan.rate / this.scale;
    this.concurrency = options.concurrency ?? defaultConcurrency(this.realRate, this.probeTimeoutMs);
    this.rollouts = options.rollouts ?? 1;
    this.log = options.log ?? (() => undefined);
    this.readinessPath = this.spec.readinessProbe?.path ?? '/healthz';

    this.haproxyBinary = findHaproxy(options.haproxyPath);
    this.wallStart = performance.now();
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-rehearse-'));
    this.shimDir = path.join(this.dir, 'bin');
    options.signal?.addEventListener('abort', this.onAbort);
    const maxWall = options.maxWallSeconds ?? 900;
    this.wallTimer = setTimeout(() => this.failure.fail(new RehearsalError(`rehearsal did not finish within ${maxWall} s`)), maxWall * 1000);
  }

  /** Runs every step; cleans up on every path. */
  public async execute(): Promise<RehearsalResult & { records: ProbeRecord[] }> {
    try {
      writeSleepShim(this.shimDir, this.scale);
      const lb = await this.startLoadBalancer();
      const cluster = new SimulatedCluster(
        { ...deploymentOf(this.plan, this.spec), readinessGate: this.plan.gate, preStopDescription: this.plan.plan.description },
        this.environment(),
      );
      this.cluster = cluster;
      this.log(`starting ${this.spec.replicas} pod(s) of ${this.spec.name}`);
      await this.failure.race(cluster.converge());

      const probe = this.startProbe(lb.port);
      await this.failure.race(delay(this.toRealMs(this.options.warmupSeconds ?? 2)));
      const lastExit = await this.rollOut(cluster);
      await this.failure.race(delay(this.toRealMs(this.options.settleSeconds ?? 2)));
      this.probeStop.abort();
      const { summary, records } = await this.failure.race(probe);
      this.finish();

      cluster.markRunningAsCleanedUp();
      const pods = this.timelines();
      await this.cleanup();
      return {
        ...describeRun(this.options, this.plan, this.seed, this.concurrency),
        summary,
        pods,
        series: toSeries(records, (this.probeStart - this.rolloutStart) / 1000 / this.scale, this.scale),
        rolloutStarts: this.rolloutStarts.map((x) => round3(this.model(x))),
        rolloutSeconds: round3(this.model(lastExit)),
        wallSeconds: round3((performance.now() - this.wallStart) / 1000),
        pids: {
          haproxy: lb.pid,
          apps: cluster.pods.map((p) => p.process?.pid).filter((x): x is number => x !== undefined),
          preStop: this.preStopPids,
        },
        records,
      };
    } catch (e) {
      if (this.interrupted) throw await this.interruptedError();
      throw e;
    } finally {
      await this.cleanup();
    }
  }

  private readonly onAbort = (): void => {
    this.interrupted = true;
    this.failure.fail(new RehearsalError('interrupted'));
  };

  private toRealMs(modelSeconds: number): number {
    return modelSeconds * 1000 * this.scale;
  }

  private model(real: number): number {
    return (real - this.rolloutStart) / 1000 / this.scale;
  }

  /** One clock, model seconds. */
  private clock(real: number): string {
    return formatClock(this.rolloutStart === Infinity ? undefined : this.model(real));
  }

  private finish(): void {
    this.finished = true;
    this.cluster?.stop();
  }

  private timelines(): PodTimeline[] {
    return podTimelines(this.cluster?.pods ?? [], (real) => this.model(real), this.scale, this.plan.stopSignal);
  }

  /** HAProxy, the load balancer's data plane, and the driver that plays its control plane. */
  private async startLoadBalancer(): Promise<Haproxy> {
    const lb = await Haproxy.start({
      binary: this.haproxyBinary, dir: this.dir, tracker: this.tracker, idleTimeoutMs: this.toRealMs(this.plan.idleTimeout),
    });
    void lb.exited.then((e) => { if (!this.finished) this.failure.fail(new RehearsalError(`haproxy exited unexpectedly (${e.code ?? e.signal})`)); });
    this.log(`haproxy ${this.haproxyBinary} listening on 127.0.0.1:${lb.port} (pid ${lb.pid})`);
    this.lbDriver = new LbDriver(lb, (s) => this.toRealMs(s), (e) => this.failure.fail(e));
    return lb;
  }

  /** What the simulated cluster does in the world: processes, probes, delays, the kubelet. */
  private environment(): ClusterEnvironment {
    const { plan, spec, scale, tracker, readinessPath } = this;
    const toRealMs = (s: number) => this.toRealMs(s);
    return {
      now: () => performance.now(),
      toRealMs,
      startProcess: (pod) => startPodProcess({
        tracker, app: plan.app, name: pod.name, address: pod.address, dir: this.dir, timeScale: scale, readinessPath, stopSignal: plan.stopSignal,
      }),
      probeReadiness: (pod, proc, stopped, onReady) => probeReadiness({
        address: pod.address, port: proc.port, path: readinessPath, probe: spec.readinessProbe, toRealMs, stopped, onReady, timers: pod.timers,
      }),
      sampleRegistrationDelay: () => sampleDelay(plan.reconcile, this.random) + plan.registrationHealthCheckSeconds,
      sampleDeregistrationLag: () => sampleDelay(plan.lag, this.random),
      lb: this.lbDriver!,
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
        shimDir: this.shimDir,
        gone: () => pod.gone,
        timers: pod.timers,
        events: { ...events, preStopPid: (pid) => this.preStopPids.push(pid) },
      }),
      onEvent: (pod, what) => this.log(`${this.clock(performance.now())} ${pod.name.padEnd(14)} ${what}`),
      onFailure: (e) => this.failure.fail(e),
    };
  }

  /** The probe: load through HAProxy, from its own random stream. */
  private startProbe(port: number): ReturnType<typeof runProbe> {
    this.probeStart = performance.now();
    const probe = runProbe({
      url: `http://127.0.0.1:${port}${this.options.probePath ?? '/'}`,
      rate: this.realRate,
      arrivals: this.options.arrivals,
      random: seededRandom(this.seed + 1), // its own stream: the lags drawn do not depend on the arrivals
      concurrency: this.concurrency,
      timeoutMs: this.probeTimeoutMs,
      signal: this.probeStop.signal,
      out: this.options.out,
      captureHeaders: this.options.captureHeaders,
      onProgress: (progress: ProbeProgress) => this.onProgress(progress),
      timeOrigin: this.probeStart,
    });
    probe.catch(() => undefined);
    this.probe = probe;
    return probe;
  }

  /** The probe's progress: a log line, and the live status line's state. */
  private onProgress(progress: ProbeProgress): void {
    this.sentSoFar = progress.totalSent;
    this.log(formatRehearsalProgress(this.clock(performance.now()), progress));
    const now = performance.now();
    const starts = this.rolloutStarts;
    this.options.onStatus?.(rehearsalStatus({
      pods: this.cluster!.pods,
      revision: this.cluster!.revision,
      rollout: starts.length,
      rollouts: this.rollouts,
      replicas: this.spec.replicas,
      sent: progress.totalSent,
      failed: progress.totalFailed,
      scale: this.scale,
      graceSeconds: this.spec.terminationGracePeriodSeconds,
      settleSeconds: this.options.settleSeconds ?? 2,
      rolloutSeconds: starts.length > 0 ? (now - starts[starts.length - 1]) / 1000 / this.scale : undefined,
      modelSeconds: this.rolloutStart === Infinity ? undefined : this.model(now),
    }));
  }

  /** The rollouts (at least `minRequests` sent), each until its old pods have exited; returns the last exit. */
  private async rollOut(cluster: SimulatedCluster): Promise<number> {
    this.rolloutStart = performance.now();
    const minRequests = this.options.minRequests ?? 0;
    for (let i = 0; i < this.rollouts || this.sentSoFar < minRequests; i++) {
      const revision = cluster.nextRevision();
      this.rolloutStarts.push(performance.now());
      this.log(`${this.clock(performance.now())} rollout ${i + 1}: revision ${revision}`);
      await this.failure.race(cluster.converge());
      this.log(`${this.clock(performance.now())} rollout ${i + 1} complete, waiting for old pods to exit`);
      await this.failure.race(cluster.oldPodsGone());
    }
    return Math.max(...cluster.oldPods().map((p) => p.exitedAt ?? 0), this.rolloutStart);
  }

  /** After an interrupt: what was measured until then. */
  private async interruptedError(): Promise<RehearsalInterruptedError> {
    this.finish();
    this.probeStop.abort();
    const partialRecords = this.probe ? (await this.probe.catch(() => undefined))?.records ?? [] : [];
    this.cluster?.markRunningAsCleanedUp();
    return new RehearsalInterruptedError({ summary: summarize(partialRecords), pods: this.timelines(), assumptions: this.plan.assumptions });
  }

  private async cleanup(): Promise<void> {
    this.finish();
    this.probeStop.abort();
    clearTimeout(this.wallTimer);
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.cluster?.clearTimers();
    this.lbDriver?.close();
    await this.tracker.killAll();
    this.tracker.dispose();
    fs.rmSync(this.dir, { recursive: true, force: true });
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
