import { ApiObject, Chart, Duration, Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { GatewayBindOptions, GatewayBinding } from './gateway';
import { HealthCheckSettings, secondsToHealthy } from './health-check';
import {
  LoadBalancerConfiguration,
  LoadBalancerConfigurationSpecScheme,
  TargetGroupConfiguration,
  TargetGroupConfigurationSpecDefaultConfigurationHealthCheckConfig,
  TargetGroupConfigurationSpecDefaultConfigurationHealthCheckConfigHealthCheckProtocol,
  TargetGroupConfigurationSpecDefaultConfigurationTargetType,
} from './imports/gateway.k8s.aws';
import type { ILoadBalancer, LoadBalancerBindOptions, LoadBalancerConfig, LoadBalancerLaunch } from './load-balancer';
import { checkPropTypes } from './prop-types';
import { checkRange, validateIngressClassName, wholeSeconds } from './validation';

/**
 * How the AWS Load Balancer Controller registers the service's pods with the ALB
 * (`alb.ingress.kubernetes.io/target-type`).
 */
export enum AwsAlbTargetType {
  /**
   * Pod IPs are the ALB's targets (needs the Amazon VPC CNI or another CNI that gives pods VPC
   * addresses). The Service is `ClusterIP`. Only this mode supports the pod readiness gate.
   */
  IP = 'ip',
  /**
   * The cluster's nodes are the targets, reached through a `NodePort` Service; kube-proxy
   * forwards to the pods. The ALB never sees the pods themselves.
   */
  INSTANCE = 'instance',
}

/**
 * Whether the ALB faces the internet (`alb.ingress.kubernetes.io/scheme`).
 */
export enum AwsAlbScheme {
  /** A public ALB. */
  INTERNET_FACING = 'internet-facing',
  /** An ALB reachable only from inside the VPC (the controller's default). */
  INTERNAL = 'internal',
}

/**
 * Settings for an ALB managed by the AWS Load Balancer Controller (EKS or any cluster running
 * the controller).
 *
 * @see https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/
 */
export interface AwsAlbProps {
  /**
   * The IngressClass served by the AWS Load Balancer Controller. Alibaba Cloud's ALB controller
   * uses the same default name, so a cluster running both must give one of them another class.
   *
   * @default "alb"
   */
  readonly ingressClassName?: string;

  /**
   * How pods are registered with the ALB. `IP` (pods are targets, `ClusterIP` Service) is what
   * the EKS Best Practices guide recommends and the only mode with a readiness gate.
   *
   * @default AwsAlbTargetType.IP
   */
  readonly targetType?: AwsAlbTargetType;

  /**
   * Whether the ALB is public or internal.
   *
   * @default - not emitted: the controller's default, an internal ALB
   */
  readonly scheme?: AwsAlbScheme;

  /**
   * Declare that the pods' namespace carries the label
   * `elbv2.k8s.aws/pod-readiness-gate-inject: enabled`, so the controller injects its readiness
   * gate into every pod created after the Ingress exists. The construct cannot see the cluster:
   * declare it only when it is true. A declared gate replaces `minReadySeconds`. Needs
   * `targetType: IP`.
   *
   * @default - true when readinessGateNamespace is given, otherwise false (no gate:
   * `minReadySeconds` covers the ALB's registration instead)
   */
  readonly readinessGateNamespaceLabelled?: boolean;

  /**
   * A `Namespace` object in the same chart, named like the chart's namespace, that the
   * construct labels `elbv2.k8s.aws/pod-readiness-gate-inject: enabled` so the controller
   * injects its readiness gate. Pass `ApiObject.of(namespace)` for a cdk8s-plus `Namespace`.
   * Needs `targetType: IP`.
   *
   * @default - the construct labels no namespace
   */
  readonly readinessGateNamespace?: ApiObject;

  /**
   * Emit the ALB health-check annotations, generated from the service's readiness probe (path,
   * port, interval, timeout, thresholds, the 200–399 success codes the kubelet accepts), so the
   * ALB and Kubernetes judge a pod the same way.
   *
   * @default true
   */
  readonly healthCheckAnnotations?: boolean;

  /**
   * The target group's deregistration delay (`deregistration_delay.timeout_seconds`, 0–3600 s):
   * how long the ALB lets requests already sent to a deregistered pod finish. This is the ALB's
   * draining window, not the shutdown budget's deregistrationDelay D. The ALB keeps routing new
   * requests to a draining target for up to D, and each may take the drain timeout S, so it
   * must be at least D + S. The ALB ends the delay early once nothing is in flight, so a long
   * value costs nothing.
   *
   * @default - derived: terminationGracePeriodSeconds (at most 3600 s)
   */
  readonly targetGroupDeregistrationDelay?: Duration;

  /**
   * Ramp a newly registered pod's share of requests up over this long
   * (`slow_start.duration_seconds`, 30–900 s).
   *
   * @default - no slow start
   */
  readonly slowStartDuration?: Duration;

  /**
   * More target group attributes for `alb.ingress.kubernetes.io/target-group-attributes`, for
   * example `{ 'load_balancing.algorithm.type': 'least_outstanding_requests' }`. The
   * deregistration delay and slow start have their own props and are refused here.
   *
   * @default - none
   */
  readonly targetGroupAttributes?: { [key: string]: string };
}

const PREFIX = 'alb.ingress.kubernetes.io';
const DEREGISTRATION_DELAY_ATTRIBUTE = 'deregistration_delay.timeout_seconds';
const SLOW_START_ATTRIBUTE = 'slow_start.duration_seconds';
/** The controller's own health check when none is configured: every 15 s, healthy after 2. */
const CONTROLLER_DEFAULT_HEALTH_CHECK = { intervalSeconds: 15, healthyThreshold: 2 };
/**
 * A Gateway target group without `healthCheckConfig` gets the ELB API's defaults
 * (targetgroupconfig.md: "Default health check configuration from AWS"): every 30 s, healthy after 5.
 */
const ELB_DEFAULT_HEALTH_CHECK = { intervalSeconds: 30, healthyThreshold: 5 };
/** The ELB API's range for `deregistration_delay.timeout_seconds`. */
const MAX_TARGET_GROUP_DEREGISTRATION_DELAY = 3600;

/**
 * An ALB managed by the AWS Load Balancer Controller. Create it with `LoadBalancer.awsAlb()`.
 *
 * The controller writes its readiness gate (`target-health.elbv2.k8s.aws/<target group binding>`)
 * itself, at pod creation, in labelled namespaces; this provider never writes it.
 */
export class AwsAlb implements ILoadBalancer {
  /**
   * D for IP targets. Users report the ALB still sends new requests to a draining pod for
   * 15–25 s (aws-load-balancer-controller #905, #1064) and the ELB API propagation alone at
   * about 10 s (#1719); the EKS Best Practices guide says a pod may take a minute or two to
   * deregister. 60 s is more than twice the longest reported need.
   */
  public static readonly DEFAULT_DEREGISTRATION_DELAY_IP = Duration.seconds(60);

  /**
   * D for instance targets. The ALB keeps its connections to the nodes, which kube-proxy
   * forwards to the old pod; users needed a 70 s preStop sleep before 502s stopped
   * (aws-load-balancer-controller #2106). 90 s errs long.
   */
  public static readonly DEFAULT_DEREGISTRATION_DELAY_INSTANCE = Duration.seconds(90);

  /** The namespace label that makes the controller inject its readiness gate. */
  public static readonly READINESS_GATE_INJECT_LABEL = 'elbv2.k8s.aws/pod-readiness-gate-inject';

  public readonly displayName = 'AWS ALB';
  public readonly defaultDeregistrationDelay: Duration;
  /** The IngressClass name. */
  public readonly ingressClassName: string;
  /** How pods are registered with the ALB. */
  public readonly targetType: AwsAlbTargetType;
  /** Whether the controller's readiness gate holds new pods (declared or arranged by the construct). */
  public readonly readinessGate: boolean;
  /** Whether health-check annotations mirror the readiness probe. */
  public readonly healthCheckAnnotations: boolean;
  private readonly props: AwsAlbProps;
  private readonly slowStartSeconds?: number;
  private readonly extraAttributes: { [key: string]: string };

  public constructor(props: AwsAlbProps = {}) {
    checkPropTypes('AwsAlbProps', props, 'loadBalancer');
    this.props = props;
    this.ingressClassName = props.ingressClassName ?? 'alb';
    validateIngressClassName('loadBalancer.ingressClassName', this.ingressClassName);
    this.targetType = props.targetType ?? AwsAlbTargetType.IP;
    this.defaultDeregistrationDelay = this.targetType === AwsAlbTargetType.IP
      ? AwsAlb.DEFAULT_DEREGISTRATION_DELAY_IP
      : AwsAlb.DEFAULT_DEREGISTRATION_DELAY_INSTANCE;
    this.healthCheckAnnotations = props.healthCheckAnnotations ?? true;

    if (props.readinessGateNamespaceLabelled === false && props.readinessGateNamespace !== undefined) {
      throw new Error(
        'loadBalancer.readinessGateNamespace is set but loadBalancer.readinessGateNamespaceLabelled is false: '
        + 'the construct would label the namespace, so remove one of them',
      );
    }
    this.readinessGate = props.readinessGateNamespaceLabelled ?? props.readinessGateNamespace !== undefined;
    if (this.readinessGate && this.targetType !== AwsAlbTargetType.IP) {
      throw new Error(
        'the AWS ALB readiness gate (loadBalancer.readinessGateNamespaceLabelled / readinessGateNamespace) needs '
        + 'loadBalancer.targetType IP: with instance targets the ALB checks nodes, and the controller injects no gate',
      );
    }
    if (props.readinessGateNamespace !== undefined && props.readinessGateNamespace.kind !== 'Namespace') {
      throw new Error(
        `loadBalancer.readinessGateNamespace must be a Namespace, got a ${props.readinessGateNamespace.kind}`,
      );
    }

    if (props.slowStartDuration !== undefined) {
      this.slowStartSeconds = wholeSeconds('loadBalancer.slowStartDuration', props.slowStartDuration);
      checkRange('loadBalancer.slowStartDuration', this.slowStartSeconds, 30, 900, this.displayName, 's');
    }
    this.extraAttributes = validateAttributes(props.targetGroupAttributes ?? {});
  }

  public launch(healthCheck: HealthCheckSettings): LoadBalancerLaunch {
    const check = this.healthCheckAnnotations ? healthCheck : CONTROLLER_DEFAULT_HEALTH_CHECK;
    return {
      // The controller injects the gate itself; the construct never writes it.
      gated: this.readinessGate,
      registrationDelay: Duration.seconds(secondsToHealthy(check) + this.defaultDeregistrationDelay.toSeconds()),
      readinessGates: [],
    };
  }

  public bind(scope: Construct, options: LoadBalancerBindOptions): LoadBalancerConfig {
    const healthCheck = this.healthCheckAnnotations ? this.healthCheckAnnotationsFor(options.healthCheck) : {};
    const attributes = this.attributesFor(options);
    if (this.props.readinessGateNamespace !== undefined) {
      // Last: everything that can be refused has been checked before the namespace is touched.
      labelNamespace(scope, this.props.readinessGateNamespace);
    }
    return {
      serviceType: this.targetType === AwsAlbTargetType.IP ? kplus.ServiceType.CLUSTER_IP : kplus.ServiceType.NODE_PORT,
      ingressClassName: this.ingressClassName,
      ingressAnnotations: {
        // Always written, even for the default, so the Ingress says which vendor it is for.
        [`${PREFIX}/target-type`]: this.targetType,
        ...(this.props.scheme !== undefined ? { [`${PREFIX}/scheme`]: this.props.scheme } : {}),
        ...healthCheck,
        [`${PREFIX}/target-group-attributes`]: Object.entries(attributes).map(([k, v]) => `${k}=${v}`).join(','),
      },
      // The controller gives the Service's alb.ingress.kubernetes.io/* annotations priority over the Ingress's.
      serviceOverridesIngressPrefix: `${PREFIX}/`,
    };
  }

  /**
   * The launch side behind a Gateway: the same readiness gate as for an Ingress (the controller
   * backs Gateway target groups with TargetGroupBindings, which its webhook reads), and the ELB
   * API's health-check defaults when the probe is not mirrored.
   *
   * @internal
   */
  public _gatewayLaunch(healthCheck: HealthCheckSettings): LoadBalancerLaunch {
    const check = this.healthCheckAnnotations ? healthCheck : ELB_DEFAULT_HEALTH_CHECK;
    return {
      gated: this.readinessGate,
      registrationDelay: Duration.seconds(secondsToHealthy(check) + this.defaultDeregistrationDelay.toSeconds()),
      readinessGates: [],
    };
  }

  /**
   * Behind a Gateway of the controller's class (`gateway.k8s.aws/alb`): a TargetGroupConfiguration
   * for the Service carries the target type, the health check and the target group attributes the
   * Ingress annotations carry otherwise; a created Gateway gets a LoadBalancerConfiguration.
   *
   * @internal
   */
  public _bindGateway(scope: Construct, options: GatewayBindOptions): GatewayBinding {
    const healthCheck = this.healthCheckAnnotations ? this.targetGroupHealthCheck(options.healthCheck) : undefined;
    const attributes = this.attributesFor(options);
    const metadata = { ...(options.name === undefined ? {} : { name: options.name }), labels: options.labels };
    return {
      serviceType: this.targetType === AwsAlbTargetType.IP ? kplus.ServiceType.CLUSTER_IP : kplus.ServiceType.NODE_PORT,
      attach: (service) => {
        new TargetGroupConfiguration(scope, 'TargetGroupConfiguration', {
          metadata,
          spec: {
            targetReference: { name: service.name },
            defaultConfiguration: {
              // Written even for the Ingress default: the Gateway controller's own default is instance.
              targetType: this.targetType === AwsAlbTargetType.IP
                ? TargetGroupConfigurationSpecDefaultConfigurationTargetType.IP
                : TargetGroupConfigurationSpecDefaultConfigurationTargetType.INSTANCE,
              ...(healthCheck ? { healthCheckConfig: healthCheck } : {}),
              targetGroupAttributes: Object.entries(attributes).map(([key, value]) => ({ key, value })),
            },
          },
        });
        if (this.props.readinessGateNamespace !== undefined) {
          labelNamespace(scope, this.props.readinessGateNamespace);
        }
      },
      infrastructure: (gatewayName) => {
        const config = new LoadBalancerConfiguration(scope, 'LoadBalancerConfiguration', {
          metadata: { name: gatewayName, labels: options.labels },
          spec: {
            // The controller's default, internal, is written out so the object says what it asks for.
            scheme: this.props.scheme === AwsAlbScheme.INTERNET_FACING
              ? LoadBalancerConfigurationSpecScheme.INTERNET_HYPHEN_FACING
              : LoadBalancerConfigurationSpecScheme.INTERNAL,
          },
        });
        return { group: 'gateway.k8s.aws', kind: 'LoadBalancerConfiguration', name: config.name };
      },
    };
  }

  /** The TargetGroupConfiguration health check mirroring the readiness probe, in the ELB API's ranges. */
  private targetGroupHealthCheck(check: HealthCheckSettings): TargetGroupConfigurationSpecDefaultConfigurationHealthCheckConfig {
    this.checkHealthCheckRanges(check);
    return {
      healthCheckPath: check.path,
      // healthCheckPort left out: the target's traffic port (the pod's, or the NodePort for instance targets).
      healthCheckProtocol: TargetGroupConfigurationSpecDefaultConfigurationHealthCheckConfigHealthCheckProtocol.HTTP,
      healthCheckInterval: check.intervalSeconds,
      healthCheckTimeout: check.timeoutSeconds,
      healthyThresholdCount: check.healthyThreshold,
      unhealthyThresholdCount: check.unhealthyThreshold,
      // The kubelet counts 200–399 as success; the ALB should too.
      matcher: { httpCode: '200-399' },
    };
  }

  /** The target group attributes: the derived deregistration delay, slow start, then the user's. */
  private attributesFor(options: LoadBalancerBindOptions): { [key: string]: string } {
    const budget = options.budget;
    const minimum = budget.deregistrationDelaySeconds + budget.drainTimeoutSeconds;
    const explain = `deregistrationDelay (${budget.deregistrationDelaySeconds}s) + drainTimeout (${budget.drainTimeoutSeconds}s) = ${minimum}s`;
    let delay: number;
    if (this.props.targetGroupDeregistrationDelay !== undefined) {
      delay = wholeSeconds('loadBalancer.targetGroupDeregistrationDelay', this.props.targetGroupDeregistrationDelay);
      checkRange('loadBalancer.targetGroupDeregistrationDelay', delay, 0, MAX_TARGET_GROUP_DEREGISTRATION_DELAY, this.displayName, 's');
      if (delay < minimum) {
        throw new Error(
          `loadBalancer.targetGroupDeregistrationDelay (${delay}s) must be at least ${explain}: the ALB routes new `
          + 'requests to a draining pod for up to the deregistration delay, and would cut them before the app has finished',
        );
      }
    } else {
      if (minimum > MAX_TARGET_GROUP_DEREGISTRATION_DELAY) {
        throw new Error(
          `${explain} exceeds the ${MAX_TARGET_GROUP_DEREGISTRATION_DELAY}s the ALB can drain a target for: `
          + 'requests would be cut; shorten shutdown.drainTimeout or shutdown.deregistrationDelay',
        );
      }
      delay = Math.min(budget.terminationGracePeriodSeconds, MAX_TARGET_GROUP_DEREGISTRATION_DELAY);
    }
    return {
      [DEREGISTRATION_DELAY_ATTRIBUTE]: String(delay),
      ...(this.slowStartSeconds !== undefined ? { [SLOW_START_ATTRIBUTE]: String(this.slowStartSeconds) } : {}),
      ...this.extraAttributes,
    };
  }

  private healthCheckAnnotationsFor(check: HealthCheckSettings): { [key: string]: string } {
    this.checkHealthCheckRanges(check);
    return {
      [`${PREFIX}/healthcheck-path`]: check.path,
      // The port the ALB sends traffic to: the pod's port (IP) or the Service's NodePort (instance).
      [`${PREFIX}/healthcheck-port`]: 'traffic-port',
      [`${PREFIX}/healthcheck-protocol`]: 'HTTP',
      [`${PREFIX}/healthcheck-interval-seconds`]: String(check.intervalSeconds),
      [`${PREFIX}/healthcheck-timeout-seconds`]: String(check.timeoutSeconds),
      [`${PREFIX}/healthy-threshold-count`]: String(check.healthyThreshold),
      [`${PREFIX}/unhealthy-threshold-count`]: String(check.unhealthyThreshold),
      // The kubelet counts 200–399 as success; the ALB should too.
      [`${PREFIX}/success-codes`]: '200-399',
    };
  }

  /** The ELB API's ranges for ALB target group health checks. */
  private checkHealthCheckRanges(check: HealthCheckSettings): void {
    checkRange('healthCheck.interval', check.intervalSeconds, 5, 300, this.displayName, 's');
    checkRange('healthCheck.timeout', check.timeoutSeconds, 2, 120, this.displayName, 's');
    checkRange('healthCheck.healthyThreshold', check.healthyThreshold, 2, 10, this.displayName);
    checkRange('healthCheck.unhealthyThreshold', check.unhealthyThreshold, 2, 10, this.displayName);
    if (check.timeoutSeconds >= check.intervalSeconds) {
      throw new Error(
        `healthCheck.timeout (${check.timeoutSeconds}s) must be shorter than healthCheck.interval `
        + `(${check.intervalSeconds}s) for ${this.displayName}: the ELB API rejects the target group otherwise`,
      );
    }
  }
}

/** Extra target group attributes: plain `key=value` pairs that cannot break the annotation's list syntax. */
function validateAttributes(attributes: { [key: string]: string }): { [key: string]: string } {
  for (const [key, value] of Object.entries(attributes)) {
    if (key === DEREGISTRATION_DELAY_ATTRIBUTE) {
      throw new Error(`loadBalancer.targetGroupAttributes["${key}"]: use loadBalancer.targetGroupDeregistrationDelay, which is checked against the shutdown budget`);
    }
    if (key === SLOW_START_ATTRIBUTE) {
      throw new Error(`loadBalancer.targetGroupAttributes["${key}"]: use loadBalancer.slowStartDuration`);
    }
    if (!/^[a-z0-9_.]+$/.test(key)) {
      throw new Error(`loadBalancer.targetGroupAttributes key "${key}" must be a target group attribute name such as stickiness.enabled`);
    }
    if (value === '' || /[,=\s]/.test(value)) {
      throw new Error(`loadBalancer.targetGroupAttributes["${key}"] is "${value}": a value must be non-empty, without ",", "=" or whitespace`);
    }
  }
  return { ...attributes };
}

/**
 * Labels the chart's own Namespace object so the controller injects its readiness gate into
 * the pods. The namespace must be the one the pods are created in.
 */
function labelNamespace(scope: Construct, namespace: ApiObject): void {
  const chartNamespace = Chart.of(scope).namespace;
  if (chartNamespace === undefined) {
    throw new Error(
      `loadBalancer.readinessGateNamespace "${namespace.name}" cannot be checked: the chart sets no namespace, `
      + 'so the pods\' namespace is only known when applied. Set the chart\'s namespace, or label the namespace '
      + 'yourself and declare loadBalancer.readinessGateNamespaceLabelled',
    );
  }
  if (namespace.name !== chartNamespace) {
    throw new Error(
      `loadBalancer.readinessGateNamespace is "${namespace.name}", but the pods are created in "${chartNamespace}": `
      + 'the controller only injects its gate into pods of a labelled namespace',
    );
  }
  const services = LABELLED_NAMESPACES.get(namespace);
  if (services !== undefined) {
    services.push(scope);
    return;
  }
  const existing = namespace.metadata.getLabel(AwsAlb.READINESS_GATE_INJECT_LABEL);
  if (existing !== undefined && existing !== 'enabled') {
    throw new Error(
      `loadBalancer.readinessGateNamespace "${namespace.name}" has ${AwsAlb.READINESS_GATE_INJECT_LABEL}=${existing}; `
      + 'the readiness gate needs "enabled"',
    );
  }
  if (existing === 'enabled') {
    return;
  }
  // Resolved at synth: the label is written only if a service that asked for it still exists.
  // A service the construct refuses after binding removes its children, so it leaves no label.
  const requesters: Construct[] = [scope];
  LABELLED_NAMESPACES.set(namespace, requesters);
  const label = Lazy.any({
    produce: () => (requesters.some((s) => s.node.children.length > 0) ? 'enabled' : undefined),
  });
  namespace.metadata.addLabel(AwsAlb.READINESS_GATE_INJECT_LABEL, label as unknown as string);
}

/** The services that asked for each namespace's readiness-gate label. */
const LABELLED_NAMESPACES = new WeakMap<ApiObject, Construct[]>();
