import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { HealthCheckSettings, secondsToHealthy } from './health-check';
import type { ILoadBalancer, LoadBalancerBindOptions, LoadBalancerConfig, LoadBalancerLaunch } from './load-balancer';
import { checkPropTypes } from './prop-types';
import { checkRange, validateIngressClassName, wholeSeconds } from './validation';

/**
 * Settings for an Alibaba Cloud ACK ALB Ingress.
 *
 * @see https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/alb-ingress-configuration-dictionary
 */
export interface AlibabaAlbProps {
  /**
   * The IngressClass that selects the ALB instance (through its `AlbConfig`).
   *
   * @default "alb"
   */
  readonly ingressClassName?: string;

  /**
   * Whether the ALB registers pods directly as backends (Terway network plugin). The Service
   * is then `ClusterIP`; otherwise (Flannel) the ALB targets nodes through a `NodePort` Service.
   *
   * @default false
   */
  readonly directAccess?: boolean;

  /**
   * Write the ALB readiness gate (`target-health.alb.k8s.alibabacloud`) on the pods, so a new
   * pod only turns Ready, and an old one is only removed, once the ALB has registered the new
   * pod and seen it healthy. Needs `directAccess`: with NodePort targets the gate would never open.
   *
   * @default - true with directAccess, false without
   */
  readonly readinessGate?: boolean;

  /**
   * Emit the ALB health-check annotations, generated from the service's readiness probe (path,
   * interval, timeout, thresholds, accepted status codes), so the ALB and Kubernetes judge a pod
   * the same way. The probe's timing is then checked against the ALB's ranges.
   * (Renamed from `healthCheck`; see CHANGELOG.md.)
   *
   * @default true
   */
  readonly healthCheckAnnotations?: boolean;

  /**
   * Keep connections to a deregistered backend open until `connectionDrainTimeout`
   * (`connection-drain-enabled`). Not available on the ALB Basic edition.
   *
   * @default - true when connectionDrainTimeout is set, otherwise false
   */
  readonly connectionDrain?: boolean;

  /**
   * How long the ALB keeps connections to a deregistered backend (0–900 s). It must be at least
   * the service's drainTimeout, or the ALB cuts requests the app is still serving.
   *
   * @default - the service's shutdown.drainTimeout
   */
  readonly connectionDrainTimeout?: Duration;

  /**
   * Ramp traffic to a newly registered backend up gradually (`slow-start-enabled`).
   * Not available on the ALB Basic edition.
   *
   * @default - true when slowStartDuration is set, otherwise false
   */
  readonly slowStart?: boolean;

  /**
   * How long slow start ramps up a new backend (30–900 s).
   *
   * @default Duration.seconds(30)
   */
  readonly slowStartDuration?: Duration;
}

const PREFIX = 'alb.ingress.kubernetes.io';

/**
 * Alibaba Cloud ACK ALB Ingress. Create it with `LoadBalancer.alibabaAlb()`.
 */
export class AlibabaAlb implements ILoadBalancer {
  /**
   * ACK's documentation gives about 10 seconds for an ALB Ingress change to take effect, and
   * its high-availability guide pairs that with `sleep 10`. The default covers the largest lag
   * the `alibaba-alb` rehearsal profile draws (15 s, a tail above the documented 10 s), so the
   * derived wait (D + margin, 20 s) strictly exceeds every lag the rehearsal can draw: a wait that
   * only ties the lag drops requests. Measure your own with the lag meter and set
   * `shutdown.deregistrationDelay`.
   */
  public static readonly DEFAULT_DEREGISTRATION_DELAY = Duration.seconds(15);

  /**
   * The vendor's documented figure: ACK's figure for an ALB Ingress change to take effect. `check` judges manifests written
   * by others against it (a manifest that follows the vendor's advice is not an error); the
   * construct's own default, `DEFAULT_DEREGISTRATION_DELAY`, is longer.
   */
  public static readonly DOCUMENTED_DEREGISTRATION_DELAY = Duration.seconds(10);

