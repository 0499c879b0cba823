/**
 * The simulated cluster: one Deployment's pods and their lifecycle as Kubernetes runs it.
 *
 * - start: the container process starts, the kubelet's readiness probe runs;
 * - containers ready: the LB controller registers the pod (reconcile delay + health checks); the
 *   pod turns Ready at once, or, behind a readiness gate, only once the LB routes to it;
 * - Available: Ready for minReadySeconds;
 * - deletion: the endpoint controller drops the pod at once, the cloud LB stops routing one
 *   deregistration lag later, and the kubelet starts terminating it at the same moment;
 * - exit: the process is gone (before its deletion, that is a failure of the run).
 *
 * The Deployment controller (the pure `syncDeployment`) decides which pods to create and delete
 * after every change. Everything that touches the world (processes, probes, the LB, the kubelet's
 * termination, the clock, the log, failures) goes through a `ClusterEnvironment`, so the
 * lifecycle can be tested with fakes.
 */
import { ControllerInput, ControllerPod, rolloutComplete, syncDeployment } from './deployment-controller';
import { TerminationEvents } from './kubelet';
import { RehearsalError } from './rehearse-plan';
import { PodRecord } from './timeline';
import { ExitInfo } from '../process/procs';

/** A pod's container process, as the cluster sees it. */
export interface PodProcessHandle {
  readonly pid: number;
  readonly port: number;
  readonly exited: Promise<ExitInfo>;
  /** Last lines of its stderr (for error messages). */
  readonly stderrTail: () => string;
}

/** The LB's control plane (`LbDriver`): registration and deregistration after a delay. */
export interface LoadBalancerControl {
  /** Resolves once the LB routes to the pod. */
  registerAfter(name: string, address: string, port: number, delaySeconds: number): Promise<void>;
  /** Resolves once the LB no longer sends it new requests. */
  deregisterAfter(name: string, lagSeconds: number): Promise<void>;
}

/** The Deployment as the cluster runs it. */
export interface ClusterDeployment {
  readonly name: string;
  readonly replicas: number;
  readonly strategy: 'RollingUpdate' | 'Recreate';
  /** Absolute pod counts (resolved fenceposts). */
  readonly maxSurge: number;
  readonly maxUnavailable: number;
  readonly minReadySeconds: number;
  /** The readiness gate, if any (its description): a gated pod turns Ready once the LB routes to it. */
  readonly readinessGate?: string;
  /** What the preStop hook does (for the log). */
  readonly preStopDescription: string;
}

/** Everything the cluster does to the world. */
export interface ClusterEnvironment {
  readonly lb: LoadBalancerControl;
  /** Real time, ms (performance.now()). */
  now(): number;
  /** Model seconds to real ms. */
  toRealMs(modelSeconds: number): number;
  /** Start the pod's container; resolves once it runs (listens, for the demo app). */
  startProcess(pod: PodState): Promise<PodProcessHandle>;
  /** Run the kubelet's readiness probe on the pod's timers: `onReady` once it passes; give up once `stopped()`. */
  probeReadiness(pod: PodState, process: PodProcessHandle, stopped: () => boolean, onReady: () => void): void;
  /** A new pod's registration delay (reconcile + health checks), model s. */
  sampleRegistrationDelay(): number;
  /** A deleted pod's deregistration lag, model s. */
  sampleDeregistrationLag(): number;
  /** The kubelet's termination of a deleted pod (preStop, stop signal, SIGKILL) on the pod's timers. */
  terminate(pod: PodState, process: PodProcessHandle, events: TerminationEvents): void;
  /** A line for the live log about `pod`. */
  onEvent(pod: PodState, what: string): void;
  /** Something happened that ends the run. */
  onFailure(error: Error): void;
}

/** One pod: its state and what happened to it when (real ms). */
export class PodState implements PodRecord {
  public process?: PodProcessHandle;
  public containersReady = false;
  public inLb = false;
  public ready = false;
  public available = false;
  public deleting = false;
  public gone = false;
  /** Timers of everything pending for this pod (probe, minReadySeconds, kubelet), cleared when it exits. */
  public readonly timers: NodeJS.Timeout[] = [];
  public exitedPromise?: Promise<ExitInfo>;
  public deregisteredPromise?: Promise<void>;
  public containersReadyAt?: number;
  public inLbAt?: number;
  public readyAt?: number;
  public availableAt?: number;
  public deletedAt?: number;
  public lag?: number;
  public registrationDelay?: number;
  public deregisteredAt?: number;
  public preStopStartedAt?: number;
  public preStopEndedAt?: number;
  public stopSignalAt?: number;
  public sigkillAt?: number;
  public exitedAt?: number;
  public exit?: ExitInfo;
  /** Still running when the rehearsal ended: killed by the rig, not by the kubelet. */
  public cleanedUp = false;

