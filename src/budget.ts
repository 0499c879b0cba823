import { Duration } from 'cdk8s';
import { checkPropTypes } from './prop-types';
import { StopSignal } from './stop-signal';
import { wholeSeconds } from './validation';

/**
 * The shutdown budgets a service declares. Every number the construct emits for the
 * termination side (the preStop wait, `terminationGracePeriodSeconds`) is derived from these.
 *
 * Durations are rounded up to whole seconds, because Kubernetes counts in whole seconds and
 * rounding down would shorten a budget.
 */
export interface ShutdownBudgetProps {
  /**
   * Worst-case time from the moment a pod is deleted until the load balancer sends it no new
   * requests (the endpoint turns not-ready, the ingress controller reconciles, the LB
   * deregisters the backend). Called D in the model.
   *
   * @default - the load balancer's default, at least the largest lag its rehearsal profile draws: Alibaba Cloud ALB 15 s, Tencent Cloud CLB 10 s, AWS ALB 60 s (IP targets) or 90 s (instance targets), GKE Ingress 60 s
   */
  readonly deregistrationDelay?: Duration;

  /**
   * The longest the application needs, once it starts shutting down, to finish the requests
   * it is serving and exit. Called S in the model.
   *
   * @default Duration.seconds(30) - what Kubernetes gives a pod by default
   */
  readonly drainTimeout?: Duration;

  /**
   * Headroom against a load balancer that is later than D and an app that is slower than S.
   * Called M in the model. It is added twice: the preStop wait ends M after D (the rollout
   * benchmark shows a wait of exactly D ties with the LB and drops requests as soon as the LB is
   * later), and the grace period keeps another M after the drain.
   *
   * @default - 25 % of the deregistration delay, rounded up, and at least 5 seconds
   */
  readonly safetyMargin?: Duration;

  /**
   * Whether the application keeps serving in-flight requests after the stop signal and exits
   * once they are done. The container runtime sends the image's `STOPSIGNAL` (SIGTERM when the
   * image declares none), so answer for that signal: nginx drains on SIGQUIT, which the official
   * nginx images declare, but SIGTERM is its fast shutdown. For an app that does not drain, set
   * this to `false` and the drain moves into the preStop wait, before the signal is sent.
   * (Renamed from `drainsOnSigterm`; see CHANGELOG.md.)
   *
   * @default true
   */
  readonly drainsOnStopSignal?: boolean;

  /**
   * The signal the container runtime will send: the image's `STOPSIGNAL` (SIGTERM when the image
   * declares none). It only records what `drainsOnStopSignal` answers for (the
   * `graceful-web-service.cdk8s.io/stop-signal` annotation and the `describe()` timeline name
   * it); it does not change what the runtime sends, unless the construct's
   * `setLifecycleStopSignal` writes it into the pod spec. Measure the answer with
   * `cdk8s-graceful-web-service drain-test --stop-signal <signal>`.
   *
   * @default - not declared: "the stop signal" (the image's STOPSIGNAL, SIGTERM if none)
   */
  readonly stopSignal?: StopSignal;
}

/**
 * Everything the full derivation needs: the declared budgets plus what the construct feeds in
 * from the load balancer and the pod spec. Not part of the public API: users pass
 * `ShutdownBudgetProps` (to `ShutdownBudget.derive()` or `GracefulWebServiceProps.shutdown`); the
 * construct and the CLI call `deriveShutdownBudget()` with these.
 *
 * @internal
 */
export interface ShutdownBudgetInputs extends ShutdownBudgetProps {
  /**
   * The deregistration delay to assume when `deregistrationDelay` is not declared, normally
   * the load balancer's documented value.
   *
   * @default - none: `deregistrationDelay` must then be declared
   */
  readonly defaultDeregistrationDelay?: Duration;

  /**
   * An explicit `terminationGracePeriodSeconds`, replacing the derived one. It is validated,
   * never adjusted: it must be at least `deregistrationDelay + drainTimeout` (plus the preStop
   * command's duration, if any), or SIGKILL could land on requests in flight.
   *
   * @default - derived: preStop command + deregistrationDelay + drainTimeout + safetyMargin
   */
  readonly terminationGracePeriod?: Duration;

