/**
 * What `gws rehearse` assumes about each cloud load balancer, independent of the manifest under test.
 *
 * The deregistration lag is the one number a derived manifest is built around (D, from which the
 * preStop wait comes). Taking the rehearsal's lag from that same D would test "lag = D" against
 * "sleep = D" and could never fail, so every profile carries its own lag *distribution*, with a
 * tail, from public evidence. The evidence is uneven: vendors document their settings, not how late
 * their data plane actually stops routing, so the bodies and tails below are read from vendor best
 * practices and from users' measurements in controller issues. Where the evidence is thin, it says so.
 *
 * Every duration is in model seconds (the rehearsal scales them).
 */
import { KubeObject } from '../manifests/deployment-spec';

/** The providers the construct supports. */
export type LbProfileId = 'alibaba-alb' | 'tencent-clb' | 'aws-alb' | 'gke-ingress';

export const LB_PROFILE_IDS: readonly LbProfileId[] = ['alibaba-alb', 'tencent-clb', 'aws-alb', 'gke-ingress'];

/**
 * A delay with a body and a tail: with probability 1 - tailProbability uniform in
 * [minSeconds, typicalSeconds], otherwise uniform in (typicalSeconds, tailMaxSeconds].
 */
export interface DelayDistribution {
  readonly minSeconds: number;
  readonly typicalSeconds: number;
  readonly tailProbability: number;
  readonly tailMaxSeconds: number;
}

/** A fixed delay as a distribution. */
export function fixedDelay(seconds: number): DelayDistribution {
  return { minSeconds: seconds, typicalSeconds: seconds, tailProbability: 0, tailMaxSeconds: seconds };
}

/** Draw one delay; `random` returns uniform numbers in [0, 1). */
export function sampleDelay(d: DelayDistribution, random: () => number): number {
  if (d.tailProbability > 0 && random() < d.tailProbability) {
    return d.typicalSeconds + random() * (d.tailMaxSeconds - d.typicalSeconds);
  }
  return d.minSeconds + random() * (d.typicalSeconds - d.minSeconds);
}

/** "3-10 s, 5 % tail up to 15 s" / "10 s". */
export function describeDelay(d: DelayDistribution): string {
  const body = d.minSeconds === d.typicalSeconds ? `${d.minSeconds} s` : `${d.minSeconds}-${d.typicalSeconds} s`;
  return d.tailProbability > 0 && d.tailMaxSeconds > d.typicalSeconds
    ? `${body}, ${+(d.tailProbability * 100).toFixed(2)} % tail up to ${d.tailMaxSeconds} s`
    : body;
}

export class DelaySpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DelaySpecError';
  }
}

/**
 * Parse a lag given on the command line: `12` (fixed), `5-12` (uniform), `5-12/0.05:20`
 * (uniform 5-12 s, and with probability 0.05 uniform 12-20 s).
 */
export function parseDelay(text: string): DelayDistribution {
  const m = /^\s*(\d+(?:\.\d+)?)(?:\s*-\s*(\d+(?:\.\d+)?))?(?:\s*\/\s*(0(?:\.\d+)?|1(?:\.0+)?)\s*:\s*(\d+(?:\.\d+)?))?\s*s?\s*$/.exec(text);
  if (!m) throw new DelaySpecError(`expected seconds like "12", "5-12" or "5-12/0.05:20" (5-12 s, 5 % up to 20 s), got "${text}"`);
  const min = Number(m[1]);
  const typical = m[2] !== undefined ? Number(m[2]) : min;
  const tailProbability = m[3] !== undefined ? Number(m[3]) : 0;
  const tailMax = m[4] !== undefined ? Number(m[4]) : typical;
  if (typical < min) throw new DelaySpecError(`"${text}": the upper bound is below the lower bound`);
  if (tailMax < typical) throw new DelaySpecError(`"${text}": the tail must end above the body (${tailMax} < ${typical})`);
  return { minSeconds: min, typicalSeconds: typical, tailProbability, tailMaxSeconds: tailMax };
}

/** A public source behind a profile fact. */
export interface ProfileSource {
  readonly fact: string;
  readonly url: string;
  /** How strong the evidence is. */
  readonly strength: 'documented' | 'reported by users' | 'thin';
}

