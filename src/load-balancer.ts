import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { AlibabaAlb, AlibabaAlbProps } from './alibaba-alb';
import { AwsAlb, AwsAlbProps } from './aws-alb';
import { ShutdownBudget } from './budget';
import { GkeIngress, GkeIngressProps } from './gke-ingress';
import { HealthCheckSettings } from './health-check';
import { TencentClb, TencentClbProps } from './tencent-clb';

/**
 * What `GracefulWebService` tells a load balancer when it binds it.
 */
export interface LoadBalancerBindOptions {
  /** The derived shutdown budget of the service. */
  readonly budget: ShutdownBudget;

  /** The port the Service exposes (and the container listens on). */
  readonly port: number;

  /** The health check the container's readiness probe uses; the LB's should match it. */
  readonly healthCheck: HealthCheckSettings;

  /**
   * The host the Ingress routes.
   *
   * @default - every host
   */
  readonly host?: string;

  /** The path the Ingress routes. */
  readonly path: string;

  /**
   * The name every object of the service carries (`GracefulWebServiceProps.name`); objects the
   * provider adds should use it too.
   *
   * @default - generated names
   */
  readonly name?: string;

  /**
   * Labels every object of the service carries; objects the provider adds should carry them too.
   *
   * @default - none
   */
  readonly labels?: { [key: string]: string };
}

/**
 * What the load balancer contributes to the launch side of a rollout, known before binding.
 */
export interface LoadBalancerLaunch {
  /**
   * Whether a readiness gate (written by the construct or injected by the provider) holds new
   * pods un-Ready until the load balancer reports them healthy.
   */
  readonly gated: boolean;

  /**
   * How long the load balancer needs to register a new pod and see it healthy: health-check
   * interval × healthy threshold + the controller's reconcile delay.
   */
  readonly registrationDelay: Duration;

  /**
   * Readiness-gate condition types the construct must write on the pod template.
   *
   * @default - none
   */
  readonly readinessGates?: string[];
}

/**
 * What a load balancer needs the construct to emit: the Service type, the Ingress class and
 * annotations.
 */
export interface LoadBalancerConfig {
  /** The Service type the load balancer needs to reach the pods. */
  readonly serviceType: kplus.ServiceType;

  /**
   * The Ingress's `spec.ingressClassName`.
   *
   * @default - not set (the class is selected by an annotation, or the cluster default applies)
   */
  readonly ingressClassName?: string;

  /**
   * Annotations the Ingress must carry.
   *
   * @default - none
   */
  readonly ingressAnnotations?: { [key: string]: string };

  /**
   * Annotations the Service must carry.
   *
   * @default - none
   */
  readonly serviceAnnotations?: { [key: string]: string };

  /**
   * An annotation prefix the controller reads on the Service *before* the Ingress: a
   * `serviceAnnotations` key with this prefix overrides the Ingress annotation of the same key
   * (the AWS Load Balancer Controller does this for `alb.ingress.kubernetes.io/`). The construct
   * refuses a user Service annotation that would override a derived Ingress annotation with a
   * different value.
   *
   * @default - the controller reads load-balancer settings from the Ingress only
   */
  readonly serviceOverridesIngressPrefix?: string;
}

/**
 * A cloud load balancer in front of a `GracefulWebService`.
 *
 * Each implementation owns everything specific to its provider: class selection, annotations,
 * the Service type, its default deregistration delay and its own validation. Use the
 * factories on `LoadBalancer`, or implement this interface for another provider.
 *
 * Validate settings in `launch()` and `bind()`, not in the constructor, and throw plain
 * messages that start with the prop (`loadBalancer.x ...`): the construct calls both and
 * prefixes every error with its path (`<chart>/<id>: `), which a constructor, evaluated before
 * the service exists, cannot get.
 */
export interface ILoadBalancer {
  /** A human-readable name, used in error messages and timelines (e.g. "Alibaba Cloud ALB"). */
  readonly displayName: string;

  /**
   * The provider's worst-case time from pod deletion until the LB stops sending new requests,
   * used when the service does not declare `shutdown.deregistrationDelay`.
   */
  readonly defaultDeregistrationDelay: Duration;

  /**
   * How new pods join this load balancer, for the given health check: whether a readiness gate
   * holds them and how long registration takes.
   */
  launch(healthCheck: HealthCheckSettings): LoadBalancerLaunch;

  /**
   * Validates the provider settings against the service and returns what to emit. A provider
   * may add its own objects (for example a `TkeServiceConfig`) under `scope`.
   *
   * @throws when the combination would drop requests or is rejected by the provider.
   */
  bind(scope: Construct, options: LoadBalancerBindOptions): LoadBalancerConfig;
}

/**
 * Factories for the supported load balancers.
 */
export class LoadBalancer {
  // Every factory defers a settings error to the service that uses the load balancer: the
  // factory runs before the service exists, and the service prefixes each error with its path.

  /**
   * Alibaba Cloud ACK with an ALB Ingress (`ingressClassName: alb`).
   */
  public static alibabaAlb(props: AlibabaAlbProps = {}): ILoadBalancer {
    return deferErrors(() => new AlibabaAlb(props));
  }

  /**
   * Tencent Cloud TKE with a CLB Ingress (`kubernetes.io/ingress.class: qcloud`).
   */
  public static tencentClb(props: TencentClbProps = {}): ILoadBalancer {
    return deferErrors(() => new TencentClb(props));
  }

  /**
   * An ALB managed by the AWS Load Balancer Controller (`ingressClassName: alb`, pods as IP
   * targets by default).
   */
  public static awsAlb(props: AwsAlbProps = {}): ILoadBalancer {
    return deferErrors(() => new AwsAlb(props));
  }

  /**
   * A GKE Ingress with container-native load balancing (`kubernetes.io/ingress.class: gce`,
   * NEGs and a `BackendConfig`).
   */
  public static gkeIngress(props: GkeIngressProps = {}): ILoadBalancer {
    return deferErrors(() => new GkeIngress(props));
  }

  private constructor() {}
}

/**
 * The provider, or, when its constructor refuses the settings, a stand-in that raises the same
 * error once a service uses it (in `launch()`, the first call the construct makes), where the
 * construct prefixes it with its path (`<chart>/<id>: `).
 */
function deferErrors(create: () => ILoadBalancer): ILoadBalancer {
  try {
    return create();
  } catch (error) {
    return new RefusedLoadBalancer(error instanceof Error ? error : new Error(String(error)));
  }
}

/** Load-balancer settings that were refused; any use raises the refusal. */
class RefusedLoadBalancer implements ILoadBalancer {
  public readonly displayName = 'refused load balancer settings';
  public readonly defaultDeregistrationDelay = Duration.seconds(0);

  public constructor(private readonly error: Error) {}

  public launch(_healthCheck: HealthCheckSettings): LoadBalancerLaunch {
    throw this.error;
  }

  public bind(_scope: Construct, _options: LoadBalancerBindOptions): LoadBalancerConfig {
    throw this.error;
  }

  /** @internal */
  public _gatewayLaunch(_healthCheck: HealthCheckSettings): LoadBalancerLaunch {
    throw this.error;
  }

  /** @internal */
  public _bindGateway(_scope: Construct, _options: LoadBalancerBindOptions): LoadBalancerConfig {
    throw this.error;
  }
}