  /**
   * The longest a custom preStop command (for example a cache flush or an explicit
   * deregistration call) may run. It runs first, before the preStop wait; the wait does not
   * count on it finishing early, so the whole duration is added to the grace period.
   *
   * @default Duration.seconds(0) - no custom preStop command
   */
  readonly preStopCommandDuration?: Duration;

  /**
   * Launch side: the longest a new container may take to pass its startup probe (0 when it has
   * none). The readiness probe only starts once the startup probe has passed.
   *
   * @default Duration.seconds(0)
   */
  readonly startupDelay?: Duration;

  /**
   * Launch side: how long a new container takes to pass its readiness probe
   * (healthy threshold × probe interval).
   *
   * @default Duration.seconds(0)
   */
  readonly readinessDelay?: Duration;

  /**
   * Launch side: how long the load balancer needs to register a new pod and see it pass its
   * health checks (health-check interval × healthy threshold + the controller's reconcile delay).
   *
   * @default Duration.seconds(0)
   */
  readonly registrationDelay?: Duration;

  /**
   * Launch side: whether a readiness gate holds a new pod un-Ready until the load balancer
   * reports it healthy. Without a gate, `minReadySeconds` covers the registration delay instead.
   *
   * @default false
   */
  readonly launchGated?: boolean;

  /**
   * An explicit `progressDeadlineSeconds`. It is validated, never adjusted: it must cover
   * everything one rollout step may legitimately wait for.
   *
   * @default - derived: the larger of 600 seconds (the Kubernetes default) and the step's worst case
   */
  readonly progressDeadline?: Duration;
}

/** Default drain timeout (S): what Kubernetes grants a pod when nothing else is said. */
const DEFAULT_DRAIN_TIMEOUT_SECONDS = 30;
/** The smallest default safety margin (M). */
const MINIMUM_DEFAULT_SAFETY_MARGIN_SECONDS = 5;
/** The default safety margin grows with D: load-balancer lag varies in proportion to it. */
const DEFAULT_SAFETY_MARGIN_FRACTION_OF_D = 0.25;
/** The kubelet's one-off extension when preStop is still running at the end of the grace period. */
const KUBELET_PRESTOP_EXTENSION_SECONDS = 2;
/** The Kubernetes default `progressDeadlineSeconds`. */
const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;

/**
 * The shutdown budget: pure arithmetic from declared durations to the preStop wait and the
 * termination grace period. It holds no cdk8s constructs and can be used on its own, for
 * example to check numbers in a CI script.
 *
 * With D = deregistration delay, S = drain timeout, M = safety margin, C = preStop command duration:
 *
 * | output | app drains on its stop signal | app stops abruptly on its stop signal |
 * |---|---|---|
 * | preStop wait W | D + M | D + M + S |
 * | preStop total P | C + D + M | C + D + M + S |
 * | grace period G | C + D + M + S + M | C + D + M + S + M |
 *
 * M defaults to 25 % of D (at least 5 s).
 *
 * It also derives the launch side of a rollout: `minReadySeconds` (the load balancer's
 * registration delay, or 0 when a readiness gate already waits for it) and
 * `progressDeadlineSeconds`.
 */
export class ShutdownBudget {
  /**
   * Derives the budget, validating every input.
   *
   * @throws if a duration is not finite or negative, if no deregistration delay is known, or if
   * an explicit grace period is shorter than the time the pod legitimately needs.
   */
  public static derive(props: ShutdownBudgetProps = {}): ShutdownBudget {
    checkPropTypes('ShutdownBudgetProps', props);
    // Only the declared budgets: launch inputs come from the construct, never from users.
    return new ShutdownBudget({
      deregistrationDelay: props.deregistrationDelay,
      drainTimeout: props.drainTimeout,
      safetyMargin: props.safetyMargin,
      drainsOnStopSignal: props.drainsOnStopSignal,
      stopSignal: props.stopSignal,
    });
  }

  /**
   * The full derivation, with the launch inputs the construct feeds in.
   *
   * @internal
   */
  public static _fromInputs(inputs: ShutdownBudgetInputs): ShutdownBudget {
    return new ShutdownBudget(inputs);
  }