/** The LB's health check: a new target takes interval x healthy threshold to turn healthy. */
export interface HealthCheckTiming {
  readonly intervalSeconds: number;
  readonly healthyThreshold: number;
  /** Where the numbers came from ("profile default", "Ingress annotations", ...). */
  readonly source: string;
}

export interface LbProfile {
  readonly id: LbProfileId;
  readonly title: string;
  /** From a pod's deletion until the LB stops sending it new requests. */
  readonly deregistrationLag: DelayDistribution;
  /** From a pod's readiness until the controller has registered it as a target (health checks start then). */
  readonly registrationReconcile: DelayDistribution;
  /** The LB's default health check for a new target. */
  readonly defaultHealthCheck: HealthCheckTiming;
  /** How long the LB keeps an idle LB-to-pod keep-alive connection open. */
  readonly idleTimeoutSeconds: number;
  /** Readiness gate condition types (prefixes) the provider's controller sets once the target is healthy. */
  readonly readinessGatePrefixes: readonly string[];
  readonly sources: readonly ProfileSource[];
}

export const LB_PROFILES: { readonly [id in LbProfileId]: LbProfile } = {
  'alibaba-alb': {
    id: 'alibaba-alb',
    title: 'Alibaba Cloud ALB Ingress',
    deregistrationLag: { minSeconds: 3, typicalSeconds: 10, tailProbability: 0.05, tailMaxSeconds: 15 },
    registrationReconcile: { minSeconds: 3, typicalSeconds: 10, tailProbability: 0.05, tailMaxSeconds: 15 },
    defaultHealthCheck: { intervalSeconds: 2, healthyThreshold: 3, source: 'profile default (ALB: interval 2 s, healthy threshold 3)' },
    idleTimeoutSeconds: 15,
    readinessGatePrefixes: ['target-health.alb.k8s.alibabacloud'],
    sources: [
      {
        fact: 'ACK best practice for ALB backends: preStop sleep 10, grace 45; an Ingress change takes about 10 s to take effect (body 3-10 s)',
        url: 'https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/use-prestop-hook-to-implement-smooth-offline-pods-during-the-rolling-upgrade-of-alb-ingress-backend-pods',
        strength: 'documented',
      },
      {
        fact: 'tail (5 % up to 15 s): no public measurement found; assumed, so that the rehearsal shows what a late controller does',
        url: 'https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/use-prestop-hook-to-implement-smooth-offline-pods-during-the-rolling-upgrade-of-alb-ingress-backend-pods',
        strength: 'thin',
      },
      {
        fact: 'health check defaults: interval 2 s, healthy threshold 3; annotations healthcheck-interval-seconds, healthy-threshold-count',
        url: 'https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/alb-ingress-configuration-dictionary',
        strength: 'documented',
      },
      {
        fact: 'readiness gate target-health.alb.k8s.alibabacloud, set once the pod is registered and healthy',
        url: 'https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/use-readinessgate-to-check-pod-readiness-before-associating-pods-with-alb-ingresses-during-rolling-updates',
        strength: 'documented',
      },
      {
        fact: 'listener IdleTimeout: 1-60 s, 15 s by default; ALB closes a connection idle that long and opens a new one for the next request (Alibaba Cloud ROS reference for ALIYUN::ALB::Listener)',
        url: 'https://www.alibabacloud.com/help/en/ros/developer-reference/aliyun-alb-listener',
        strength: 'thin',
      },
    ],
  },
  'tencent-clb': {
    id: 'tencent-clb',
    title: 'Tencent Cloud CLB Ingress (TKE)',
    deregistrationLag: { minSeconds: 1, typicalSeconds: 5, tailProbability: 0.05, tailMaxSeconds: 10 },
    registrationReconcile: { minSeconds: 1, typicalSeconds: 5, tailProbability: 0.05, tailMaxSeconds: 10 },
    defaultHealthCheck: { intervalSeconds: 5, healthyThreshold: 3, source: 'profile default (CLB: interval 5 s, healthy threshold 3)' },
    idleTimeoutSeconds: 75,
    readinessGatePrefixes: ['cloud.tencent.com/load-balancer-backendgroup-ready'],
    sources: [
      {
        fact: 'TKE sets a terminating pod\'s CLB weight to 0 (direct access + enable-grace-shutdown); Tencent\'s own example uses preStop sleep 5 (body 1-5 s)',
        url: 'https://www.tencentcloud.com/document/product/457/42069',
        strength: 'documented',
      },
      {
        fact: 'tail (5 % up to 10 s): no public measurement found; assumed',
        url: 'https://www.tencentcloud.com/document/product/457/42069',
        strength: 'thin',
      },
      {
        fact: 'health check through a TkeServiceConfig (intervalTime, healthNum); CLB default interval 5 s, healthy threshold 3',
        url: 'https://www.tencentcloud.com/document/product/457/36837',
        strength: 'thin',
      },
      {
        fact: 'CLB layer-7 keepalive_timeout 75 s by default (custom configuration reference; the client side, the backend side is not documented separately)',
        url: 'https://www.tencentcloud.com/document/product/214/32427',
        strength: 'thin',
      },
    ],
  },
  'aws-alb': {
    id: 'aws-alb',
    title: 'AWS ALB (AWS Load Balancer Controller)',
    deregistrationLag: { minSeconds: 5, typicalSeconds: 15, tailProbability: 0.1, tailMaxSeconds: 30 },
    registrationReconcile: { minSeconds: 2, typicalSeconds: 10, tailProbability: 0.05, tailMaxSeconds: 20 },
    defaultHealthCheck: { intervalSeconds: 15, healthyThreshold: 2, source: 'profile default (ALB target group: interval 15 s, healthy threshold 2)' },
    idleTimeoutSeconds: 60,
    readinessGatePrefixes: ['target-health.elbv2.k8s.aws'],
    sources: [
      {
        fact: 'the ALB keeps sending new requests to a draining target for seconds after deregistration starts; users report 10-20 s (body 5-15 s)',
        url: 'https://github.com/kubernetes-sigs/aws-load-balancer-controller/issues/1719',
        strength: 'reported by users',
      },
      {
        fact: 'requests to pods after the controller deregistered them (504s), still reproduced in 2023 (tail 10 % up to 30 s)',
        url: 'https://github.com/kubernetes-sigs/aws-load-balancer-controller/issues/1064',
        strength: 'reported by users',
      },
      {
        fact: 'for NLB IP targets, deregistration measured at about 2 minutes regardless of the delay setting (not modelled for ALB; shows how long tails can get)',
        url: 'https://github.com/kubernetes-sigs/aws-load-balancer-controller/issues/2366',
        strength: 'reported by users',
      },
      {
        fact: 'health check defaults interval 15 s, healthy threshold 2; annotations healthcheck-interval-seconds, healthy-threshold-count',
        url: 'https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/',
        strength: 'documented',
      },
      {
        fact: 'connection idle timeout 60 s by default; the app\'s idle timeout should be longer, or the ALB may reuse a connection the app closed and answer 502',
        url: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html',
        strength: 'documented',
      },
    ],
  },
  'gke-ingress': {
    id: 'gke-ingress',
    title: 'GKE Ingress (container-native load balancing)',
    deregistrationLag: { minSeconds: 10, typicalSeconds: 30, tailProbability: 0.1, tailMaxSeconds: 60 },
    registrationReconcile: { minSeconds: 5, typicalSeconds: 20, tailProbability: 0.05, tailMaxSeconds: 40 },
    defaultHealthCheck: { intervalSeconds: 5, healthyThreshold: 2, source: 'profile default (Compute Engine health check: interval 5 s, healthy threshold 2)' },
    idleTimeoutSeconds: 600,
    readinessGatePrefixes: ['cloud.google.com/load-balancer-neg-ready'],
    sources: [
      {
        fact: 'Google\'s KB on 502/503 during rollouts suggests a preStop sleep about as long as detaching the endpoint from the NEG, example sleep 40 (body 10-30 s, tail 10 % up to 60 s)',
        url: 'https://cloud.google.com/kubernetes-engine/docs/how-to/container-native-load-balancing',
        strength: 'documented',
      },
      {
        fact: 'NEG detach latency reports in ingress-gce issues; not measured by Google publicly',
        url: 'https://github.com/kubernetes/ingress-gce/issues/769',
        strength: 'reported by users',
      },
      {
        fact: 'BackendConfig spec.healthCheck (checkIntervalSec, healthyThreshold) overrides the inferred health check',
        url: 'https://cloud.google.com/kubernetes-engine/docs/how-to/ingress-configuration',
        strength: 'documented',
      },
      {
        fact: 'external Application LB (GFE): backend keep-alive timeout 600 s, fixed; client keep-alive 610 s',
        url: 'https://cloud.google.com/load-balancing/docs/https/request-distribution',
        strength: 'documented',
      },
    ],
  },
};

