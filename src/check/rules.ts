/**
 * The one home for `check`'s rules: each rule's id, default severity, what it checks, why it
 * matters and where the fact comes from. The checker, the SARIF output, the cdk8s validation
 * plugin and docs/rules.md (`npm run docs:rules`) all read this table.
 */

/** How bad a finding is. `--fail-on` compares against this order. */
export type Severity = 'error' | 'warning' | 'info';

/** Severities from most to least severe. */
export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info'];

/** Whether `severity` is at or above `threshold`. */
export function atLeast(severity: Severity, threshold: Severity): boolean {
  return SEVERITIES.indexOf(severity) <= SEVERITIES.indexOf(threshold);
}

/** One rule, as documented. */
export interface RuleDefinition {
  readonly id: string;
  /** The default severity; a finding may raise it where the case is worse (said in `what`). */
  readonly severity: Severity;
  /** A short title. */
  readonly title: string;
  /** What the rule checks. */
  readonly what: string;
  /** Why it matters: what goes wrong in a rollout. */
  readonly why: string;
  /** Where the facts come from (links). */
  readonly sources: readonly string[];
}

const K8S_TERMINATION = 'https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination';
const K8S_HOOKS = 'https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/';
const K8S_DEPLOYMENT = 'https://kubernetes.io/docs/concepts/workloads/controllers/deployment/';
const K8S_PDB = 'https://kubernetes.io/docs/tasks/run-application/configure-pdb/';
const MODEL = 'docs: the shutdown budget model (README, "The shutdown budget")';
const HEADROOM = 'docs: the rollout benchmark (docs/benchmarks.md) and README, "Headroom: what the rollout benchmark says"';
const ALIBABA_PRESTOP = 'https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/use-prestop-hook-to-implement-smooth-offline-pods-during-the-rolling-upgrade-of-alb-ingress-backend-pods';
const ALIBABA_ANNOTATIONS = 'https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/alb-ingress-configuration-dictionary';
const ALIBABA_GATE = 'https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/use-readinessgate-to-check-pod-readiness-before-associating-pods-with-alb-ingresses-during-rolling-updates';
const TENCENT_GRACE = 'https://www.tencentcloud.com/document/product/457/42069';
const TENCENT_ANNOTATIONS = 'https://cloud.tencent.com/document/product/457/56112';
const AWS_ANNOTATIONS = 'https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/';
const AWS_GATE = 'https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/pod_readiness_gate/';
const GKE_BACKENDCONFIG = 'https://cloud.google.com/kubernetes-engine/docs/how-to/ingress-configuration';
const GKE_GATEWAY_POLICIES = 'https://cloud.google.com/kubernetes-engine/docs/how-to/configure-gateway-resources';