  /** Deregistration delay D, in whole seconds. */
  public readonly deregistrationDelaySeconds: number;
  /** Drain timeout S, in whole seconds. */
  public readonly drainTimeoutSeconds: number;
  /** Safety margin M, in whole seconds. */
  public readonly safetyMarginSeconds: number;
  /** Whether the application drains in-flight requests after its stop signal. */
  public readonly drainsOnStopSignal: boolean;
  /** The declared stop signal, if any (the image's STOPSIGNAL, SIGTERM if none, otherwise). */
  public readonly stopSignal?: StopSignal;
  /** The custom preStop command's declared duration C, in whole seconds (0 when there is none). */
  public readonly preStopCommandSeconds: number;
  /** The preStop wait W (the `sleep`), in whole seconds; 0 means no wait is needed. */
  public readonly preStopSleepSeconds: number;
  /** `terminationGracePeriodSeconds` G. */
  public readonly terminationGracePeriodSeconds: number;
  /** True when G was given explicitly rather than derived. */
  public readonly terminationGracePeriodIsExplicit: boolean;
  /**
   * Launch side: the longest a new container may take to pass its startup probe, in whole
   * seconds (0 without a startup probe).
   */
  public readonly startupSeconds: number;
  /** Launch side: seconds from the end of startup until the readiness probe passes. */
  public readonly readinessDelaySeconds: number;
  /** Launch side: seconds the load balancer needs to register a new pod and see it healthy. */
  public readonly registrationDelaySeconds: number;
  /** Launch side: whether a readiness gate holds new pods until the load balancer reports them healthy. */
  public readonly launchGated: boolean;
  /**
   * `minReadySeconds`: 0 when a readiness gate already waits for the load balancer, otherwise
   * the registration delay, so an old pod is removed only after the LB can reach the new one.
   */
  public readonly minReadySeconds: number;
  /** `progressDeadlineSeconds`, derived or explicit. */
  public readonly progressDeadlineSeconds: number;

  private constructor(options: ShutdownBudgetInputs) {
    const declaredDelay = options.deregistrationDelay ?? options.defaultDeregistrationDelay;
    if (declaredDelay === undefined) {
      throw new Error('shutdown.deregistrationDelay is required: no load balancer supplies a default deregistration delay here');
    }
    const delayName = options.deregistrationDelay !== undefined ? 'shutdown.deregistrationDelay' : 'the load balancer\'s default deregistration delay';
    this.deregistrationDelaySeconds = wholeSeconds(delayName, declaredDelay);
    this.drainTimeoutSeconds = wholeSeconds('shutdown.drainTimeout', options.drainTimeout, DEFAULT_DRAIN_TIMEOUT_SECONDS);
    this.safetyMarginSeconds = wholeSeconds('shutdown.safetyMargin', options.safetyMargin,
      Math.max(MINIMUM_DEFAULT_SAFETY_MARGIN_SECONDS, Math.ceil(this.deregistrationDelaySeconds * DEFAULT_SAFETY_MARGIN_FRACTION_OF_D)));
    this.preStopCommandSeconds = wholeSeconds('preStopCommandDuration', options.preStopCommandDuration, 0);
    this.drainsOnStopSignal = options.drainsOnStopSignal ?? true;
    this.stopSignal = options.stopSignal;
    if (this.stopSignal?.uncatchable && this.drainsOnStopSignal) {
      throw new Error(`shutdown.drainsOnStopSignal must be false with shutdown.stopSignal ${this.stopSignal.name}: `
        + 'an app cannot handle it, so it cannot drain on it');
    }

    const d = this.deregistrationDelaySeconds;
    const s = this.drainTimeoutSeconds;
    const m = this.safetyMarginSeconds;
    // A draining app may get the stop signal once the LB has stopped sending, plus headroom for an
    // LB that is late; an abrupt one must also have finished its in-flight requests before the
    // signal, so the drain is waited out too.
    this.preStopSleepSeconds = this.drainsOnStopSignal ? d + m : d + m + s;

    const minimum = this.minimumTerminationGracePeriodSeconds;
    const explicitGrace = explicitAtLeast('terminationGracePeriod', options.terminationGracePeriod, minimum,
      this.minimumFormula(), 'a shorter grace period lets SIGKILL cut requests that are still in flight');
    this.terminationGracePeriodIsExplicit = explicitGrace !== undefined;
    this.terminationGracePeriodSeconds = explicitGrace ?? minimum + this.safetyMarginSeconds;

    this.startupSeconds = wholeSeconds('startupTimeout', options.startupDelay, 0);
    this.readinessDelaySeconds = wholeSeconds('readinessDelay', options.readinessDelay, 0);
    this.registrationDelaySeconds = wholeSeconds('registrationDelay', options.registrationDelay, 0);
    this.launchGated = options.launchGated ?? false;
    this.minReadySeconds = this.launchGated ? 0 : this.registrationDelaySeconds;
    const minimumDeadline = this.minimumProgressDeadlineSeconds;
    const explicitDeadline = explicitAtLeast('progressDeadline', options.progressDeadline, minimumDeadline,
      this.progressDeadlineFormula(), 'a shorter deadline marks a healthy rollout as failed');
    this.progressDeadlineSeconds = explicitDeadline ?? Math.max(DEFAULT_PROGRESS_DEADLINE_SECONDS, minimumDeadline);
  }