export function isLbProfileId(text: string): text is LbProfileId {
  return (LB_PROFILE_IDS as readonly string[]).includes(text);
}

function positiveNumber(v: unknown): number | undefined {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** The objects around a Deployment that can change the LB's health check. */
export interface LbContext {
  /** Ingresses (or Gateway API HTTPRoutes) routing to the Deployment's Services. */
  readonly ingresses: readonly KubeObject[];
  /** Services selecting the Deployment. */
  readonly services: readonly KubeObject[];
  /** Every object of the manifest (BackendConfig, TkeServiceConfig, ...). */
  readonly objects: readonly KubeObject[];
}

function byName(objects: readonly KubeObject[], kind: string, name: string): KubeObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata?.name === name);
}

/**
 * The health check the LB will run on new targets: the profile's default, overridden by the
 * manifest where it says otherwise (Alibaba/AWS Ingress annotations, a GKE BackendConfig, a
 * Tencent TkeServiceConfig).
 */
export function healthCheckTiming(profile: LbProfile, context: LbContext): HealthCheckTiming {
  const dflt = profile.defaultHealthCheck;
  if (profile.id === 'alibaba-alb' || profile.id === 'aws-alb') {
    for (const ingress of context.ingresses) {
      const a = ingress.metadata?.annotations ?? {};
      const interval = positiveNumber(a['alb.ingress.kubernetes.io/healthcheck-interval-seconds']);
      const threshold = positiveNumber(a['alb.ingress.kubernetes.io/healthy-threshold-count']);
      if (interval !== undefined || threshold !== undefined) {
        return {
          intervalSeconds: interval ?? dflt.intervalSeconds,
          healthyThreshold: threshold ?? dflt.healthyThreshold,
          source: `Ingress ${ingress.metadata?.name} annotations`,
        };
      }
    }
  }
  const policy = gatewayHealthCheck(profile, context);
  if (policy !== undefined) return policy;
  if (profile.id === 'gke-ingress') {
    for (const service of context.services) {
      const raw = service.metadata?.annotations?.['cloud.google.com/backend-config'] ?? service.metadata?.annotations?.['beta.cloud.google.com/backend-config'];
      if (typeof raw !== 'string') continue;
      let names: string[] = [];
      try {
        const parsed = JSON.parse(raw) as { default?: string; ports?: Record<string, string> };
        names = [parsed.default, ...Object.values(parsed.ports ?? {})].filter((n): n is string => typeof n === 'string');
      } catch {
        continue;
      }
      for (const name of names) {
        const hc = byName(context.objects, 'BackendConfig', name)?.spec?.healthCheck;
        if (hc === undefined) continue;
        const interval = positiveNumber(hc.checkIntervalSec);
        const threshold = positiveNumber(hc.healthyThreshold);
        if (interval !== undefined || threshold !== undefined) {
          return {
            intervalSeconds: interval ?? dflt.intervalSeconds,
            healthyThreshold: threshold ?? dflt.healthyThreshold,
            source: `BackendConfig ${name} spec.healthCheck`,
          };
        }
      }
    }
  }
  if (profile.id === 'tencent-clb') {
    for (const ingress of context.ingresses) {
      const name = ingress.metadata?.annotations?.['ingress.cloud.tencent.com/tke-service-config'];
      if (typeof name !== 'string') continue;
      const config = byName(context.objects, 'TkeServiceConfig', name);
      const listeners: KubeObject[] = config?.spec?.loadBalancer?.l7Listeners ?? [];
      const rules = listeners.flatMap((l) => (l.domains ?? []).flatMap((d: KubeObject) => d.rules ?? []));
      for (const rule of rules) {
        const hc = rule?.healthCheck;
        if (hc === undefined) continue;
        const interval = positiveNumber(hc.intervalTime);
        const threshold = positiveNumber(hc.healthNum);
        if (interval !== undefined || threshold !== undefined) {
          return {
            intervalSeconds: interval ?? dflt.intervalSeconds,
            healthyThreshold: threshold ?? dflt.healthyThreshold,
            source: `TkeServiceConfig ${name} healthCheck`,
          };
        }
      }
    }
  }
  return dflt;
}

