import { ApiObject, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { HealthCheckSettings, secondsToHealthy } from './health-check';
import type { ILoadBalancer, LoadBalancerBindOptions, LoadBalancerConfig, LoadBalancerLaunch } from './load-balancer';
import { checkPropTypes } from './prop-types';
import { checkRange, validateIngressClassName } from './validation';

/**
 * How a Tencent CLB Ingress names its class. Kubernetes rejects an Ingress that sets both, so
 * exactly one is emitted.
 */
export enum TencentIngressClassMode {
  /** The `kubernetes.io/ingress.class` annotation: what the TKE controller documents. */
  ANNOTATION = 'ANNOTATION',
  /** `spec.ingressClassName`, for clusters that define a matching IngressClass. */
  SPEC = 'SPEC',
}

/**
 * Settings for a Tencent Cloud TKE CLB Ingress.
 *
 * @see https://www.tencentcloud.com/document/product/457/42069
 */
export interface TencentClbProps {
  /**
   * The ingress class the TKE controller serves, written where `ingressClassMode` says.
   * (Renamed from `ingressClass`, to match the other providers; see CHANGELOG.md.)
   *
   * @default "qcloud"
   */
  readonly ingressClassName?: string;

  /**
   * Where the class is written: the annotation or `spec.ingressClassName` (never both).
   *
   * @default TencentIngressClassMode.ANNOTATION
   */
  readonly ingressClassMode?: TencentIngressClassMode;

  /**
   * CLB direct access: the CLB sends traffic straight to pod IPs
   * (`ingress.cloud.tencent.com/direct-access`). Needs VPC-CNI networking or the cluster's
   * `GlobalRouteDirectAccess` switch. Without it the Service is `NodePort`.
   *
   * @default true
   */
  readonly directAccess?: boolean;

  /**
   * Set a pod's CLB weight to 0 as soon as it is Terminating
   * (`ingress.cloud.tencent.com/enable-grace-shutdown`). Only works with direct access.
   *
   * @default - true with direct access, false without
   */
  readonly graceShutdown?: boolean;

  /**
   * Set the CLB weight to 0 for endpoints that turn not-ready while running
   * (`ingress.cloud.tencent.com/enable-grace-shutdown-tkex`). Only works with direct access.
   *
   * @default - true with direct access, false without
   */
  readonly graceShutdownOnUnhealthy?: boolean;

  /**
   * Make pod deletion wait until the pod's CLB weight is 0
   * (`ingress.cloud.tencent.com/enable-grace-deletion`). Needs direct access, the TKE
   * Service/Ingress component v2.5.0 or later and node-side pod deletion protection
   * (https://cloud.tencent.com/document/product/457/109977); opt in
   * only where that is in place.
   *
   * @default false
   */
  readonly graceDeletion?: boolean;

  /**
   * Emit a `TkeServiceConfig` (`cloud.tencent.com/v1alpha1`) that gives the CLB the same health
   * check as the container's readiness probe, referenced by
   * `ingress.cloud.tencent.com/tke-service-config`. Needs the CRD that TKE installs.
   *
   * @default false - the CLB uses its default health check
   */
  readonly tkeServiceConfig?: boolean;

  /**
   * Reuse an existing CLB instead of creating one (`kubernetes.io/ingress.existLbId`).
   *
   * @default - TKE creates a CLB for the Ingress
   */
  readonly existingLoadBalancerId?: string;

  /**
   * Create an internal (VPC-only) CLB in this subnet (`kubernetes.io/ingress.subnetId`).
   *
   * @default - a public CLB
   */
  readonly subnetId?: string;
}

const ANNOTATION_PREFIX = 'ingress.cloud.tencent.com';

/**
 * The CLB's own health check when nothing configures it: a check every 5 s, healthy after 3
 * successes (CLB API defaults).
 */
const CLB_DEFAULT_HEALTH_CHECK = { intervalSeconds: 5, healthyThreshold: 3 };

/** CLB health-check status-code bits: 2 = 2xx, 4 = 3xx; the kubelet accepts both. */
const HTTP_CODE_2XX_3XX = 2 + 4;

/**
 * Tencent Cloud TKE CLB Ingress. Create it with `LoadBalancer.tencentClb()`.
 *
 * TKE injects its own readiness gate (`cloud.tencent.com/load-balancer-backendgroup-ready`) in
 * direct-access mode, so this provider never writes one.
 */
export class TencentClb implements ILoadBalancer {
  /**
   * Tencent's own graceful-shutdown example waits 5 seconds before SIGTERM. The default covers the
   * largest lag the `tencent-clb` rehearsal profile draws (10 s, a tail above the documented 5 s),
   * so the derived wait (D + margin, 15 s) strictly exceeds every lag the rehearsal can draw.
   */
  public static readonly DEFAULT_DEREGISTRATION_DELAY = Duration.seconds(10);

  /**
   * The vendor's documented figure: the wait in Tencent's own graceful-shutdown example. `check` judges manifests written
   * by others against it (a manifest that follows the vendor's advice is not an error); the
   * construct's own default, `DEFAULT_DEREGISTRATION_DELAY`, is longer.
   */
  public static readonly DOCUMENTED_DEREGISTRATION_DELAY = Duration.seconds(5);

  public readonly displayName = 'Tencent Cloud CLB';
  public readonly defaultDeregistrationDelay = TencentClb.DEFAULT_DEREGISTRATION_DELAY;
  /** The ingress class name. */
  public readonly ingressClassName: string;
  /** Where the ingress class is written. */
  public readonly ingressClassMode: TencentIngressClassMode;
  /** Whether the CLB targets pods directly. */
  public readonly directAccess: boolean;
  /** Whether a Terminating pod's weight drops to 0 at once. */
  public readonly graceShutdown: boolean;
  /** Whether a not-ready pod's weight drops to 0. */
  public readonly graceShutdownOnUnhealthy: boolean;
  /** Whether pod deletion waits for CLB weight 0. */
  public readonly graceDeletion: boolean;
  /** Whether a TkeServiceConfig with the readiness probe's health check is emitted. */
  public readonly tkeServiceConfig: boolean;
  private readonly existingLoadBalancerId?: string;
  private readonly subnetId?: string;

  // The constructor only records the settings: it runs before the service exists, so every
  // check runs in launch() and bind(), inside the construct, where errors get its path.
  public constructor(props: TencentClbProps = {}) {
    checkPropTypes('TencentClbProps', props, 'loadBalancer');
    this.ingressClassName = props.ingressClassName ?? 'qcloud';
    this.ingressClassMode = props.ingressClassMode ?? TencentIngressClassMode.ANNOTATION;
    this.directAccess = props.directAccess ?? true;
    this.graceShutdown = props.graceShutdown ?? this.directAccess;
    this.graceShutdownOnUnhealthy = props.graceShutdownOnUnhealthy ?? this.directAccess;
    this.graceDeletion = props.graceDeletion ?? false;
    this.tkeServiceConfig = props.tkeServiceConfig ?? false;
    this.existingLoadBalancerId = props.existingLoadBalancerId;
    this.subnetId = props.subnetId;
  }

  /** The provider's own rules; plain messages (the construct prefixes its path). */
  private validate(): void {
    validateIngressClassName('loadBalancer.ingressClassName', this.ingressClassName);
    if (!this.directAccess) {
      const needsDirect = [
        ...(this.graceShutdown ? ['graceShutdown'] : []),
        ...(this.graceShutdownOnUnhealthy ? ['graceShutdownOnUnhealthy'] : []),
        ...(this.graceDeletion ? ['graceDeletion'] : []),
      ];
      if (needsDirect.length > 0) {
        throw new Error(
          `loadBalancer.${needsDirect.join(' and loadBalancer.')} ${needsDirect.length === 1 ? 'needs' : 'need'} loadBalancer.directAccess: `
          + 'TKE only sets CLB weights to 0 for pods it targets directly. Enable directAccess or turn them off',
        );
      }
    }
    nonEmptyOptional('loadBalancer.existingLoadBalancerId', this.existingLoadBalancerId);
    nonEmptyOptional('loadBalancer.subnetId', this.subnetId);
  }

  /**
   * Refuses the Gateway API: Tencent Cloud CLB has no Gateway path whose draining the construct can derive.
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
    const check = this.tkeServiceConfig ? healthCheck : CLB_DEFAULT_HEALTH_CHECK;
    return {
      // In direct-access mode TKE injects its own readiness gate
      // (cloud.tencent.com/load-balancer-backendgroup-ready); the construct writes none.
      gated: this.directAccess,
      registrationDelay: Duration.seconds(
        secondsToHealthy(check) + this.defaultDeregistrationDelay.toSeconds(),
      ),
      readinessGates: [],
    };
  }

  public bind(scope: Construct, options: LoadBalancerBindOptions): LoadBalancerConfig {
    this.validate();
    const annotations: { [key: string]: string } = {};
    if (this.ingressClassMode === TencentIngressClassMode.ANNOTATION) {
      annotations['kubernetes.io/ingress.class'] = this.ingressClassName;
    }
    if (this.directAccess) {
      annotations[`${ANNOTATION_PREFIX}/direct-access`] = 'true';
    }
    if (this.graceShutdown) {
      annotations[`${ANNOTATION_PREFIX}/enable-grace-shutdown`] = 'true';
    }
    if (this.graceShutdownOnUnhealthy) {
      annotations[`${ANNOTATION_PREFIX}/enable-grace-shutdown-tkex`] = 'true';
    }
    if (this.graceDeletion) {
      annotations[`${ANNOTATION_PREFIX}/enable-grace-deletion`] = 'true';
    }
    if (this.tkeServiceConfig) {
      annotations[`${ANNOTATION_PREFIX}/tke-service-config`] = this.addTkeServiceConfig(scope, options).name;
    }
    if (this.existingLoadBalancerId) {
      annotations['kubernetes.io/ingress.existLbId'] = this.existingLoadBalancerId;
    }
    if (this.subnetId) {
      annotations['kubernetes.io/ingress.subnetId'] = this.subnetId;
    }
    return {
      serviceType: this.directAccess ? kplus.ServiceType.CLUSTER_IP : kplus.ServiceType.NODE_PORT,
      ingressClassName: this.ingressClassMode === TencentIngressClassMode.SPEC ? this.ingressClassName : undefined,
      ingressAnnotations: annotations,
    };
  }

  /** A TkeServiceConfig whose health check for the Ingress rule matches the readiness probe. */
  private addTkeServiceConfig(scope: Construct, options: LoadBalancerBindOptions): ApiObject {
    const check = options.healthCheck;
    // Only here does the CLB use the probe's settings; without a TkeServiceConfig it keeps its own check.
    const who = `the ${this.displayName} health check (loadBalancer.tkeServiceConfig mirrors the readiness probe)`;
    checkRange('healthCheck.interval', check.intervalSeconds, 5, 300, who, 's');
    checkRange('healthCheck.timeout', check.timeoutSeconds, 2, 60, who, 's');
    checkRange('healthCheck.healthyThreshold', check.healthyThreshold, 2, 10, who);
    checkRange('healthCheck.unhealthyThreshold', check.unhealthyThreshold, 2, 10, who);
    if (check.timeoutSeconds >= check.intervalSeconds) {
      throw new Error(
        `healthCheck.timeout (${check.timeoutSeconds}s) must be shorter than healthCheck.interval `
        + `(${check.intervalSeconds}s) for ${this.displayName}`,
      );
    }
    return new ApiObject(scope, 'TkeServiceConfig', {
      apiVersion: 'cloud.tencent.com/v1alpha1',
      kind: 'TkeServiceConfig',
      metadata: { ...(options.name === undefined ? {} : { name: options.name }), labels: options.labels },
      spec: {
        loadBalancer: {
          l7Listeners: [{
            protocol: 'HTTP',
            port: 80,
            domains: [{
              // An empty domain is the CLB's default domain (its VIP), used when the Ingress has no host.
              domain: options.host ?? '',
              rules: [{
                url: options.path,
                healthCheck: {
                  enable: true,
                  intervalTime: check.intervalSeconds,
                  timeout: check.timeoutSeconds,
                  healthNum: check.healthyThreshold,
                  unHealthNum: check.unhealthyThreshold,
                  httpCheckPath: check.path,
                  httpCheckMethod: 'GET',
                  httpCode: HTTP_CODE_2XX_3XX,
                },
              }],
            }],
          }],
        },
      },
    });
  }
}

function nonEmptyOptional(prop: string, value: string | undefined): void {
  if (value !== undefined && value.trim() === '') {
    throw new Error(`${prop} must not be empty when given`);
  }
}

/** Why `gateway` is refused with Tencent Cloud CLB. */
const GATEWAY_REFUSAL = 'gateway is not supported with Tencent Cloud CLB: TKE has no native CLB controller for the '
  + 'Gateway API; Tencent documents Envoy Gateway on TKE, where Envoy proxies behind the CLB reach the pods and do the '
  + 'draining, a load balancer this library does not model. Leave gateway out to emit the CLB Ingress, with direct access '
  + 'and graceful shutdown (see docs/gateway-api.md)';
