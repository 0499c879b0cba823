/**
 * The L4 load balancer of a Service of `type: LoadBalancer` (issue 16 class 8): which cloud's, whether
 * it sends traffic to the pods directly or through the nodes, and the deregistration delay D where a
 * sourced figure exists. A Deployment behind such a Service has the same race as one behind an
 * Ingress: the load balancer learns of a deleted pod asynchronously, so the pod must keep serving.
 */
import { annotationsOf, KubeObject, ProviderDetection } from '../manifests/topology';
import { TencentClb } from '../tencent-clb';

/** The L4 load balancers told apart. */
export type L4LoadBalancerId = 'aws-nlb' | 'aws-clb' | 'alibaba-clb' | 'alibaba-nlb' | 'tencent-clb' | 'gcp-l4';

/** What a Service's annotations and class tell about its load balancer. */
export interface ServiceLoadBalancer {
  readonly id?: L4LoadBalancerId;
  /** Whether the load balancer targets the pods themselves (IP targets, direct access, ENI backends). */
  readonly podTargets: boolean;
  /** Why: the annotation or class that told. */
  readonly evidence: string;
}

/** The sourced D of an L4 load balancer with pod targets, and where it comes from. */
export interface L4Figure {
  readonly seconds: number;
  readonly source: string;
}

/**
 * D where a source gives one. AWS NLB with IP targets: users measured deregistration to take about
 * two minutes whatever the target group's deregistration delay, with new connections still arriving
 * meanwhile (kubernetes-sigs/aws-load-balancer-controller#2366, and #3270 with a 5 s delay set).
 * Tencent CLB with direct access: the wait of Tencent's own example in "Graceful Service Shutdown"
 * (https://www.tencentcloud.com/document/product/457/42070), the figure `TencentClb` documents.
 */
export const L4_FIGURES: { readonly [id in L4LoadBalancerId]?: L4Figure } = {
  'aws-nlb': { seconds: 120, source: 'aws-load-balancer-controller #2366, #3270' },
  'tencent-clb': { seconds: TencentClb.DOCUMENTED_DEREGISTRATION_DELAY.toSeconds(), source: 'TKE docs 457/42070, Graceful Service Shutdown' },
};

const AWS = 'service.beta.kubernetes.io/aws-load-balancer-';
const ALIBABA = 'service.beta.kubernetes.io/alibaba-cloud-loadbalancer-';
const TENCENT_PREFIXES = ['service.cloud.tencent.com/', 'service.kubernetes.io/tke-', 'service.kubernetes.io/qcloud-', 'service.beta.kubernetes.io/tencentcloud-loadbalancer-'];
const GCP_KEYS = [
  'cloud.google.com/l4-rbs', 'cloud.google.com/load-balancer-type', 'networking.gke.io/load-balancer-type',
  'networking.gke.io/load-balancer-ip-addresses', 'networking.gke.io/internal-load-balancer-subnet',
  'networking.gke.io/internal-load-balancer-allow-global-access',
];

/**
 * The load balancer of a Service, from its class and its vendors' annotation keys: the AWS Load
 * Balancer Controller (`aws-load-balancer-type: external`/`nlb-ip`, class `service.k8s.aws/nlb`,
 * `aws-load-balancer-nlb-target-type`) and the in-tree AWS provider (`nlb`, else a Classic ELB);
 * Alibaba Cloud's CCM (`alibaba-cloud-loadbalancer-*`, class `alibabacloud.com/nlb`, `backend-type: eni`);
 * Tencent's TKE and CCM (`service.cloud.tencent.com/direct-access` and the rest); GKE (`cloud.google.com/l4-rbs`,
 * `networking.gke.io/load-balancer-type`, ...).
 */