  /**
   * The longest one rollout step may legitimately take: a new pod starting and turning Ready, the load
   * balancer registering it (through the readiness gate or `minReadySeconds`), and an old pod
   * terminating, including the kubelet's one-off 2 s preStop extension.
   */
  public get minimumProgressDeadlineSeconds(): number {
    return this.startupSeconds + this.readinessDelaySeconds + this.registrationDelaySeconds
      + this.terminationGracePeriodSeconds + KUBELET_PRESTOP_EXTENSION_SECONDS;
  }

  /** Deregistration delay D. */
  public get deregistrationDelay(): Duration {
    return Duration.seconds(this.deregistrationDelaySeconds);
  }

  /** Drain timeout S. */
  public get drainTimeout(): Duration {
    return Duration.seconds(this.drainTimeoutSeconds);
  }

  /** Safety margin M. */
  public get safetyMargin(): Duration {
    return Duration.seconds(this.safetyMarginSeconds);
  }

  /** The preStop wait: D for a draining app, D + S for an abrupt one. */
  public get preStopSleep(): Duration {
    return Duration.seconds(this.preStopSleepSeconds);
  }

  /** The whole preStop hook's worst-case duration: the custom command plus the wait. */
  public get preStopTotalSeconds(): number {
    return this.preStopCommandSeconds + this.preStopSleepSeconds;
  }

  /** `terminationGracePeriodSeconds`, derived or explicit. */
  public get terminationGracePeriod(): Duration {
    return Duration.seconds(this.terminationGracePeriodSeconds);
  }

  /**
   * The shortest grace period that cannot cut an in-flight request: the whole preStop hook plus,
   * for a draining app, its drain (preStop command + D + M + S for both kinds of app).
   */
  public get minimumTerminationGracePeriodSeconds(): number {
    return this.latestExitSeconds;
  }

  /**
   * The latest moment, in seconds after deletion, by which the application has exited if it
   * honours its drain timeout.
   */
  public get latestExitSeconds(): number {
    return this.preStopTotalSeconds + (this.drainsOnStopSignal ? this.drainTimeoutSeconds : 0);
  }