/**
 * The health check a Gateway API policy on one of the Services sets: an AWS TargetGroupConfiguration's
 * `healthCheckConfig`, a GKE HealthCheckPolicy's `default`.
 */
function gatewayHealthCheck(profile: LbProfile, context: LbContext): HealthCheckTiming | undefined {
  const kind = profile.id === 'aws-alb' ? 'TargetGroupConfiguration' : profile.id === 'gke-ingress' ? 'HealthCheckPolicy' : undefined;
  if (kind === undefined) return undefined;
  for (const service of context.services) {
    const policy = context.objects.find((o) => o.kind === kind
      && (o.spec?.targetRef ?? o.spec?.targetReference)?.name === service.metadata?.name
      && (o.metadata?.namespace ?? '') === (service.metadata?.namespace ?? ''));
    const hc = kind === 'TargetGroupConfiguration' ? policy?.spec?.defaultConfiguration?.healthCheckConfig : policy?.spec?.default;
    if (hc === undefined) continue;
    const interval = positiveNumber(kind === 'TargetGroupConfiguration' ? hc.healthCheckInterval : hc.checkIntervalSec);
    const threshold = positiveNumber(kind === 'TargetGroupConfiguration' ? hc.healthyThresholdCount : hc.healthyThreshold);
    if (interval !== undefined || threshold !== undefined) {
      return {
        intervalSeconds: interval ?? profile.defaultHealthCheck.intervalSeconds,
        healthyThreshold: threshold ?? profile.defaultHealthCheck.healthyThreshold,
        source: `${kind} ${policy?.metadata?.name}`,
      };
    }
  }
  return undefined;
}