export function serviceLoadBalancer(service: KubeObject): ServiceLoadBalancer {
  const a = annotationsOf(service);
  const keys = Object.keys(a);
  const lbClass = typeof service.spec?.loadBalancerClass === 'string' ? service.spec.loadBalancerClass : undefined;
  const type = a[`${AWS}type`]?.trim().toLowerCase();
  if (lbClass === 'service.k8s.aws/nlb' || type === 'external' || type === 'nlb-ip' || type === 'nlb') {
    const targetType = type === 'nlb-ip' ? 'ip' : type === 'nlb' ? 'instance' : (a[`${AWS}nlb-target-type`]?.trim().toLowerCase() ?? 'instance');
    const evidence = lbClass === 'service.k8s.aws/nlb' ? `loadBalancerClass ${lbClass}` : `${AWS}type: ${type}`;
    return { id: 'aws-nlb', podTargets: targetType === 'ip', evidence: `${evidence}, ${targetType} targets` };
  }
  const awsKey = keys.find((k) => k.startsWith(AWS));
  if (awsKey !== undefined) return { id: 'aws-clb', podTargets: false, evidence: `${awsKey} without a load balancer type (a Classic ELB)` };
  const eni = a['service.beta.kubernetes.io/backend-type']?.trim().toLowerCase() === 'eni';
  if (lbClass === 'alibabacloud.com/nlb') return { id: 'alibaba-nlb', podTargets: eni, evidence: `loadBalancerClass ${lbClass}` };
  const alibabaKey = keys.find((k) => k.startsWith(ALIBABA));
  if (alibabaKey !== undefined) return { id: 'alibaba-clb', podTargets: eni, evidence: alibabaKey };
  const tencentKey = keys.find((k) => TENCENT_PREFIXES.some((p) => k.startsWith(p)));
  if (tencentKey !== undefined) {
    const direct = a['service.cloud.tencent.com/direct-access']?.trim().toLowerCase() === 'true';
    return { id: 'tencent-clb', podTargets: direct, evidence: direct ? 'service.cloud.tencent.com/direct-access: "true"' : tencentKey };
  }
  const gcpKey = keys.find((k) => GCP_KEYS.includes(k));
  if (gcpKey !== undefined) return { id: 'gcp-l4', podTargets: false, evidence: gcpKey };
  return { podTargets: false, evidence: 'no vendor annotation or load balancer class' };
}

/**
 * The provider detection of a Service front, for the audit: D from the sourced figure when the load
 * balancer targets the pods and one exists; otherwise unknown, with the reason (the exact figure is
 * the load balancer's, and a Deployment with no wait at all is still an error).
 */
export function detectServiceProvider(service: KubeObject): ProviderDetection {
  const lb = serviceLoadBalancer(service);
  const name = `Service ${service.metadata?.name} of type LoadBalancer`;
  const figure = lb.id !== undefined && lb.podTargets ? L4_FIGURES[lb.id] : undefined;
  if (figure !== undefined) {
    return { candidates: [], deregistrationDelaySeconds: figure.seconds, reason: `${name}: ${lb.id} (${lb.evidence}), D ${figure.seconds} s (${figure.source})` };
  }
  const path = lb.id === undefined ? 'whether it reaches the pods directly or through the nodes, and how late it stops, depend on the cloud'
    : lb.podTargets ? 'it sends traffic to the pods directly, and no sourced figure for its delay exists'
      : 'it reaches the pods through the nodes, where kube-proxy learns of a deleted pod asynchronously';
  return { candidates: [], reason: `${name}: ${lb.id ?? 'an L4 load balancer of unknown make'} (${lb.evidence}); ${path}` };
}

/**
 * Whether a Service's load balancer is known to reach the pods through the nodes (instance targets,
 * NodePort): then the race is kube-proxy's, the same on every cloud, and the minimum wait is the
 * figure, not a guess; no unknown-delay warning is due.
 */
export function reachesPodsThroughNodes(service: KubeObject): boolean {
  const lb = serviceLoadBalancer(service);
  return lb.id !== undefined && !lb.podTargets;
}