  constructor(
    public readonly name: string,
    public readonly revision: number,
    public readonly address: string,
    public readonly started: number,
  ) {}

  /** Deleted or exited: nothing moves it forward any more. */
  public get leaving(): boolean {
    return this.deleting || this.gone;
  }

  public clearTimers(): void {
    this.timers.forEach(clearTimeout);
  }

  public toControllerPod(): ControllerPod {
    return {
      name: this.name,
      revision: this.revision,
      available: this.available,
      terminating: this.leaving,
      running: !this.gone,
      readySince: this.readyAt,
    };
  }
}

export class SimulatedCluster {
  /** Every pod ever created, in creation order. */
  public readonly pods: PodState[] = [];
  private currentRevision = 0;
  private created = 0;
  private stopped = false;
  /** Each pod gets its own loopback address in 127.<subnet>.0.0/16, like its own pod IP. */
  private readonly subnet: number;
  /** Resolves the pending `converge()`. */
  private onConverged?: () => void;

  constructor(
    private readonly deployment: ClusterDeployment,
    private readonly env: ClusterEnvironment,
    options: { readonly subnet?: number } = {},
  ) {
    this.subnet = options.subnet ?? 100 + Math.floor(Math.random() * 100);
  }

  /** The current template revision (0 for the pods that exist before the first rollout). */
  public get revision(): number {
    return this.currentRevision;
  }

  /** Change the pod template (a rollout): returns the new revision. */
  public nextRevision(): number {
    return ++this.currentRevision;
  }

  /** Let the controller work; resolves once the rollout is complete and the LB routes to every live pod. */
  public converge(): Promise<void> {
    return new Promise((resolve) => {
      this.onConverged = () => {
        this.onConverged = undefined;
        resolve();
      };
      this.reconcile();
    });
  }

  /** Pods of earlier revisions. */
  public oldPods(): PodState[] {
    return this.pods.filter((p) => p.revision < this.currentRevision);
  }

  /** Resolves once every old pod has exited and been deregistered from the LB. */
  public async oldPodsGone(): Promise<void> {
    await Promise.all(this.oldPods().flatMap((p) => [p.exitedPromise ?? Promise.resolve(), p.deregisteredPromise ?? Promise.resolve()]));
  }

  /** The run is over: nothing more is reconciled or reported (pending timers still run until `clearTimers`). */
  public stop(): void {
    this.stopped = true;
  }

  /** Cancel every pod's pending probe, minReadySeconds and kubelet timers. */
  public clearTimers(): void {
    for (const pod of this.pods) pod.clearTimers();
  }

  /** Mark the pods still running as killed by the rig's cleanup (not by the kubelet). */
  public markRunningAsCleanedUp(): void {
    for (const pod of this.pods) if (!pod.gone) pod.cleanedUp = true;
  }

  private controllerInput(): ControllerInput {
    return {
      replicas: this.deployment.replicas,
      strategy: this.deployment.strategy,
      maxSurge: this.deployment.maxSurge,
      maxUnavailable: this.deployment.maxUnavailable,
      revision: this.currentRevision,
      pods: this.pods.map((p) => p.toControllerPod()),
    };
  }

  /** Controller syncs until it has nothing more to do. */
  private reconcile(): void {
    if (this.stopped) return;
    for (let i = 0; i < 1000; i++) {
      const decision = syncDeployment(this.controllerInput());
      if (decision.create === 0 && decision.delete.length === 0) break;
      for (let k = 0; k < decision.create; k++) this.startPod();
      for (const name of decision.delete) this.deletePod(this.pods.find((p) => p.name === name)!);
    }
    const live = this.pods.filter((p) => !p.leaving);
    if (rolloutComplete(this.controllerInput()) && live.every((p) => p.inLb)) this.onConverged?.();
  }

  private startPod(): void {
    this.created++;
    const index = this.created;
    const revision = this.currentRevision;
    const pod = new PodState(
      `${podBaseName(this.deployment.name)}-r${revision}-${index}`,
      revision,
      `127.${this.subnet}.${Math.floor(index / 250)}.${(index % 250) + 1}`,
      this.env.now(),
    );
    this.pods.push(pod);
    this.env.startProcess(pod)
      .then((proc) => {
        pod.process = proc;
        pod.exitedPromise = proc.exited;
        this.env.onEvent(pod, `started pid ${proc.pid} on ${pod.address}:${proc.port}`);
        void proc.exited.then((info) => this.onExit(pod, info));
        this.env.probeReadiness(pod, proc, () => pod.leaving || this.stopped, () => this.onContainersReady(pod));
      })
      .catch((e: Error) => { if (!this.stopped) this.env.onFailure(e); });
  }