/** Every rule, in the order the docs list them. */
export const RULES: readonly RuleDefinition[] = [
  {
    id: 'prestop-wait-missing',
    severity: 'error',
    title: 'No preStop wait',
    what: 'The container the Service routes to has no preStop hook that waits, while the load balancer needs D seconds to stop sending it requests.',
    why: 'The kubelet sends the stop signal as soon as the pod is deleted; the app stops listening while the load balancer still routes to it, and those requests fail (502/504).',
    sources: [K8S_TERMINATION, ALIBABA_PRESTOP, TENCENT_GRACE, MODEL],
  },
  {
    id: 'prestop-wait-too-short',
    severity: 'error',
    title: 'preStop wait shorter than the deregistration delay',
    what: 'The preStop wait (any form: `sleep 10`, `sleep 5s`, `["sleep", "5s"]`, `sh -c "sleep 10"`, the native `sleep` action, this library\'s command wrapper) is shorter than D, or than D + S for an app that does not drain on its stop signal.',
    why: 'The stop signal arrives before the load balancer has stopped routing to the pod; an app that stops abruptly must also have finished its in-flight requests before the signal.',
    sources: [K8S_TERMINATION, ALIBABA_PRESTOP, MODEL],
  },
  {
    id: 'prestop-wait-no-headroom',
    severity: 'warning',
    title: 'preStop wait with no headroom for a late load balancer',
    what: 'The preStop wait covers D (D + S for an app that does not drain on its stop signal) but ends less than the safety margin M after it (M from the budget annotation, else 25 % of D and at least 5 s).',
    why: 'A wait of exactly D ties with the load balancer: in the rollout benchmark requests dropped at a lag of exactly D and 0.5-2.4 % of them at 1.1 D, and real deregistration lags have tails beyond their usual value.',
    sources: [MODEL, HEADROOM],
  },
  {
    id: 'prestop-wait-unrecognised',
    severity: 'warning',
    title: 'preStop hook of unknown length',
    what: 'The served container has a preStop hook (an HTTP call, a script, a command) in which no wait of known length is recognised.',
    why: 'Whether it covers the deregistration delay cannot be told from the manifest; if it returns early, requests are dropped as with no wait at all.',
    sources: [K8S_HOOKS, MODEL],
  },
  {
    id: 'grace-period-too-short',
    severity: 'error',
    title: 'Grace period shorter than wait + drain',
    what: '`terminationGracePeriodSeconds` (30 when absent) is shorter than the preStop wait the manifest has plus the drain timeout S (for an app that drains on its stop signal), or than the wait itself. A wait too short for D is the preStop rules\' finding; their fix sets the grace period the longer wait needs.',
    why: 'The grace period counts from deletion, preStop included; SIGKILL then lands while requests are still in flight.',
    sources: [K8S_TERMINATION, MODEL],
  },
  {
    id: 'sleep-action-exceeds-grace',
    severity: 'error',
    title: 'Native sleep longer than the grace period',
    what: 'The native `lifecycle.preStop.sleep.seconds` is longer than `terminationGracePeriodSeconds`.',
    why: 'The API server rejects such a pod template, so the rollout cannot start.',
    sources: [K8S_HOOKS],
  },
  {
    id: 'recreate-strategy',
    severity: 'error',
    title: 'Recreate strategy',
    what: 'The Deployment uses `strategy.type: Recreate`.',
    why: 'Every old pod is stopped before a new one starts: the service has no backend for the whole rollout.',
    sources: [K8S_DEPLOYMENT],
  },
  {
    id: 'max-unavailable-drops-capacity',
    severity: 'warning',
    title: 'maxUnavailable drops capacity',
    what: '`rollingUpdate.maxUnavailable` (25% when absent, rounded down against `replicas`) lets the rollout remove pods before their replacements are available; an error when it allows every replica to go at once.',
    why: 'Fewer pods carry the same traffic during the rollout; with every replica down there is no backend at all.',
    sources: [K8S_DEPLOYMENT],
  },
  {
    id: 'readiness-probe-missing',
    severity: 'warning',
    title: 'No readiness probe',
    what: 'The served container has no readiness probe. The probe suggested is a gRPC one when the load balancer speaks gRPC to the pods (AWS `backend-protocol-version: GRPC`, Alibaba `backend-protocol: grpc`, ingress-nginx `backend-protocol: GRPC`), else HTTP.',
    why: 'A new pod counts as Ready as soon as it starts, before it can serve; the rollout then removes old pods that were still needed, and the load balancer sends requests to a pod that refuses them. With a startup probe the pod turns Ready once that probe passes, but stays Ready for good: a pod that stops being able to serve keeps receiving requests.',
    sources: [K8S_DEPLOYMENT, 'https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#container-probes',
      'https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/#define-a-grpc-liveness-probe'],
  },
  {
    id: 'health-check-mismatch',
    severity: 'warning',
    title: 'Load-balancer health check disagrees with the readiness probe',
    what: 'The load balancer\'s health check (Alibaba ALB and AWS ALB `healthcheck-path`/`healthcheck-port` annotations, a GKE BackendConfig `healthCheck`, a Tencent TkeServiceConfig) checks another path or port than the HTTP readiness probe.',
    why: 'The load balancer and Kubernetes then judge a pod differently: the LB may route to a pod Kubernetes holds back, or drop one Kubernetes counts as serving.',
    sources: [ALIBABA_ANNOTATIONS, AWS_ANNOTATIONS, GKE_BACKENDCONFIG, TENCENT_ANNOTATIONS],
  },
  {
    id: 'tencent-grace-shutdown-without-direct-access',
    severity: 'error',
    title: 'Tencent grace shutdown without direct access',
    what: 'A TKE Ingress sets `ingress.cloud.tencent.com/enable-grace-shutdown`, `enable-grace-shutdown-tkex` or `enable-grace-deletion` without `ingress.cloud.tencent.com/direct-access: "true"`.',
    why: 'TKE only sets the CLB weight of pods it targets directly; without direct access the setting does nothing and terminating pods keep receiving traffic.',
    sources: [TENCENT_GRACE, TENCENT_ANNOTATIONS],
  },
  {
    id: 'alb-readiness-gate-without-direct-access',
    severity: 'error',
    title: 'ALB readiness gate without pod targets',
    what: 'Pods carry an ALB readiness gate (Alibaba `target-health.alb.k8s.alibabacloud`, AWS `target-health.elbv2.k8s.aws/...`) while the load balancer targets nodes (Alibaba: a NodePort Service; AWS: `target-type` other than `ip`).',
    why: 'The controller only sets the gate for pods registered as targets; it never opens and every rollout stalls.',
    sources: [ALIBABA_GATE, AWS_GATE],
  },
  {
    id: 'alibaba-connection-drain-too-short',
    severity: 'error',
    title: 'Alibaba ALB connection drain shorter than the drain timeout',
    what: '`alb.ingress.kubernetes.io/connection-drain-enabled: "true"` with a `connection-drain-timeout` below S.',
    why: 'The ALB closes connections to a deregistered backend after that timeout, cutting requests the app is still serving.',
    sources: [ALIBABA_ANNOTATIONS, MODEL],
  },
  {
    id: 'aws-deregistration-delay-too-short',
    severity: 'error',
    title: 'AWS target-group deregistration delay below D + S',
    what: '`alb.ingress.kubernetes.io/target-group-attributes` sets `deregistration_delay.timeout_seconds` below D + S (on the Service or the Ingress).',
    why: 'After that delay the ALB drops the connections of a draining target, while the pod is still waiting out D and then draining for up to S.',
    sources: [AWS_ANNOTATIONS, 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#deregistration-delay'],
  },
  {
    id: 'gke-draining-timeout-too-short',
    severity: 'error',
    title: 'GKE connection draining below the drain timeout',
    what: 'The BackendConfig (`cloud.google.com/v1`) a Service references through `cloud.google.com/backend-config`, or the GCPBackendPolicy (`networking.gke.io/v1`) that targets an HTTPRoute\'s Service, sets `connectionDraining.drainingTimeoutSec` below S.',
    why: 'The load balancer cuts in-flight requests to a removed endpoint after that timeout, while the app is still draining them.',
    sources: [GKE_BACKENDCONFIG, GKE_GATEWAY_POLICIES],
  },
  {
    id: 'gke-gateway-no-connection-draining',
    severity: 'error',
    title: 'GKE Gateway backend without connection draining',
    what: 'An HTTPRoute routes to a Service on GKE (a GCPBackendPolicy or HealthCheckPolicy targets it, or its Gateway has a `gke-l7-*` class), and no GCPBackendPolicy (`networking.gke.io/v1`) for that Service sets `connectionDraining.drainingTimeoutSec` above 0.',
    why: 'GKE leaves the backend service\'s drain timeout at 0 s unless a GCPBackendPolicy sets it, so requests in flight to a pod that leaves the NEG are cut at once.',
    sources: [GKE_GATEWAY_POLICIES],
  },
  {
    id: 'ingress-class-conflict',
    severity: 'error',
    title: 'Ingress class set twice',
    what: 'An Ingress sets both the `kubernetes.io/ingress.class` annotation and `spec.ingressClassName`: an error when they differ, a warning when they agree.',
    why: 'The API server refuses an Ingress whose annotation and `spec.ingressClassName` differ (since kubernetes/kubernetes#115447; before it, any Ingress with both), and controllers disagree on which one wins: GKE\'s ingress-gce reads only the annotation. Two that agree are accepted but can drift apart.',
    sources: ['https://kubernetes.io/docs/concepts/services-networking/ingress/#deprecated-annotation', 'https://github.com/kubernetes/kubernetes/pull/115447',
      'https://github.com/kubernetes/ingress-gce/blob/master/pkg/utils/utils.go (IsGCEIngress)', 'https://www.tencentcloud.com/document/product/457/37013'],
  },
  {
    id: 'pdb-missing',
    severity: 'warning',
    title: 'No PodDisruptionBudget',
    what: 'No PodDisruptionBudget selects the pods of a Deployment with more than one replica, or of one a HorizontalPodAutoscaler in the input may scale above one (without an HPA, an absent `replicas` is 1).',
    why: 'A node drain may evict every replica at once, which no preStop wait can cover.',
    sources: [K8S_PDB],
  },
  {
    id: 'pdb-blocks-drain',
    severity: 'warning',
    title: 'PodDisruptionBudget blocks node drains',
    what: 'A PodDisruptionBudget that selects the pods has `maxUnavailable: 0` (or 0%), or a `minAvailable` equal to or above `replicas` (or 100%).',
    why: 'No pod may ever be evicted: node drains and cluster upgrades hang until someone deletes the budget.',
    sources: [K8S_PDB],
  },
  {
    id: 'progress-deadline-too-short',
    severity: 'warning',
    title: 'Progress deadline shorter than one rollout step',
    what: '`progressDeadlineSeconds` (600 when absent) is shorter than one rollout step: the readiness delay (initialDelaySeconds + periodSeconds × successThreshold), `minReadySeconds`, the grace period and the kubelet\'s 2 s preStop extension.',
    why: 'The Deployment reports a healthy rollout as failed (ProgressDeadlineExceeded), and pipelines that watch it roll back.',
    sources: [K8S_DEPLOYMENT, MODEL],
  },
  {
    id: 'provider-unknown',
    severity: 'warning',
    title: 'Load balancer not identified',
    what: 'The provider behind an Ingress cannot be told (an unknown or missing class, or class `alb` without a vendor-specific annotation: Alibaba Cloud and AWS both use it) and no `--deregistration-delay` was given.',
    why: 'Without D the exact preStop wait and grace period are unknown. Class `alb` is judged under each candidate (an error when requests drop under all, a warning naming the others); behind any other controller a Deployment with no preStop wait at all is still an error, since every controller learns of a removed pod asynchronously, and a wait under 5 s a warning. Pass `--provider` or `--deregistration-delay` (in the cdk8s plugin: the `provider` or `deregistrationDelay` property).',
    sources: [ALIBABA_ANNOTATIONS, AWS_ANNOTATIONS],
  },
  {
    id: 'broken-reference',
    severity: 'warning',
    title: 'Reference that leads nowhere',
    what: 'An Ingress backend names a Service or port that is not in the input, or a Service\'s targetPort is not a port of the pods it selects.',
    why: 'The route cannot be followed, so the Deployment behind it is not audited (and, if the input is complete, the route serves nothing).',
    sources: ['https://kubernetes.io/docs/concepts/services-networking/service/#defining-a-service'],
  },
  // Rules about the input itself (issue 16 classes 4 and 5).
  {
    id: 'manifest-syntax-error',
    severity: 'error',
    title: 'Document that cannot be parsed',
    what: 'A document of an input file is not valid YAML (or JSON), or is nested too deeply to read; the finding gives its file, line and column. Every other document is still read and audited, and the report is printed in the chosen format, but `check` exits 2 (unusable input) whatever `--fail-on` says.',
    why: 'What cannot be read cannot be audited: a CI gate must not pass on it, and must still show everything else it found.',
    sources: ['https://yaml.org/spec/1.2.2/'],
  },
  {
    id: 'helm-template-skipped',
    severity: 'info',
    title: 'Helm template skipped',
    what: 'A file in (or below) the `templates/` folder of a Helm chart (a directory with `Chart.yaml`) holds template actions (`{{ ... }}`); it is skipped instead of being parsed as YAML. A chart directory given as an input is refused (exit 2): render it with `helm template` and check the output.',
    why: 'A template is not a manifest: parsed as YAML it fails or means something else, and what it renders to depends on the values.',
    sources: ['https://helm.sh/docs/helm/helm_template/'],
  },
  {
    id: 'duplicate-object',
    severity: 'warning',
    title: 'Object defined twice',
    what: 'Two documents of the input define the same object: the same kind, namespace (an object without `metadata.namespace` is in the `--namespace`, else `default`, namespace; cluster-scoped kinds such as IngressClass have none) and name. An error when the two differ, a warning when they are identical. The audit keeps the later definition, as `kubectl apply` would, and counts it once.',
    why: 'Applied together, one definition silently replaces the other: one app\'s Service or IngressClass changes what another app\'s Ingress routes to or which controller serves it, and what is audited is not what either file says.',
    sources: ['https://kubernetes.io/docs/concepts/overview/working-with-objects/names/', 'https://kubernetes.io/docs/concepts/services-networking/ingress/#ingress-class'],
  },
  {
    id: 'load-balancer-service-delay-unknown',
    severity: 'warning',
    title: 'L4 load balancer of unknown delay',
    what: 'A Service of `type: LoadBalancer` (an L4 load balancer: AWS NLB or Classic ELB, Alibaba Cloud CLB or NLB, Tencent CLB, Google Cloud) is in front of a Deployment, and no sourced deregistration delay D exists for it, or no `--deregistration-delay` was given. Its Deployment gets every rule an Ingress\'s does, with D from the sources where they exist: an AWS NLB with IP targets, about 120 s (measured by users whatever the target group\'s setting: aws-load-balancer-controller #2366, #3270); a Tencent CLB with direct access, 5 s (Tencent\'s graceful Service shutdown example). Otherwise the Deployment is judged against a minimum wait of 5 s, as behind an unknown ingress controller (no wait at all is an error), and this warning says so when the cloud cannot be told or its load balancer targets the pods with no sourced figure; a known cloud\'s load balancer that reaches the pods through the nodes gets no warning, since kube-proxy\'s delay, the same everywhere, is what the minimum wait covers.',
    why: 'An L4 load balancer, or kube-proxy on the nodes it targets, learns of a deleted pod asynchronously, like any ingress controller: a pod that stops at once still gets connections. The exact delay is the load balancer\'s.',
    sources: [
      'https://github.com/kubernetes-sigs/aws-load-balancer-controller/issues/2366', 'https://github.com/kubernetes-sigs/aws-load-balancer-controller/issues/3270',
      'https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/service/annotations/', 'https://www.tencentcloud.com/document/product/457/42070',
      'https://kubernetes.io/docs/concepts/services-networking/service/#loadbalancer',
    ],
  },
];

const BY_ID = new Map(RULES.map((r) => [r.id, r]));

/** A rule by id; throws for an unknown id (a programming error). */
export function rule(id: string): RuleDefinition {
  const found = BY_ID.get(id);
  if (found === undefined) throw new Error(`internal error: unknown rule ${id}`);
  return found;
}

/** The rules as a Markdown page (docs/rules.md): a table, then a section per rule. */
export function renderRulesMarkdown(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const source = (s: string) => (s.startsWith('http') ? `<${s}>` : s);
  return [
    '<!-- Generated from src/check/rules.ts by `npm run docs:rules`; a test keeps it current. Do not edit by hand. -->',
    '# `check` rules',
    '',
    '`npx cdk8s-graceful-web-service check` and the cdk8s validation plugin run these rules on every Deployment that serves',
    'traffic through an Ingress (Ingress → Service → Deployment), a Gateway API HTTPRoute or a Service of `type: LoadBalancer`',
    '(an L4 load balancer). D is the deregistration delay: `--deregistration-delay`,',
    'else the Deployment\'s annotation `graceful-web-service.cdk8s.io/deregistration-delay-seconds`, else the provider\'s',
    'default. S is the drain timeout: the annotation `graceful-web-service.cdk8s.io/drain-timeout-seconds`, else',
    '`--drain-timeout` (default 30 s). Whether the app drains on its stop signal comes from',
    '`graceful-web-service.cdk8s.io/drains-on-stop-signal` (or the older `.../drains-on-sigterm`), else it is assumed.',
    'Every fix is computed by `ShutdownBudget`, the same arithmetic the construct uses.',
    '',
    '| id | severity | checks |',
    '|---|---|---|',
    ...RULES.map((r) => `| [\`${r.id}\`](#${r.id}) | ${r.severity} | ${cell(r.title)} |`),
    '',
    ...RULES.flatMap((r) => [
      `## ${r.id}`,
      '',
      `**${r.title}** (${r.severity})`,
      '',
      `- What: ${r.what}`,
      `- Why: ${r.why}`,
      `- Sources: ${r.sources.map(source).join(', ')}`,
      '',
    ]),
  ].join('\n');
}