/**
 * Whether the platform holds a new pod un-Ready until the LB reports it healthy: a readiness gate
 * of the provider in the pod template, or one the provider injects (GKE with NEGs, TKE with direct
 * access, AWS in namespaces labelled for injection).
 */
export function readinessGateOf(profile: LbProfile, podSpec: KubeObject, context: LbContext): string | undefined {
  const gates: unknown[] = Array.isArray(podSpec.readinessGates) ? podSpec.readinessGates : [];
  for (const g of gates) {
    const type = (g as KubeObject)?.conditionType;
    if (typeof type === 'string' && profile.readinessGatePrefixes.some((p) => type.startsWith(p))) return `readinessGates ${type}`;
  }
  if (profile.id === 'gke-ingress') {
    const neg = context.services.find((s) => /"ingress"\s*:\s*true/.test(String(s.metadata?.annotations?.['cloud.google.com/neg'] ?? '')));
    if (neg) return `injected by GKE (Service ${neg.metadata?.name} has cloud.google.com/neg ingress: true)`;
  }
  if (profile.id === 'tencent-clb') {
    const direct = context.ingresses.find((i) => i.metadata?.annotations?.['ingress.cloud.tencent.com/direct-access'] === 'true');
    if (direct) return `injected by TKE (Ingress ${direct.metadata?.name} has direct-access: "true")`;
  }
  if (profile.id === 'aws-alb') {
    const ns = context.objects.find((o) => o.kind === 'Namespace' && o.metadata?.labels?.['elbv2.k8s.aws/pod-readiness-gate-inject'] === 'enabled');
    if (ns) return `injected by the AWS Load Balancer Controller (Namespace ${ns.metadata?.name} is labelled for injection)`;
  }
  return undefined;
}