  /** The readiness-gate condition the ALB controller sets once a pod is registered and healthy. */
  public static readonly READINESS_GATE = 'target-health.alb.k8s.alibabacloud';

  public readonly displayName = 'Alibaba Cloud ALB';
  public readonly defaultDeregistrationDelay = AlibabaAlb.DEFAULT_DEREGISTRATION_DELAY;
  /** The IngressClass name. */
  public readonly ingressClassName: string;
  /** Whether pods are the ALB's backends. */
  public readonly directAccess: boolean;
  /** Whether the pods carry the ALB readiness gate. */
  public readonly readinessGate: boolean;
  private readonly props: AlibabaAlbProps;

  // The constructor only records the settings: it runs before the service exists (the user
  // evaluates `LoadBalancer.alibabaAlb({...})` first), so every check runs in launch() and
  // bind(), inside the construct, where errors get the construct path.
  public constructor(props: AlibabaAlbProps = {}) {
    checkPropTypes('AlibabaAlbProps', props, 'loadBalancer');
    this.props = props;
    this.ingressClassName = props.ingressClassName ?? 'alb';
    this.directAccess = props.directAccess ?? false;
    this.readinessGate = props.readinessGate ?? this.directAccess;
  }

  /**
   * Refuses the Gateway API: Alibaba Cloud ALB has no Gateway path whose draining the construct can derive.
   *
   * @internal
   */
  public _gatewayLaunch(_healthCheck: HealthCheckSettings): LoadBalancerLaunch {
    throw new Error(GATEWAY_REFUSAL);
  }

  /** @internal */
  public _bindGateway(_scope: Construct, _options: LoadBalancerBindOptions): LoadBalancerConfig {
    throw new Error(GATEWAY_REFUSAL);
  }

  public launch(healthCheck: HealthCheckSettings): LoadBalancerLaunch {
    this.validate();
    return {
      gated: this.readinessGate,
      registrationDelay: Duration.seconds(
        secondsToHealthy(healthCheck) + this.defaultDeregistrationDelay.toSeconds(),
      ),
      readinessGates: this.readinessGate ? [AlibabaAlb.READINESS_GATE] : [],
    };
  }

  public bind(_scope: Construct, options: LoadBalancerBindOptions): LoadBalancerConfig {
    const { connectionDrain, slowStart, slowStartSeconds } = this.validate();
    return {
      serviceType: this.directAccess ? kplus.ServiceType.CLUSTER_IP : kplus.ServiceType.NODE_PORT,
      ingressClassName: this.ingressClassName,
      ingressAnnotations: {
        ...this.healthCheckAnnotations(options.healthCheck),
        ...(connectionDrain ? this.connectionDrainAnnotations(options) : {}),
        ...(slowStart ? {
          [`${PREFIX}/slow-start-enabled`]: 'true',
          [`${PREFIX}/slow-start-duration`]: String(slowStartSeconds),
        } : {}),
      },
    };
  }

  /** The provider's own rules; plain messages (the construct prefixes its path). */
  private validate(): { connectionDrain: boolean; slowStart: boolean; slowStartSeconds: number } {
    const props = this.props;
    validateIngressClassName('loadBalancer.ingressClassName', this.ingressClassName);
    if (this.readinessGate && !this.directAccess) {
      throw new Error(
        'loadBalancer.readinessGate needs loadBalancer.directAccess: with NodePort targets the ALB never '
        + 'registers pods, so the gate would never open and every rollout would stall',
      );
    }
    const connectionDrain = explicitSwitch('connectionDrain', props.connectionDrain, 'connectionDrainTimeout', props.connectionDrainTimeout);
    const slowStart = explicitSwitch('slowStart', props.slowStart, 'slowStartDuration', props.slowStartDuration);
    const slowStartSeconds = wholeSeconds('loadBalancer.slowStartDuration', props.slowStartDuration, 30);
    checkRange('loadBalancer.slowStartDuration', slowStartSeconds, 30, 900, this.displayName, 's');
    return { connectionDrain, slowStart, slowStartSeconds };
  }

