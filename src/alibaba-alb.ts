import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { ILoadBalancer, LoadBalancerBindOptions, LoadBalancerConfig } from './load-balancer';
import { validateIngressClassName } from './validation';

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
}

/**
 * Alibaba Cloud ACK ALB Ingress. Create it with `LoadBalancer.alibabaAlb()`.
 */
export class AlibabaAlb implements ILoadBalancer {
  /**
   * ACK's documentation gives about 10 seconds for an ALB Ingress change to take effect, and
   * its high-availability guide pairs that with `sleep 10`.
   */
  public static readonly DEFAULT_DEREGISTRATION_DELAY = Duration.seconds(10);

  public readonly displayName = 'Alibaba Cloud ALB';
  public readonly defaultDeregistrationDelay = AlibabaAlb.DEFAULT_DEREGISTRATION_DELAY;
  /** The IngressClass name. */
  public readonly ingressClassName: string;
  /** Whether pods are the ALB's backends. */
  public readonly directAccess: boolean;

  public constructor(props: AlibabaAlbProps = {}) {
    this.ingressClassName = props.ingressClassName ?? 'alb';
    validateIngressClassName('loadBalancer.ingressClassName', this.ingressClassName);
    this.directAccess = props.directAccess ?? false;
  }

  public bind(_options: LoadBalancerBindOptions): LoadBalancerConfig {
    return {
      serviceType: this.directAccess ? kplus.ServiceType.CLUSTER_IP : kplus.ServiceType.NODE_PORT,
      ingressClassName: this.ingressClassName,
      ingressAnnotations: {},
    };
  }
}