  /**
   * The shutdown timeline as a few lines of text, for humans: what happens at which second
   * after the pod is deleted.
   */
  public describe(): string {
    const c = this.preStopCommandSeconds;
    const d = this.deregistrationDelaySeconds;
    const s = this.drainTimeoutSeconds;
    const p = this.preStopTotalSeconds;
    const g = this.terminationGracePeriodSeconds;
    // Name the signal the app really gets; undeclared, it is the image's STOPSIGNAL.
    const signal = this.stopSignal?.name ?? 'the stop signal';
    const signalEvent = this.stopSignal?.name ?? "stop signal (the image's STOPSIGNAL, SIGTERM if none)";
    const appKind = this.drainsOnStopSignal ? `drains on ${signal}` : `stops abruptly on ${signal}`;
    const events: Array<[number, string]> = [];

    const preStop = p === 0 ? 'no preStop hook' : c > 0
      ? `preStop starts: custom command (up to ${c}s), then sleep ${this.preStopSleepSeconds}`
      : `preStop starts: sleep ${this.preStopSleepSeconds}`;
    events.push([0, `pod deleted; LB deregistration starts; ${preStop}`]);
    events.push([d, `LB sends no new requests (deregistrationDelay); the wait goes on ${this.safetyMarginSeconds}s more for a late LB (safetyMargin)`]);
    if (this.drainsOnStopSignal) {
      events.push([p, `${signalEvent}: app stops accepting and drains in-flight requests (drainTimeout ${s}s)`]);
      events.push([this.latestExitSeconds, 'app has exited at the latest']);
    } else {
      events.push([p - s, `in-flight requests drain while preStop still waits (drainTimeout ${s}s)`]);
      events.push([p, `${signalEvent}: nothing left in flight, app exits`]);
    }
    const graceSource = this.terminationGracePeriodIsExplicit
      ? 'explicit terminationGracePeriod'
      : `terminationGracePeriodSeconds, safetyMargin ${this.safetyMarginSeconds}s`;
    events.push([g, `SIGKILL if still running (${graceSource})`]);

    // Events at the same second keep the causal order they were pushed in.
    const ordered = events
      .map((event, index) => ({ at: event[0], text: event[1], index }))
      .sort((a, b) => a.at - b.at || a.index - b.index);
    const launch: Array<[number, string]> = [];
    const u = this.startupSeconds;
    const r = u + this.readinessDelaySeconds;
    const l = this.registrationDelaySeconds;
    launch.push([0, 'new pod started']);
    if (u > 0) {
      launch.push([u, `startup probe passed at the latest (startupTimeout ${u}s); readiness probing starts`]);
    }
    launch.push([r, 'containers pass the readiness probe; the LB starts registering the pod']);
    if (this.launchGated) {
      launch.push([r + l, `LB reports it healthy (registration ${l}s); readiness gate opens: pod Ready and available`]);
    } else {
      launch.push([r + l, `minReadySeconds ${this.minReadySeconds} elapsed (registration ${l}s): pod available`]);
    }
    launch.push([r + l, 'the rollout may now delete an old pod (maxUnavailable 0)']);

    return [
      `Shutdown timeline (D=${d}s, S=${s}s, app ${appKind}):`,
      ...formatEvents(ordered),
      `Launch timeline (${this.launchGated ? 'readiness gate' : 'no readiness gate'}, progressDeadlineSeconds ${this.progressDeadlineSeconds}):`,
      ...formatEvents(launch.map((e, index) => ({ at: e[0], text: e[1], index }))),
    ].join('\n');
  }

  private progressDeadlineFormula(): string {
    return `startupTimeout (${this.startupSeconds}s) + readinessDelay (${this.readinessDelaySeconds}s) + registrationDelay (${this.registrationDelaySeconds}s) `
      + `+ terminationGracePeriod (${this.terminationGracePeriodSeconds}s) + the kubelet's ${KUBELET_PRESTOP_EXTENSION_SECONDS}s preStop extension`;
  }

  private minimumFormula(): string {
    const parts = [
      ...(this.preStopCommandSeconds > 0 ? [`preStopCommandDuration (${this.preStopCommandSeconds}s)`] : []),
      `deregistrationDelay (${this.deregistrationDelaySeconds}s)`,
      `safetyMargin (${this.safetyMarginSeconds}s)`,
      `drainTimeout (${this.drainTimeoutSeconds}s)`,
    ];
    return parts.join(' + ');
  }
}

/**
 * An explicit override in whole seconds, refused (never adjusted) when below its minimum.
 * Undefined when no override was given.
 */
function explicitAtLeast(prop: string, value: Duration | undefined, minimum: number, formula: string, consequence: string): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const explicit = wholeSeconds(prop, value);
  if (explicit < minimum) {
    throw new Error(`${prop} (${explicit}s) must be at least ${formula} = ${minimum}s; ${consequence}`);
  }
  return explicit;
}

/** Lines of `t=Ns  text`, with the times aligned. */
function formatEvents(events: Array<{ at: number; text: string }>): string[] {
  const width = Math.max(...events.map((e) => `t=${e.at}s`.length));
  return events.map((e) => `  ${`t=${e.at}s`.padEnd(width)}  ${e.text}`);
}

/**
 * Derives a budget from the declared budgets plus the launch inputs the construct (or a CLI
 * command reading a manifest) feeds in. Users call `ShutdownBudget.derive()` instead.
 *
 * @internal
 */
export function deriveShutdownBudget(inputs: ShutdownBudgetInputs): ShutdownBudget {
  return ShutdownBudget._fromInputs(inputs);
}