  /** The readiness probe passed: the LB controller starts registering the pod. */
  private onContainersReady(pod: PodState): void {
    if (pod.containersReady || pod.leaving) return;
    pod.containersReady = true;
    pod.containersReadyAt = this.env.now();
    pod.registrationDelay = this.env.sampleRegistrationDelay();
    const gate = this.deployment.readinessGate;
    this.env.onEvent(pod, `readiness probe passed; the LB routes to it in ${pod.registrationDelay.toFixed(2)}s${gate ? ' (readiness gate holds it un-Ready until then)' : ''}`);
    void this.env.lb.registerAfter(pod.name, pod.address, pod.process!.port, pod.registrationDelay).then(() => {
      if (pod.leaving) {
        // Deleted while being registered: the controller removes the target again.
        void this.env.lb.deregisterAfter(pod.name, 0);
        return;
      }
      pod.inLb = true;
      pod.inLbAt = this.env.now();
      this.env.onEvent(pod, 'in the LB (registered and healthy)');
      if (gate) this.becomeReady(pod);
      else this.reconcile();
    });
    if (!gate) this.becomeReady(pod);
  }

  /** Pod Ready; Available after minReadySeconds. */
  private becomeReady(pod: PodState): void {
    if (pod.ready || pod.leaving) return;
    pod.ready = true;
    pod.readyAt = this.env.now();
    const minReadySeconds = this.deployment.minReadySeconds;
    pod.timers.push(setTimeout(() => {
      if (pod.leaving) return;
      pod.available = true;
      pod.availableAt = this.env.now();
      if (minReadySeconds > 0) this.env.onEvent(pod, `available (minReadySeconds ${minReadySeconds})`);
      this.reconcile();
    }, this.env.toRealMs(minReadySeconds)));
    this.reconcile();
  }

  // Deletion: the endpoint controller drops the pod at once, the cloud LB stops routing one lag
  // later; the kubelet starts terminating it at the same moment.
  private deletePod(pod: PodState): void {
    pod.deleting = true;
    pod.deletedAt = this.env.now();
    pod.lag = this.env.sampleDeregistrationLag();
    this.env.onEvent(pod, `deleted (the LB stops routing to it in ${pod.lag.toFixed(2)}s)`);
    if (pod.inLb) {
      pod.deregisteredPromise = this.env.lb.deregisterAfter(pod.name, pod.lag).then(() => {
        pod.deregisteredAt = this.env.now();
        if (!this.stopped) this.env.onEvent(pod, 'deregistered from the LB');
      });
    }
    if (!pod.process) return;
    this.env.terminate(pod, pod.process, {
      preStopStarted: (at) => { pod.preStopStartedAt = at; this.env.onEvent(pod, `preStop: ${this.deployment.preStopDescription}`); },
      preStopEnded: (at) => { pod.preStopEndedAt = at; this.env.onEvent(pod, 'preStop finished'); },
      stopSignalSent: (at, signal, sigkillIn) => { pod.stopSignalAt = at; this.env.onEvent(pod, `${signal} (SIGKILL in ${sigkillIn}s)`); },
      sigkill: (at) => { pod.sigkillAt = at; this.env.onEvent(pod, 'SIGKILL'); },
      graceExpiredDuringPreStop: () => this.env.onEvent(pod, 'grace period expired during preStop'),
    });
  }

  private onExit(pod: PodState, info: ExitInfo): void {
    pod.exitedAt = this.env.now();
    pod.exit = info;
    pod.gone = true;
    pod.clearTimers();
    if (this.stopped) return;
    const how = info.signal ?? `code ${info.code}`;
    this.env.onEvent(pod, `exited (${how})`);
    if (!pod.deleting) this.env.onFailure(new RehearsalError(`pod ${pod.name} exited before it was deleted (${how}): ${pod.process?.stderrTail() ?? ''}`));
    this.reconcile();
  }
}

/**
 * The readable part of a Deployment's name for the rehearsal's pod names: cdk8s's hash suffix and a
 * trailing `-deployment` dropped, then whole leading words dropped while it is longer than 24
 * characters (the construct's own id is at the end): `aws-alb-checkout-checkout-deployment-c86cc6f1`
 * gives `alb-checkout-checkout`, `tea` stays `tea`.
 */
export function podBaseName(deploymentName: string): string {
  const base = deploymentName.replace(/-[0-9a-f]{8}$/, '').replace(/(.)-deployment$/, '$1');
  const words = base.split('-');
  while (words.length > 1 && words.join('-').length > 24) words.shift();
  return words.join('-').slice(-24).replace(/^-+/, '');
}