  private healthCheckAnnotations(check: HealthCheckSettings): { [key: string]: string } {
    if (this.props.healthCheckAnnotations === false) {
      return {};
    }
    checkRange('healthCheck.interval', check.intervalSeconds, 1, 50, this.displayName, 's');
    checkRange('healthCheck.timeout', check.timeoutSeconds, 1, 300, this.displayName, 's');
    checkRange('healthCheck.healthyThreshold', check.healthyThreshold, 2, 10, this.displayName);
    checkRange('healthCheck.unhealthyThreshold', check.unhealthyThreshold, 2, 10, this.displayName);
    return {
      [`${PREFIX}/healthcheck-enabled`]: 'true',
      [`${PREFIX}/healthcheck-path`]: check.path,
      [`${PREFIX}/healthcheck-protocol`]: 'HTTP',
      // The kubelet probes with GET and accepts 2xx and 3xx; the ALB should judge the same way.
      [`${PREFIX}/healthcheck-method`]: 'GET',
      // `healthcheck-code` is the current key and wins over `healthcheck-httpcode` where both are
      // set; controllers that predate it only read `healthcheck-httpcode`. Both carry the same
      // value, so every controller version judges the same status codes.
      [`${PREFIX}/healthcheck-code`]: 'http_2xx,http_3xx',
      [`${PREFIX}/healthcheck-httpcode`]: 'http_2xx,http_3xx',
      [`${PREFIX}/healthcheck-interval-seconds`]: String(check.intervalSeconds),
      [`${PREFIX}/healthcheck-timeout-seconds`]: String(check.timeoutSeconds),
      [`${PREFIX}/healthy-threshold-count`]: String(check.healthyThreshold),
      [`${PREFIX}/unhealthy-threshold-count`]: String(check.unhealthyThreshold),
    };
  }

  private connectionDrainAnnotations(options: LoadBalancerBindOptions): { [key: string]: string } {
    const drain = options.budget.drainTimeoutSeconds;
    const timeout = wholeSeconds('loadBalancer.connectionDrainTimeout', this.props.connectionDrainTimeout, drain);
    checkRange('loadBalancer.connectionDrainTimeout', timeout, 0, 900, this.displayName, 's');
    if (timeout < drain) {
      throw new Error(
        `loadBalancer.connectionDrainTimeout (${timeout}s) must be at least shutdown.drainTimeout (${drain}s): `
        + 'the ALB would close connections on requests the app is still serving',
      );
    }
    return {
      [`${PREFIX}/connection-drain-enabled`]: 'true',
      [`${PREFIX}/connection-drain-timeout`]: String(timeout),
    };
  }
}

/**
 * An on/off switch whose value setting implies "on". Turning it off explicitly while setting
 * the value is contradictory, so it is an error rather than a guess.
 */
function explicitSwitch(name: string, enabled: boolean | undefined, valueName: string, value: Duration | undefined): boolean {
  if (enabled === false && value !== undefined) {
    throw new Error(`loadBalancer.${valueName} is set but loadBalancer.${name} is false: remove one of them`);
  }
  return enabled ?? value !== undefined;
}

/** Why `gateway` is refused with Alibaba Cloud ALB. */
const GATEWAY_REFUSAL = 'gateway is not supported with Alibaba Cloud ALB: ACK serves the Gateway API from ALB Ingress '
  + 'Controller 2.17.0, but an ALB Gateway backend\'s connection draining and health check live in its own AlbServerGroup '
  + 'resource, whose schema the construct does not have to derive and check them. Leave gateway out to emit the ALB '
  + 'Ingress, which carries both as annotations (see docs/gateway-api.md)';
