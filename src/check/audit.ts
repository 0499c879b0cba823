/**
 * The `check` audit: every Deployment that serves traffic through an Ingress, checked against the
 * rules in ./rules.ts. Numbers come from the flags, our budget annotations and the provider's
 * defaults; every fix is computed by `ShutdownBudget` (see `deriveBudget`, the one place it is
 * called). It only reads objects; nothing from a manifest is run.
 */
import { Duration } from 'cdk8s';
import { describeDuplicate, distinctObjects } from './duplicates';
import { preStopEdit } from './fix/prestop';
import { PreStopWait, preStopWait } from './prestop-wait';
import { rule, SEVERITIES, Severity } from './rules';
import { detectServiceProvider, reachesPodsThroughNodes } from './service-load-balancer';
import { AlibabaAlb } from '../alibaba-alb';
import { AwsAlb } from '../aws-alb';
import { deriveShutdownBudget, ShutdownBudget } from '../budget';
import {
  DEREGISTRATION_DELAY_ANNOTATION, DRAIN_TIMEOUT_ANNOTATION, DRAINS_ON_STOP_SIGNAL_ANNOTATION,
  LEGACY_DRAINS_ON_SIGTERM_ANNOTATION, SAFETY_MARGIN_ANNOTATION,
} from '../budget-annotations';
import { GkeIngress } from '../gke-ingress';
import { resolveHealthCheck } from '../health-check';
import { Map2, Map3, push3, TupleMap } from '../manifests/nested-map';
import {
  annotationsOf, detectGatewayProvider, detectProvider, GatewayPolicies, indexGatewayPolicies, KubeObject, LoadedObject, namespaceOf,
  PROVIDER_IDS, ProviderDetection, ProviderId, resolveTopology, selectorMatches, ServedDeployment, SourceLocation, TrafficRoute,
} from '../manifests/topology';
import { preStopWaitCommand } from '../prestop';
import { TencentClb } from '../tencent-clb';

/**
 * Each provider's documented deregistration delay D, used when neither `--deregistration-delay`
 * nor the Deployment's annotation gives one: a manifest that follows its vendor's advice is judged
 * by that advice, not by the construct's longer defaults. AWS depends on the route's target type
 * (the controller's default is `instance`).
 */
const PROVIDER_DEFAULT_DEREGISTRATION_DELAY: { readonly [id in ProviderId]: (awsTargetType: string) => Duration } = {
  'alibaba-alb': () => AlibabaAlb.DOCUMENTED_DEREGISTRATION_DELAY,
  'tencent-clb': () => TencentClb.DOCUMENTED_DEREGISTRATION_DELAY,
  'aws-alb': (targetType) => (targetType === 'ip' ? AwsAlb.DEFAULT_DEREGISTRATION_DELAY_IP : AwsAlb.DEFAULT_DEREGISTRATION_DELAY_INSTANCE),
  'gke-ingress': () => GkeIngress.DOCUMENTED_DEREGISTRATION_DELAY,
};

/** The provider's default D for one route, in seconds (an HTTPRoute's AWS target type is its TargetGroupConfiguration's). */
export function providerDefaultDeregistrationDelaySeconds(
  provider: ProviderId, route: TrafficRoute, policies?: GatewayPolicies, classTargetType?: string,
): number {
  return PROVIDER_DEFAULT_DEREGISTRATION_DELAY[provider](awsTargetType(route, policies, classTargetType)).toSeconds();
}

/**
 * The AWS target type of a route: the `spec.targetType` of its IngressClass's IngressClassParams when
 * set (the controller then ignores the annotation: docs/guide/ingress/ingress_class.md, "spec.targetType",
 * aws-load-balancer-controller 225f445), else `alb.ingress.kubernetes.io/target-type` (the Service's
 * annotation before the Ingress's: annotations.md, "Annotations applied to Service have higher
 * priority"), `instance` by default; for an HTTPRoute, its TargetGroupConfiguration's
 * `defaultConfiguration.targetType` (`instance` by default too).
 */
function awsTargetType(route: TrafficRoute, policies?: GatewayPolicies, classTargetType?: string): string {
  if (route.ingress.object.kind === 'HTTPRoute') {
    const type = policies?.targetGroupConfiguration?.object.spec?.defaultConfiguration?.targetType;
    return typeof type === 'string' ? type : 'instance';
  }
  const key = 'alb.ingress.kubernetes.io/target-type';
  return classTargetType ?? annotationsOf(route.service.object)[key] ?? annotationsOf(route.ingress.object)[key] ?? 'instance';
}

/**
 * `spec.targetType` of the IngressClassParams (`elbv2.k8s.aws`, cluster-scoped) that an Ingress's
 * IngressClass (controller `ingress.k8s.aws/alb`) names in `spec.parameters`, when the input has both.
 */
function indexClassTargetTypes(objects: readonly LoadedObject[]): (ingress: LoadedObject) => string | undefined {
  const named = (kind: string) => new Map(objects.filter((o) => o.object.kind === kind).map((o) => [String(o.object.metadata?.name), o.object]));
  const classes = named('IngressClass');
  const params = named('IngressClassParams');
  return (ingress) => {
    const className = ingress.object.spec?.ingressClassName ?? annotationsOf(ingress.object)['kubernetes.io/ingress.class'];
    const ingressClass = typeof className === 'string' ? classes.get(className) : undefined;
    const ref = ingressClass?.spec?.parameters;
    if (ingressClass?.spec?.controller !== 'ingress.k8s.aws/alb' || !isObject(ref) || ref.kind !== 'IngressClassParams') return undefined;
    const type = params.get(String(ref.name))?.spec?.targetType;
    return typeof type === 'string' ? type : undefined;
  };
}

/** Settings of one audit (the CLI flags and the plugin properties). */
export interface CheckOptions {
  /**
   * The provider of every Ingress whose class and annotations do not tell (class `alb` without a
   * vendor-specific key, a missing or unknown class); a clearly detected provider is kept.
   */
  readonly provider?: ProviderId;
  /** D in seconds; overrides the annotation and the provider's default. */
  readonly deregistrationDelaySeconds?: number;
  /** S in seconds where the Deployment has no drain-timeout annotation. @default 30 */
  readonly drainTimeoutSeconds?: number;
  /**
   * The namespace objects without `metadata.namespace` are applied to (`kubectl apply -n`).
   * @default default
   */
  readonly namespace?: string;
  /**
   * Whose settings the fix texts name: the CLI's flags (`--provider`) or the cdk8s validation
   * plugin's properties in cdk8s.yaml (`provider`). @default 'cli'
   */
  readonly settingsOf?: 'cli' | 'cdk8s-plugin';
}

/** How the user sets provider, D and S where they run the audit. */
function settingNames(options: CheckOptions): { provider: (ids: readonly string[]) => string; d: string } {
  if (options.settingsOf === 'cdk8s-plugin') {
    return {
      provider: (ids) => `set provider: ${ids.join(' or provider: ')} in the plugin's properties in cdk8s.yaml`,
      d: 'deregistrationDelay: <seconds> in the plugin\'s properties in cdk8s.yaml',
    };
  }
  return { provider: (ids) => `run with --provider ${ids.join(' or --provider ')}`, d: '--deregistration-delay <seconds>' };
}

/**
 * The wait below which a Deployment behind a load balancer of unknown make certainly risks
 * requests: every controller (cloud load balancers, ingress-nginx, Traefik) learns of a pod's
 * removal from the endpoints asynchronously, so a pod that stops at once can still be sent
 * requests. Kept low on purpose (the exact figure is the provider's): less is a warning, none an error.
 */
export const UNKNOWN_PROVIDER_MINIMUM_WAIT_SECONDS = 5;

/** Which object a finding is about. */
export interface FindingObject {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** How to fix a finding: a sentence, and the fields to set (paths into the object). */
export interface Fix {
  readonly description: string;
  readonly set?: { readonly [field: string]: unknown };
  /** The budget the numbers come from, for timing rules. */
  readonly budget?: BudgetNumbers;
}

/** A budget's inputs and outputs, as reported with a fix. */
export interface BudgetNumbers {
  readonly deregistrationDelaySeconds: number;
  readonly drainTimeoutSeconds: number;
  readonly safetyMarginSeconds: number;
  readonly drainsOnStopSignal: boolean;
  readonly preStopSleepSeconds: number;
  readonly terminationGracePeriodSeconds: number;
}

/** One problem found. */
export interface Finding {
  readonly rule: string;
  readonly severity: Severity;
  readonly object: FindingObject;
  readonly message: string;
  readonly fix: Fix;
  /** Where the object starts in the input. */
  readonly location: SourceLocation;
}

/** The outcome of an audit. */
export interface AuditResult {
  readonly findings: Finding[];
  /** Objects read. */
  readonly objects: number;
  /** Deployments audited (served through an Ingress). */
  readonly deployments: number;
}

/** Inputs of `ShutdownBudget.derive` that the checker knows. */
interface BudgetInputs {
  readonly deregistrationDelaySeconds: number;
  readonly drainTimeoutSeconds: number;
  readonly safetyMarginSeconds?: number;
  readonly drainsOnStopSignal: boolean;
  readonly startupDelaySeconds?: number;
  readonly readinessDelaySeconds?: number;
  readonly registrationDelaySeconds?: number;
  /**
   * The manifest's grace period: used as the budget's (explicit) grace period when it is long
   * enough, so the launch side counts the grace the pods really get; ignored when it is shorter
   * than the budget's minimum (the grace rule reports that).
   */
  readonly terminationGracePeriodSeconds?: number;
}

/** Budgets derived so far, by their inputs: thousands of Deployments share a handful of them. */
const BUDGETS = new TupleMap<ShutdownBudget>();

/** The one place the checker derives a budget (a `ShutdownBudget` is immutable, so equal inputs share one). */
export function deriveBudget(inputs: BudgetInputs): ShutdownBudget {
  const key = [inputs.deregistrationDelaySeconds, inputs.drainTimeoutSeconds, inputs.safetyMarginSeconds, inputs.drainsOnStopSignal,
    inputs.startupDelaySeconds, inputs.readinessDelaySeconds, inputs.registrationDelaySeconds, inputs.terminationGracePeriodSeconds];
  let budget = BUDGETS.get(key);
  if (budget === undefined) {
    if (BUDGETS.size >= 10_000) BUDGETS.clear();
    budget = deriveBudgetOnce(inputs);
    BUDGETS.set(key, budget);
  }
  return budget;
}

function deriveBudgetOnce(inputs: BudgetInputs): ShutdownBudget {
  const seconds = (value: number | undefined) => (value === undefined ? undefined : Duration.seconds(value));
  const options = {
    deregistrationDelay: Duration.seconds(inputs.deregistrationDelaySeconds),
    drainTimeout: Duration.seconds(inputs.drainTimeoutSeconds),
    safetyMargin: seconds(inputs.safetyMarginSeconds),
    drainsOnStopSignal: inputs.drainsOnStopSignal,
    startupDelay: seconds(inputs.startupDelaySeconds),
    readinessDelay: seconds(inputs.readinessDelaySeconds),
    registrationDelay: seconds(inputs.registrationDelaySeconds),
  };
  const derived = deriveShutdownBudget(options);
  const grace = inputs.terminationGracePeriodSeconds;
  if (grace === undefined || grace < derived.minimumTerminationGracePeriodSeconds) return derived;
  return deriveShutdownBudget({ ...options, terminationGracePeriod: Duration.seconds(grace) });
}

function numbersOf(budget: ShutdownBudget): BudgetNumbers {
  return {
    deregistrationDelaySeconds: budget.deregistrationDelaySeconds,
    drainTimeoutSeconds: budget.drainTimeoutSeconds,
    safetyMarginSeconds: budget.safetyMarginSeconds,
    drainsOnStopSignal: budget.drainsOnStopSignal,
    preStopSleepSeconds: budget.preStopSleepSeconds,
    terminationGracePeriodSeconds: budget.terminationGracePeriodSeconds,
  };
}

function isObject(value: unknown): value is KubeObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectRef(object: KubeObject): FindingObject {
  return {
    kind: String(object.kind ?? ''),
    namespace: typeof object.metadata?.namespace === 'string' ? object.metadata.namespace : '',
    name: String(object.metadata?.name ?? ''),
  };
}

/** A non-negative number from an annotation, or undefined when absent or not a number. */
function annotationSeconds(annotations: { [key: string]: string }, key: string): number | undefined {
  const value = annotations[key];
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function annotationBool(annotations: { [key: string]: string }, ...keys: string[]): boolean | undefined {
  for (const key of keys) {
    const value = annotations[key]?.trim().toLowerCase();
    if (value === 'true') return true;
    if (value === 'false') return false;
  }
  return undefined;
}

/** An int-or-percent against a total: percentages round down (maxUnavailable) or up (maxSurge). */
function resolveIntOrPercent(value: unknown, total: number, roundUp: boolean): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    const m = /^(\d+)%$/.exec(value.trim());
    if (m !== null) {
      const exact = (Number(m[1]) * total) / 100;
      return roundUp ? Math.ceil(exact) : Math.floor(exact);
    }
    if (/^\d+$/.test(value.trim())) return Number(value);
  }
  return undefined;
}

/** Whether a label selector (matchLabels and matchExpressions) selects `labels`. */
function labelSelectorMatches(selector: unknown, labels: unknown): boolean {
  if (!isObject(selector) || !isObject(labels)) return false;
  const matchLabels = isObject(selector.matchLabels) ? selector.matchLabels : {};
  const expressions: unknown[] = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  if (Object.keys(matchLabels).length === 0 && expressions.length === 0) return false;
  if (Object.keys(matchLabels).length > 0 && !selectorMatches(matchLabels, labels)) return false;
  return expressions.every((e) => {
    if (!isObject(e) || typeof e.key !== 'string') return false;
    const values: unknown[] = Array.isArray(e.values) ? e.values : [];
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    switch (e.operator) {
      case 'In': return has && values.includes(labels[e.key]);
      case 'NotIn': return !has || !values.includes(labels[e.key]);
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
      default: return false;
    }
  });
}

/**
 * The preStop handler a finding's fix sets for a wait of `seconds`: the edit `check --fix` writes
 * (fix/prestop.ts) applied to the container's hook, so the finding and `--fix` give one answer
 * (the container's own command is kept and the wait follows it). Where `--fix` leaves the wait to
 * the user (an HTTP hook, a shell-less image), the library's `sh -c` sleep.
 */
function waitHandler(container: KubeObject, wait: PreStopWait, seconds: number): KubeObject {
  const edit = preStopEdit(container, seconds, wait.kind === 'sleep-action' ? 'sleep-action' : 'exec-sleep');
  if (!('path' in edit)) return { exec: { command: preStopWaitCommand(seconds) } };
  const below = edit.path.slice(2); // the path starts at lifecycle.preStop
  if (below.length === 0) return edit.value as KubeObject;
  const handler: KubeObject = JSON.parse(JSON.stringify(container.lifecycle.preStop));
  let at: KubeObject = handler;
  for (const key of below.slice(0, -1)) at = at[key];
  at[below[below.length - 1]] = edit.value;
  return handler;
}

/** Audits every Deployment served through an Ingress. */
export function audit(input: readonly LoadedObject[], options: CheckOptions = {}): AuditResult {
  const { findings, add } = collector();
  const defaultNamespace = options.namespace ?? 'default';
  // Each object once (issue 16 class 5): a duplicate is reported, never overwritten or counted silently.
  const { objects, duplicates } = distinctObjects(input, defaultNamespace);
  for (const d of duplicates) {
    const { message, description, severity } = describeDuplicate(d);
    add('duplicate-object', d.object, message, { description }, severity);
  }
  // Services of type LoadBalancer are fronts too: an L4 load balancer has the same race (issue 16 class 8).
  const topology = resolveTopology(objects, defaultNamespace, { loadBalancerServices: true });
  for (const broken of topology.broken) {
    add('broken-reference', broken.object, `${broken.message}; the route behind it is not audited`, {
      description: 'fix the reference, or check the input is complete (all files of the app)',
    });
  }
  for (const ingress of objects.filter((o) => o.object.kind === 'Ingress')) {
    auditIngress(ingress, add);
  }
  const gatewayPoliciesOf = indexGatewayPolicies(objects, defaultNamespace);
  const context: AuditContext = {
    add,
    options,
    pdbs: indexDisruptionBudgets(objects, defaultNamespace),
    autoscalerOf: indexAutoscalers(objects, defaultNamespace),
    classTargetTypeOf: indexClassTargetTypes(objects),
    backendConfigs: namedLookup(objects, 'BackendConfig', defaultNamespace),
    tkeServiceConfigs: namedLookup(objects, 'TkeServiceConfig', defaultNamespace),
    providerOf: providerResolver(objects, options, defaultNamespace, gatewayPoliciesOf, backendServices(topology.served)),
    policiesOf: (route) => (route.ingress.object.kind === 'HTTPRoute' ? gatewayPoliciesOf(route.service.object) : undefined),
  };
  for (const served of topology.served) {
    auditDeployment(context, served);
  }
  findings.sort(compareFindings);
  return { findings, objects: objects.length, deployments: topology.served.length };
}

/**
 * The order of a report: file, line, column, severity (errors first), rule. Strings compare by code
 * point, not by locale: the same order on every machine, and no collator to load.
 */
export function compareFindings(a: Finding, b: Finding): number {
  return byCodePoint(a.location.file, b.location.file) || a.location.line - b.location.line || a.location.column - b.location.column
    || SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || byCodePoint(a.rule, b.rule);
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What every Deployment's audit shares: the finding sink, the options and the indexes of the input. */
interface AuditContext {
  readonly add: Add;
  readonly options: CheckOptions;
  readonly pdbs: (deployment: KubeObject) => LoadedObject[];
  /** The HorizontalPodAutoscaler that scales a Deployment, if the input has one. */
  readonly autoscalerOf: (deployment: KubeObject) => LoadedObject | undefined;
  /** AWS: the target type an Ingress's IngressClassParams sets, overriding the annotation. */
  readonly classTargetTypeOf: (ingress: LoadedObject) => string | undefined;
  readonly backendConfigs: NamedLookup;
  readonly tkeServiceConfigs: NamedLookup;
  readonly providerOf: (route: TrafficRoute, podSpec: KubeObject) => ProviderDetection;
  /** An HTTPRoute's vendor policies (undefined for an Ingress). */
  readonly policiesOf: (route: TrafficRoute) => GatewayPolicies | undefined;
}

/** A findings list and its `add`, which drops exact repeats (same rule, object and message). */
function collector(): { findings: Finding[]; add: Add } {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const add: Add = (ruleId, target, message, fix, severity) => {
    const object = objectRef(target.object);
    const key = `${ruleId}\u0000${object.kind}\u0000${object.namespace}\u0000${object.name}\u0000${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    findings.push({ rule: ruleId, severity: severity ?? rule(ruleId).severity, object, message, fix, location: target.source });
  };
  return { findings, add };
}

/** Finds an object of one kind by name in the namespace of another object. */
type NamedLookup = (near: KubeObject, name: string) => LoadedObject | undefined;

/** The objects of one kind, by namespace and name (the first of a name wins). */
function namedLookup(objects: readonly LoadedObject[], kind: string, defaultNamespace: string): NamedLookup {
  const map = new Map2<LoadedObject>();
  for (const o of objects) {
    if (o.object.kind !== kind) continue;
    const ns = namespaceOf(o.object, defaultNamespace);
    const name = String(o.object.metadata?.name ?? '');
    if (!map.has(ns, name)) map.set(ns, name, o);
  }
  return (near, name) => map.get(namespaceOf(near, defaultNamespace), name);
}

/**
 * Classifies an Ingress as Kubernetes would: one created without a class (neither
 * `spec.ingressClassName` nor the annotation) is given the cluster's default IngressClass (annotated
 * `ingressclass.kubernetes.io/is-default-class: "true"`); with more than one default, Kubernetes
 * refuses such an Ingress, and none is assumed here. The IngressClasses are the input's, one per
 * name (cluster-scoped; duplicates are reported by the audit).
 */
function defaultIngressClass(
  ingressClasses: readonly LoadedObject[],
): (ingress: KubeObject, detect: (ingress: KubeObject) => ProviderDetection) => ProviderDetection {
  const defaults = ingressClasses.filter((o) => annotationsOf(o.object)['ingressclass.kubernetes.io/is-default-class']?.trim() === 'true');
  const name = defaults.length === 1 ? defaults[0].object.metadata?.name : undefined;
  return (ingress, detect) => {
    const classless = typeof ingress.spec?.ingressClassName !== 'string' && annotationsOf(ingress)['kubernetes.io/ingress.class'] === undefined;
    if (!classless || typeof name !== 'string') return detect(ingress);
    const detection = detect({ ...ingress, spec: { ...(isObject(ingress.spec) ? ingress.spec : {}), ingressClassName: name } });
    return { ...detection, reason: `${detection.reason}, the default IngressClass Kubernetes gives an Ingress without a class` };
  };
}

/** The backend Services each Ingress (or HTTPRoute) routes to, among the served routes. */
function backendServices(served: readonly ServedDeployment[]): Map<LoadedObject, KubeObject[]> {
  const services = new Map<LoadedObject, KubeObject[]>();
  for (const route of served.flatMap((s) => s.routes)) {
    const list = services.get(route.ingress) ?? [];
    if (!list.includes(route.service.object)) list.push(route.service.object);
    services.set(route.ingress, list);
  }
  return services;
}

/** Each Ingress's provider, detected once; `--provider` settles what the Ingress does not tell. */
function providerResolver(
  objects: readonly LoadedObject[], options: CheckOptions, defaultNamespace: string, gatewayPoliciesOf: (service: KubeObject) => GatewayPolicies,
  servicesOf: Map<LoadedObject, KubeObject[]>,
): (route: TrafficRoute, podSpec: KubeObject) => ProviderDetection {
  const detections = new Map<LoadedObject, ProviderDetection>();
  // detectProvider only looks for IngressClass and BackendConfig objects in what it is given.
  const ingressClasses = objects.filter((o) => o.object.kind === 'IngressClass' || o.object.kind === 'BackendConfig');
  const withDefault = defaultIngressClass(ingressClasses.filter((o) => o.object.kind === 'IngressClass'));
  return (route, podSpec) => {
    let detection = detections.get(route.ingress);
    if (detection === undefined) {
      const front = route.ingress.object.kind;
      detection = front === 'HTTPRoute'
        ? detectGatewayProvider(route.ingress.object, gatewayPoliciesOf(route.service.object), objects, defaultNamespace)
        : front === 'Service' ? detectServiceProvider(route.ingress.object)
          : withDefault(route.ingress.object,
            (i) => detectProvider(i, ingressClasses, [podSpec], servicesOf.get(route.ingress) ?? [route.service.object]));
      // --provider settles what the Ingress itself does not tell; it never overrides a clear answer
      // (nor names an L4 load balancer: its providers are Ingress and Gateway load balancers).
      if (detection.provider === undefined && options.provider !== undefined && front !== 'Service') {
        detection = { provider: options.provider, candidates: [options.provider], reason: `--provider (${detection.reason})` };
      }
      detections.set(route.ingress, detection);
    }
    return detection;
  };
}

/** The shutdown settings of one Deployment as the manifest, the flags and the providers give them. */
interface DeploymentTiming {
  readonly deployment: LoadedObject;
  readonly podSpec: KubeObject;
  /** D in seconds, undefined when no provider, flag or annotation gives it. */
  readonly d: number | undefined;
  readonly s: number;
  readonly m: number | undefined;
  readonly drains: boolean;
  readonly grace: number;
  readonly graceText: string;
  readonly appText: string;
  readonly providers: Map<TrafficRoute, ProviderId | undefined>;
  /** When D is undefined because a route's provider is ambiguous: D under each candidate. */
  readonly candidates: readonly { readonly provider: ProviderId; readonly d: number }[];
  /** When D is undefined because a route's provider is unknown: why. */
  readonly unknownReason?: string;
}

/** What the containers' audit learns for the progress deadline. */
interface StepDurations {
  longestStep: number;
  longestStartup: number;
  widestGrace: number;
}

function auditDeployment(context: AuditContext, served: ServedDeployment): void {
  const deployment = served.deployment;
  const podSpec: KubeObject = isObject(deployment.object.spec?.template?.spec) ? deployment.object.spec.template.spec : {};
  const containers: KubeObject[] = Array.isArray(podSpec.containers) ? podSpec.containers : [];
  const timing = deploymentTiming(context, served, podSpec);

  // The containers the Services route to.
  const targets = new Map<number, TrafficRoute[]>();
  for (const route of served.routes) {
    if (route.target === undefined) continue;
    const list = targets.get(route.target.containerIndex);
    if (list === undefined) targets.set(route.target.containerIndex, [route]); else list.push(route);
  }
  const steps: StepDurations = { longestStep: 0, longestStartup: 0, widestGrace: timing.grace };
  for (const [index, routes] of targets) {
    const container = containers[index];
    if (!isObject(container)) continue;
    auditContainer(context, timing, container, String(container.name ?? index), routes, steps);
  }

  // Provider settings that depend on S and D.
  for (const route of served.routes) {
    auditProviderTiming(route, timing.providers.get(route), timing.d, timing.s, timing.m, timing.drains, podSpec,
      context.backendConfigs, context.add, context.policiesOf(route), context.classTargetTypeOf(route.ingress));
  }
  auditStrategy(deployment, context.add);
  auditDisruptionBudget(deployment, context.pdbs(deployment.object), context.autoscalerOf(deployment.object), context.add);
  auditProgressDeadline(timing, steps, context.add);
}

/** D, S, M, the drain behaviour and the grace period of a Deployment; reports routes whose provider cannot be told. */
function deploymentTiming(context: AuditContext, served: ServedDeployment, podSpec: KubeObject): DeploymentTiming {
  const { options, add } = context;
  const dep = served.deployment.object;
  const annotations = annotationsOf(dep);
  // D: the flag, else our annotation, else the largest provider default among the routes.
  const flagOrAnnotationD = options.deregistrationDelaySeconds ?? annotationSeconds(annotations, DEREGISTRATION_DELAY_ANNOTATION);
  let providerD: number | undefined;
  const providers = new Map<TrafficRoute, ProviderId | undefined>();
  // Routes whose provider is ambiguous: D of each candidate; routes whose provider is unknown: why.
  const ambiguous = new Map<ProviderId, number>();
  let unknownReason: string | undefined;
  const names = settingNames(options);
  const known = (d: ProviderDetection) => d.provider !== undefined || d.deregistrationDelaySeconds !== undefined;
  const anyKnown = served.routes.some((route) => known(context.providerOf(route, podSpec)));
  for (const route of served.routes) {
    const detection = context.providerOf(route, podSpec);
    providers.set(route, detection.provider);
    if (detection.provider !== undefined) {
      providerD = Math.max(providerD ?? 0,
        providerDefaultDeregistrationDelaySeconds(detection.provider, route, context.policiesOf(route), context.classTargetTypeOf(route.ingress)));
    } else if (detection.deregistrationDelaySeconds !== undefined) {
      providerD = Math.max(providerD ?? 0, detection.deregistrationDelaySeconds); // an L4 load balancer's sourced figure
    } else if (route.ingress.object.kind === 'Service' && anyKnown) {
      continue; // an L4 path of unknown delay beside a known one: the known D is longer than its minimum wait
    } else if (flagOrAnnotationD === undefined) {
      const choices = detection.candidates.length > 1 ? detection.candidates : undefined;
      for (const candidate of choices ?? []) {
        const candidateD = providerDefaultDeregistrationDelaySeconds(candidate, route, context.policiesOf(route),
          context.classTargetTypeOf(route.ingress));
        ambiguous.set(candidate, Math.max(ambiguous.get(candidate) ?? 0, candidateD));
      }
      if (choices === undefined) unknownReason ??= detection.reason;
      if (route.ingress.object.kind === 'Service') {
        if (reachesPodsThroughNodes(route.ingress.object)) continue;
        add('load-balancer-service-delay-unknown', route.ingress,
          `the delay of this L4 load balancer is not known (${detection.reason}), so the preStop wait and grace period of ${objectLabel(dep)} `
          + `are checked only against a minimum wait of ${UNKNOWN_PROVIDER_MINIMUM_WAIT_SECONDS} s`,
          { description: `set ${names.d} (the time your load balancer needs to stop routing to a deleted pod)` });
        continue;
      }
      add('provider-unknown', route.ingress,
        `the load balancer cannot be told (${detection.reason}), so the preStop wait and grace period of ${objectLabel(dep)} are checked `
        + (choices !== undefined ? `against each candidate (${choices.join(', ')})` : `only against a minimum wait of ${UNKNOWN_PROVIDER_MINIMUM_WAIT_SECONDS} s`),
        {
          description: choices !== undefined
            ? `${names.provider(choices)} (or ${names.d})`
            : `set ${names.d} (the time your load balancer needs to stop routing to a deleted pod), or ${names.provider(PROVIDER_IDS)}`,
        });
    }
  }
  const d = flagOrAnnotationD ?? (unknownReason === undefined && ambiguous.size === 0 ? providerD : undefined);
  const candidates = d !== undefined || unknownReason !== undefined ? []
    : [...ambiguous].map(([provider, candidateD]) => ({ provider, d: Math.max(candidateD, providerD ?? 0) }));
  const drains = annotationBool(annotations, DRAINS_ON_STOP_SIGNAL_ANNOTATION, LEGACY_DRAINS_ON_SIGTERM_ANNOTATION) ?? true;
  const graceDeclared = typeof podSpec.terminationGracePeriodSeconds === 'number';
  const grace: number = graceDeclared ? podSpec.terminationGracePeriodSeconds : 30;
  return {
    deployment: served.deployment,
    podSpec,
    d,
    s: annotationSeconds(annotations, DRAIN_TIMEOUT_ANNOTATION) ?? options.drainTimeoutSeconds ?? 30,
    m: annotationSeconds(annotations, SAFETY_MARGIN_ANNOTATION),
    drains,
    grace,
    graceText: graceDeclared ? `terminationGracePeriodSeconds is ${grace}` : 'terminationGracePeriodSeconds is 30 (the Kubernetes default)',
    appText: drains ? 'the app drains on its stop signal' : 'the app stops abruptly on its stop signal',
    providers,
    candidates,
    unknownReason: d === undefined ? unknownReason : undefined,
  };
}

function auditContainer(
  context: AuditContext, timing: DeploymentTiming, container: KubeObject, cname: string, routes: TrafficRoute[], steps: StepDurations,
): void {
  const wait = preStopWait(container);
  // A startup probe may hold readiness probing back for up to initialDelay + period × failureThreshold.
  const startup = container.startupProbe;
  if (isObject(startup)) {
    const worst = Number(startup.initialDelaySeconds ?? 0) + Number(startup.periodSeconds ?? 10) * Number(startup.failureThreshold ?? 3);
    if (Number.isFinite(worst)) steps.longestStartup = Math.max(steps.longestStartup, worst);
  }
  if (timing.d !== undefined) {
    const verdict = judgePreStopWait(timing, timing.d, container, cname, wait);
    if (verdict !== undefined) context.add(verdict.rule, timing.deployment, verdict.message, verdict.fix);
  } else if (timing.candidates.length > 0) {
    auditPreStopWaitCandidates(timing, container, cname, wait, context);
  } else {
    auditPreStopWaitUnknown(timing, container, cname, wait, context);
  }
  // The grace period against the wait the manifest really has (a longer wait needs more grace).
  // (Skipped only when the hook's length is unknown: an HTTP call or a command without a wait.)
  if (!(wait.seconds === 0 && wait.runsUnknown)) auditGracePeriod(timing, cname, wait, steps, context.add);
  auditReadiness(context, timing, container, cname, routes, steps);
}

/** A finding the preStop wait deserves under one D. */
interface Verdict {
  readonly rule: string;
  readonly message: string;
  readonly fix: Fix;
}

/** The rules under which requests certainly drop (not merely a thin margin). */
const DROPS = ['prestop-wait-missing', 'prestop-wait-unrecognised', 'prestop-wait-too-short'];

/**
 * The provider is ambiguous: the wait is judged under each candidate's D. An error when requests
 * drop under every candidate, a warning naming those under which they drop otherwise; the fix
 * gives each candidate's figure and sets the one that is safe under all.
 */
function auditPreStopWaitCandidates(timing: DeploymentTiming, container: KubeObject, cname: string, wait: PreStopWait, context: AuditContext): void {
  const verdicts = timing.candidates.map((c) => ({ ...c, verdict: judgePreStopWait(timing, c.d, container, cname, wait) }));
  const dropping = verdicts.filter((v) => v.verdict !== undefined && DROPS.includes(v.verdict.rule));
  if (dropping.length === 0) return;
  const widest = dropping.reduce((a, b) => (b.d > a.d ? b : a));
  const all = dropping.length === verdicts.length;
  const under = dropping.map((v) => v.provider).join(' and ');
  const names = settingNames(context.options);
  context.add(widest.verdict!.rule, timing.deployment,
    `${all ? 'under every candidate load balancer' : `under ${under} (the provider cannot be told)`}, ${widest.verdict!.message}`,
    {
      ...widest.verdict!.fix,
      description: `${dropping.map((v) => `under ${v.provider}: ${v.verdict!.fix.description}`).join('; ')}; or ${names.provider(verdicts.map((v) => v.provider))}`,
    },
    all ? 'error' : 'warning');
}

/**
 * The provider is unknown (another ingress controller, ingress-nginx, Traefik, no class): every
 * controller learns of a pod's removal asynchronously, so no wait at all is an error and a wait
 * below a conservative minimum a warning; the exact figure is left to the provider.
 */
function auditPreStopWaitUnknown(timing: DeploymentTiming, container: KubeObject, cname: string, wait: PreStopWait, context: AuditContext): void {
  const minimum = UNKNOWN_PROVIDER_MINIMUM_WAIT_SECONDS;
  if (wait.seconds >= minimum) return;
  const names = settingNames(context.options);
  const grace = timing.grace < minimum + timing.s ? minimum + timing.s : undefined;
  const fix: Fix = {
    description: `wait at least ${minimum} s in preStop${grace !== undefined ? ` and set terminationGracePeriodSeconds to ${grace}` : ''}; `
      + `the exact figure is your load balancer's: ${names.d}, or ${names.provider(PROVIDER_IDS)}`,
    set: {
      [`spec.template.spec.containers[${cname}].lifecycle.preStop`]: waitHandler(container, wait, minimum),
      ...(grace !== undefined ? { 'spec.template.spec.terminationGracePeriodSeconds': grace } : {}),
    },
  };
  const why = `every load balancer learns of a deleted pod asynchronously (${timing.unknownReason ?? 'provider unknown'})`;
  if (wait.kind === 'none') {
    context.add('prestop-wait-missing', timing.deployment,
      `container ${cname} has no preStop wait, so it stops while the load balancer may still route to it: ${why}`, fix);
  } else if (wait.seconds === 0 && wait.runsUnknown) {
    // A command of unknown length (ingress-nginx's /wait-shutdown, a script): it may wait, or not.
    context.add('prestop-wait-unrecognised', timing.deployment,
      `container ${cname} runs ${wait.description} in preStop, with no wait this checker recognises; it must keep the pod serving for at least ${minimum} s: ${why}`,
      fix, 'warning');
  } else {
    context.add('prestop-wait-too-short', timing.deployment,
      `container ${cname} waits ${wait.seconds} s in preStop (${wait.description}), less than the minimum of ${minimum} s: ${why}`, fix, 'warning');
  }
}

/** The preStop wait against D (the floor without margin) and the recommended wait (with it). */
function judgePreStopWait(timing: DeploymentTiming, d: number, container: KubeObject, cname: string, wait: PreStopWait): Verdict | undefined {
  const { s, m, drains, grace, appText } = timing;
  const field = `spec.template.spec.containers[${cname}]`;
  // What the model derives (the fix), and the floor below which requests certainly drop:
  // the same budget without the safety margin.
  const budget = deriveBudget({ deregistrationDelaySeconds: d, drainTimeoutSeconds: s, safetyMarginSeconds: m, drainsOnStopSignal: drains });
  const floor = deriveBudget({ deregistrationDelaySeconds: d, drainTimeoutSeconds: s, safetyMarginSeconds: 0, drainsOnStopSignal: drains });
  const needed = floor.preStopSleepSeconds;
  const recommended = budget.preStopSleepSeconds;
  const waitFix = (): Fix => {
    const set: { [field: string]: unknown } = { [`${field}.lifecycle.preStop`]: waitHandler(container, wait, recommended) };
    if (grace < budget.minimumTerminationGracePeriodSeconds) {
      set['spec.template.spec.terminationGracePeriodSeconds'] = budget.terminationGracePeriodSeconds;
    }
    const graceText2 = set['spec.template.spec.terminationGracePeriodSeconds'] !== undefined
      ? ` and set terminationGracePeriodSeconds to ${budget.terminationGracePeriodSeconds}` : '';
    return { description: `wait ${recommended} s in preStop${graceText2}`, set, budget: numbersOf(budget) };
  };
  const neededText = drains ? `D = ${floor.deregistrationDelaySeconds} s` : `D + S = ${floor.deregistrationDelaySeconds} + ${floor.drainTimeoutSeconds} = ${needed} s (${appText})`;
  if (needed > 0 && wait.kind === 'none') {
    return { rule: 'prestop-wait-missing', message: `container ${cname} has no preStop wait, but the load balancer needs ${neededText} to stop routing to a deleted pod`, fix: waitFix() };
  } else if (needed > 0 && wait.seconds === 0 && wait.runsUnknown) {
    return {
      rule: 'prestop-wait-unrecognised',
      message: `container ${cname} runs ${wait.description} in preStop, with no wait this checker recognises; it must keep the pod serving for ${neededText}`,
      fix: waitFix(),
    };
  } else if (wait.seconds < needed) {
    return { rule: 'prestop-wait-too-short', message: `container ${cname} waits ${wait.seconds} s in preStop (${wait.description}), shorter than ${neededText}`, fix: waitFix() };
  } else if (wait.seconds < recommended) {
    return {
      rule: 'prestop-wait-no-headroom',
      message: `container ${cname} waits ${wait.seconds} s in preStop (${wait.description}): it covers ${neededText}, but leaves less than `
        + `the safety margin M = ${budget.safetyMarginSeconds} s for a load balancer that is late`,
      fix: waitFix(),
    };
  }
  return undefined;
}

/**
 * The grace period against the wait the manifest has, as written: the wait plus S for an app that
 * drains on its stop signal, the wait alone for one that stops at once. A wait too short for D is
 * the preStop rules' finding, and their fix carries the grace period the longer wait needs, so no
 * second error is reported for a grace period that covers the wait as written. The native sleep
 * action against the grace.
 */
function auditGracePeriod(timing: DeploymentTiming, cname: string, wait: PreStopWait, steps: StepDurations, add: Add): void {
  const { deployment, d, s, m, drains, grace, graceText, appText } = timing;
  const writtenD = drains ? wait.seconds : Math.max(0, wait.seconds - s);
  // The fix: the budget for the wait the manifest has, or for D if the preStop fix lengthens the wait.
  const effectiveD = Math.max(d ?? 0, writtenD);
  const effective = deriveBudget({
    deregistrationDelaySeconds: effectiveD, drainTimeoutSeconds: s, safetyMarginSeconds: m, drainsOnStopSignal: drains,
  });
  const effectiveFloor = deriveBudget({
    deregistrationDelaySeconds: effectiveD, drainTimeoutSeconds: s, safetyMarginSeconds: 0, drainsOnStopSignal: drains,
  });
  // The grace the pods get once every finding is fixed (for the progress deadline).
  const fixedMinimum = Math.max(effectiveFloor.minimumTerminationGracePeriodSeconds, wait.seconds);
  steps.widestGrace = Math.max(steps.widestGrace, grace < fixedMinimum ? effective.terminationGracePeriodSeconds : grace);
  const minimum = drains ? wait.seconds + s : wait.seconds;
  if (grace < minimum) {
    const waitText = wait.kind === 'none' ? 'no preStop wait (0 s)' : `the preStop wait (${wait.seconds} s)`;
    const parts = drains
      ? `${waitText} + the drain timeout S (${s} s) = ${minimum} s`
      : `${waitText}, which must also cover the drain (${appText})`;
    const longer = effectiveD > writtenD ? `, which also covers the longer preStop wait that D = ${effectiveD} s needs` : '';
    add('grace-period-too-short', deployment,
      `${graceText}, shorter than ${parts}: SIGKILL can cut requests still in flight`,
      {
        description: `set terminationGracePeriodSeconds to ${effective.terminationGracePeriodSeconds}${longer}`,
        set: { 'spec.template.spec.terminationGracePeriodSeconds': effective.terminationGracePeriodSeconds },
        budget: numbersOf(effective),
      });
  }
  if (wait.kind === 'sleep-action' && wait.seconds > grace) {
    add('sleep-action-exceeds-grace', deployment,
      `container ${cname} sleeps ${wait.seconds} s in its native preStop sleep action, longer than ${graceText}: the API server rejects the pod template`,
      {
        description: `set terminationGracePeriodSeconds to ${effective.terminationGracePeriodSeconds}`,
        set: { 'spec.template.spec.terminationGracePeriodSeconds': effective.terminationGracePeriodSeconds },
        budget: numbersOf(effective),
      });
  }
}

/** Readiness probe, and the load balancer's health check against it. */
function auditReadiness(
  context: AuditContext, timing: DeploymentTiming, container: KubeObject, cname: string, routes: TrafficRoute[], steps: StepDurations,
): void {
  const { deployment } = timing;
  const probe = container.readinessProbe;
  if (!isObject(probe)) {
    auditMissingReadinessProbe(context, deployment, container, cname, routes);
    return;
  }
  const initialDelay = Number(probe.initialDelaySeconds ?? 0);
  const period = Number(probe.periodSeconds ?? 10);
  const successes = Number(probe.successThreshold ?? 1);
  const readiness = [initialDelay, period, successes].every(Number.isFinite) ? initialDelay + period * successes : 0;
  steps.longestStep = Math.max(steps.longestStep, readiness);
  if (isObject(probe.httpGet)) {
    for (const route of routes) {
      auditHealthCheck(route, timing.providers.get(route), container, probe.httpGet, cname, deployment,
        context.backendConfigs, context.tkeServiceConfigs, context.add, context.classTargetTypeOf(route.ingress));
    }
  }
}

/**
 * The annotation that makes the load balancer speak gRPC to a route's pods, if any: AWS
 * `alb.ingress.kubernetes.io/backend-protocol-version: GRPC` on the Service or the Ingress (the
 * annotation reference, docs/guide/ingress/annotations.md, LBC 225f445), Alibaba
 * `alb.ingress.kubernetes.io/backend-protocol: grpc` (alibaba-load-balancer-controller docs/usage.md,
 * c2771084), ingress-nginx `nginx.ingress.kubernetes.io/backend-protocol: GRPC` or `GRPCS`
 * (https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#backend-protocol).
 */
function grpcBackendAnnotation(route: TrafficRoute): string | undefined {
  const keys: Array<[string, RegExp]> = [
    [`${ALB_PREFIX}backend-protocol-version`, /^grpc$/i],
    [`${ALB_PREFIX}backend-protocol`, /^grpc$/i],
    ['nginx.ingress.kubernetes.io/backend-protocol', /^grpcs?$/i],
  ];
  for (const holder of [route.service, route.ingress]) {
    const annotations = annotationsOf(holder.object);
    for (const [key, value] of keys) {
      if (value.test(annotations[key]?.trim() ?? '')) return `${key}: ${annotations[key]}`;
    }
  }
  return undefined;
}

/**
 * A served container without a readiness probe. The probe suggested speaks the backend's protocol
 * (gRPC when the load balancer speaks gRPC to the pods: the kubelet's `grpc` probe, Kubernetes 1.27+,
 * https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/#define-a-grpc-liveness-probe).
 * With a startup probe the pod is not Ready before it can serve; what is missing is being taken out
 * of the load balancer when it stops serving later.
 */
function auditMissingReadinessProbe(
  context: AuditContext, deployment: LoadedObject, container: KubeObject, cname: string, routes: TrafficRoute[],
): void {
  const targetPort = routes[0].target!.port;
  const check = resolveHealthCheck('/', targetPort);
  const grpc = routes.map(grpcBackendAnnotation).find((a) => a !== undefined);
  const timing = {
    periodSeconds: check.intervalSeconds,
    timeoutSeconds: check.timeoutSeconds,
    successThreshold: check.healthyThreshold,
    failureThreshold: check.unhealthyThreshold,
  };
  const message = isObject(container.startupProbe)
    ? `container ${cname} has a startup probe but no readiness probe: it turns Ready once the startup probe passes and stays Ready `
      + 'for the rest of its life, so a pod that stops being able to serve (overloaded, a dependency down) keeps receiving requests'
    : `container ${cname} has no readiness probe: a new pod counts as Ready before it can serve`;
  context.add('readiness-probe-missing', deployment, message,
    {
      description: grpc !== undefined
        ? `add a gRPC readiness probe on port ${targetPort} (the load balancer speaks gRPC to the pods: ${grpc}; the app must serve the gRPC health checking protocol)`
        : `add an HTTP readiness probe on port ${targetPort}`,
      set: {
        [`spec.template.spec.containers[${cname}].readinessProbe`]: grpc !== undefined
          ? { grpc: { port: targetPort }, ...timing }
          : { httpGet: { path: check.path, port: targetPort }, ...timing },
      },
    });
}

/** Progress deadline: one rollout step = startup + readiness + minReadySeconds + grace + the kubelet's 2 s. */
function auditProgressDeadline(timing: DeploymentTiming, steps: StepDurations, add: Add): void {
  const { deployment } = timing;
  const dep = deployment.object;
  const minReady = typeof dep.spec?.minReadySeconds === 'number' ? dep.spec.minReadySeconds : 0;
  const stepBudget = deriveBudget({
    deregistrationDelaySeconds: timing.d ?? 0,
    drainTimeoutSeconds: timing.s,
    safetyMarginSeconds: timing.m,
    drainsOnStopSignal: timing.drains,
    startupDelaySeconds: steps.longestStartup,
    readinessDelaySeconds: steps.longestStep,
    registrationDelaySeconds: minReady,
    terminationGracePeriodSeconds: steps.widestGrace,
  });
  const step = stepBudget.minimumProgressDeadlineSeconds;
  const deadlineDeclared = typeof dep.spec?.progressDeadlineSeconds === 'number';
  const deadline = deadlineDeclared ? dep.spec.progressDeadlineSeconds : 600;
  if (deadline < step) {
    add('progress-deadline-too-short', deployment,
      `progressDeadlineSeconds is ${deadline}${deadlineDeclared ? '' : ' (the Kubernetes default)'}, shorter than one rollout step: `
      + `${stepBudget.startupSeconds > 0 ? `startup probe ${stepBudget.startupSeconds} s + ` : ''}readiness ${stepBudget.readinessDelaySeconds} s + minReadySeconds ${stepBudget.registrationDelaySeconds} s `
      + `+ grace ${stepBudget.terminationGracePeriodSeconds} s + the kubelet's 2 s = ${step} s`,
      {
        description: `set progressDeadlineSeconds to ${stepBudget.progressDeadlineSeconds}`,
        set: { 'spec.progressDeadlineSeconds': stepBudget.progressDeadlineSeconds },
      });
  }
}

function objectLabel(object: KubeObject): string {
  const ref = objectRef(object);
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

type Add = (ruleId: string, target: LoadedObject, message: string, fix: Fix, severity?: Severity) => void;

const TENCENT_PREFIX = 'ingress.cloud.tencent.com/';
const TENCENT_NEEDS_DIRECT = ['enable-grace-shutdown', 'enable-grace-shutdown-tkex', 'enable-grace-deletion'];

function auditIngress(ingress: LoadedObject, add: Add): void {
  const annotations = annotationsOf(ingress.object);
  const specClass = ingress.object.spec?.ingressClassName;
  const annotationClass = annotations['kubernetes.io/ingress.class'];
  if (typeof specClass === 'string' && annotationClass !== undefined) {
    // The API server refuses the pair only when the two differ (ValidateIngressCreate since
    // kubernetes/kubernetes#115447; any pair before it), and controllers disagree on which wins:
    // ingress-gce reads only the annotation (pkg/utils/utils.go IsGCEIngress).
    const differ = annotationClass !== specClass;
    add('ingress-class-conflict', ingress,
      differ
        ? `sets kubernetes.io/ingress.class (${annotationClass}) and spec.ingressClassName (${specClass}), which differ: the API server refuses to create it, `
          + 'and controllers disagree on which of the two wins (GKE reads only the annotation)'
        : `sets both kubernetes.io/ingress.class and spec.ingressClassName to ${specClass}: the API server accepts the pair since kubernetes/kubernetes#115447 `
          + '(older ones refuse it), and a controller that reads only one of them (GKE reads only the annotation) follows it alone if the two drift apart',
      { description: 'keep one of them', set: { 'metadata.annotations["kubernetes.io/ingress.class"]': null } },
      differ ? undefined : 'warning');
  }
  const enabled = TENCENT_NEEDS_DIRECT.filter((key) => annotations[`${TENCENT_PREFIX}${key}`]?.trim().toLowerCase() === 'true');
  if (enabled.length > 0 && annotations[`${TENCENT_PREFIX}direct-access`]?.trim().toLowerCase() !== 'true') {
    add('tencent-grace-shutdown-without-direct-access', ingress,
      `${enabled.map((k) => `${TENCENT_PREFIX}${k}`).join(', ')} ${enabled.length > 1 ? 'have' : 'has'} no effect without `
      + `${TENCENT_PREFIX}direct-access: "true": terminating pods keep their CLB weight`,
      {
        description: `set ${TENCENT_PREFIX}direct-access: "true" (needs VPC-CNI networking or GlobalRouteDirectAccess), or rely on the preStop wait alone`,
        set: { [`metadata.annotations["${TENCENT_PREFIX}direct-access"]`]: 'true' },
      });
  }
}

/** The ELB API's upper bound for `deregistration_delay.timeout_seconds`. */
const AWS_MAX_DEREGISTRATION_DELAY_SECONDS = 3600;
const ALB_PREFIX = 'alb.ingress.kubernetes.io/';
const AWS_GATE_PREFIX = 'target-health.elbv2.k8s.aws/';

/** `k=v,k=v` (AWS target-group-attributes). */
function keyValues(text: string | undefined): { [key: string]: string } {
  const out: { [key: string]: string } = {};
  for (const pair of (text ?? '').split(',')) {
    const [key, ...rest] = pair.split('=');
    if (key.trim() !== '' && rest.length > 0) out[key.trim()] = rest.join('=').trim();
  }
  return out;
}

/**
 * The BackendConfig a Service port uses (`cloud.google.com/backend-config`, else the beta key:
 * `{"ports": {...}, "default": ...}`): the port's name first, then its number, then `default`, as
 * ingress-gce does (pkg/backendconfig/utils.go BackendConfigName, pkg/annotations/service.go
 * getBackendConfigAnnotation; kubernetes/ingress-gce acbcf5d66dd9d31297a2a52a2d7d83d4c1a94539).
 */
function backendConfigName(service: KubeObject, port: { port: number; name?: string }): string | undefined {
  const annotations = annotationsOf(service);
  const raw = annotations['cloud.google.com/backend-config'] ?? annotations['beta.cloud.google.com/backend-config'];
  if (raw === undefined) return undefined;
  try {
    const parsed = JSON.parse(raw);
    if (!isObject(parsed)) return undefined;
    const ports = isObject(parsed.ports) ? parsed.ports : {};
    const named = (port.name !== undefined ? ports[port.name] : undefined) ?? ports[String(port.port)] ?? parsed.default;
    return typeof named === 'string' ? named : undefined;
  } catch {
    return undefined;
  }
}

function auditProviderTiming(
  route: TrafficRoute, provider: ProviderId | undefined, d: number | undefined, s: number, m: number | undefined,
  drains: boolean, podSpec: KubeObject, backendConfigs: NamedLookup, add: Add, policies?: GatewayPolicies, classTargetType?: string,
): void {
  if (policies !== undefined) {
    auditGatewayTiming(route, provider, d, s, m, drains, podSpec, policies, add);
    return;
  }
  const ingressAnnotations = annotationsOf(route.ingress.object);
  const serviceAnnotations = annotationsOf(route.service.object);
  const gates: string[] = (Array.isArray(podSpec.readinessGates) ? podSpec.readinessGates : [])
    .map((g: KubeObject) => g?.conditionType).filter((c: unknown): c is string => typeof c === 'string');
  const serviceType = route.service.object.spec?.type ?? 'ClusterIP';
  const budget = deriveBudget({ deregistrationDelaySeconds: d ?? 0, drainTimeoutSeconds: s, safetyMarginSeconds: m, drainsOnStopSignal: drains });
  // Without the margin: below this, requests certainly drop.
  const floor = deriveBudget({ deregistrationDelaySeconds: d ?? 0, drainTimeoutSeconds: s, safetyMarginSeconds: 0, drainsOnStopSignal: drains });

  if (provider === 'alibaba-alb') {
    if (gates.includes(AlibabaAlb.READINESS_GATE) && serviceType !== 'ClusterIP') {
      add('alb-readiness-gate-without-direct-access', route.service,
        `the pods carry the ALB readiness gate ${AlibabaAlb.READINESS_GATE}, but Service type ${serviceType} makes the ALB target nodes: the gate never opens and rollouts stall`,
        { description: 'use a ClusterIP Service on a Terway cluster (pods as ALB backends), or remove the readiness gate', set: { 'spec.type': 'ClusterIP' } });
    }
    const drainOn = ingressAnnotations[`${ALB_PREFIX}connection-drain-enabled`]?.trim().toLowerCase() === 'true';
    const timeout = annotationSeconds(ingressAnnotations, `${ALB_PREFIX}connection-drain-timeout`) ?? (drainOn ? 300 : undefined);
    if (drainOn && timeout !== undefined && timeout < budget.drainTimeoutSeconds) {
      add('alibaba-connection-drain-too-short', route.ingress,
        `${ALB_PREFIX}connection-drain-timeout is ${timeout} s, shorter than the drain timeout S (${budget.drainTimeoutSeconds} s): the ALB closes connections the app is still serving`,
        {
          description: `set ${ALB_PREFIX}connection-drain-timeout to ${budget.drainTimeoutSeconds}`,
          set: { [`metadata.annotations["${ALB_PREFIX}connection-drain-timeout"]`]: String(budget.drainTimeoutSeconds) },
          budget: numbersOf(budget),
        });
    }
  }

  if (provider === 'aws-alb') {
    const targetType = awsTargetType(route, undefined, classTargetType);
    const awsGate = gates.find((g) => g.startsWith(AWS_GATE_PREFIX));
    if (awsGate !== undefined && targetType !== 'ip') {
      add('alb-readiness-gate-without-direct-access', route.ingress,
        `the pods carry the AWS readiness gate ${awsGate}, but target-type is ${targetType}`
        + `${classTargetType !== undefined ? ' (the spec.targetType of the IngressClassParams of its class, which overrides the annotation)' : ''}`
        + ': the controller only sets it for ip targets, so rollouts stall',
        classTargetType !== undefined
          ? { description: 'set spec.targetType: ip in the IngressClassParams of the Ingress\'s class, or remove the readiness gate' }
          : { description: `set ${ALB_PREFIX}target-type: ip, or remove the readiness gate`, set: { [`metadata.annotations["${ALB_PREFIX}target-type"]`]: 'ip' } });
    }
    if (d !== undefined) {
      const fromService = serviceAnnotations[`${ALB_PREFIX}target-group-attributes`];
      const attributes = keyValues(fromService ?? ingressAnnotations[`${ALB_PREFIX}target-group-attributes`]);
      const raw = attributes['deregistration_delay.timeout_seconds'];
      const delay = raw === undefined ? undefined : Number(raw);
      const needed = floor.minimumTerminationGracePeriodSeconds; // D + S, by the budget without margin
      // What the construct emits: the grace period (the pod's whole life after deletion), within AWS's 3600 s.
      const recommended = Math.min(AWS_MAX_DEREGISTRATION_DELAY_SECONDS, budget.terminationGracePeriodSeconds);
      if (delay !== undefined && Number.isFinite(delay) && delay < needed) {
        const holder = fromService !== undefined ? route.service : route.ingress;
        add('aws-deregistration-delay-too-short', holder,
          `deregistration_delay.timeout_seconds is ${delay}, below D + S = ${floor.deregistrationDelaySeconds} + ${floor.drainTimeoutSeconds} = ${needed} s: the ALB drops a draining target's connections while it still serves`,
          {
            description: `set deregistration_delay.timeout_seconds=${recommended} in ${ALB_PREFIX}target-group-attributes`,
            set: { [`metadata.annotations["${ALB_PREFIX}target-group-attributes"]`]: Object.entries({ ...attributes, 'deregistration_delay.timeout_seconds': String(recommended) }).map(([k, v]) => `${k}=${v}`).join(',') },
            budget: numbersOf(budget),
          });
      }
    }
  }

  if (provider === 'gke-ingress') {
    const name = backendConfigName(route.service.object, route.servicePort);
    if (name !== undefined) {
      const config = backendConfigs(route.service.object, name);
      if (config === undefined) {
        add('broken-reference', route.service, `cloud.google.com/backend-config names BackendConfig ${name}, which is not in the input`,
          { description: 'include the BackendConfig in the input, or fix the name' });
      } else {
        const timeout = config.object.spec?.connectionDraining?.drainingTimeoutSec;
        if (typeof timeout === 'number' && timeout < budget.drainTimeoutSeconds) {
          add('gke-draining-timeout-too-short', config,
            `connectionDraining.drainingTimeoutSec is ${timeout}, shorter than the drain timeout S (${budget.drainTimeoutSeconds} s): the load balancer cuts requests the app is still serving`,
            {
              description: `set spec.connectionDraining.drainingTimeoutSec to ${budget.drainTimeoutSeconds}`,
              set: { 'spec.connectionDraining.drainingTimeoutSec': budget.drainTimeoutSeconds },
              budget: numbersOf(budget),
            });
        }
      }
    }
  }
}

function auditHealthCheck(
  route: TrafficRoute, provider: ProviderId | undefined, container: KubeObject, httpGet: KubeObject, cname: string,
  deployment: LoadedObject, backendConfigs: NamedLookup, tkeServiceConfigs: NamedLookup, add: Add, classTargetType?: string,
): void {
  const probePath = typeof httpGet.path === 'string' ? httpGet.path : '/';
  const probePort = typeof httpGet.port === 'number' ? httpGet.port
    : (Array.isArray(container.ports) ? container.ports : []).find((p: KubeObject) => p?.name === httpGet.port)?.containerPort;
  const ingressAnnotations = annotationsOf(route.ingress.object);
  const serviceAnnotations = annotationsOf(route.service.object);
  const mismatch = (holder: LoadedObject, what: string, lbPath: string, field: string, value: unknown) => {
    add('health-check-mismatch', holder,
      `${what} checks ${lbPath}, but the readiness probe of container ${cname} (${objectLabel(deployment.object)}) checks ${probePath}${probePort !== undefined ? ` on port ${probePort}` : ''}`,
      { description: `make the load balancer check ${probePath}`, set: { [field]: value } });
  };

  if (provider === 'alibaba-alb') {
    if (ingressAnnotations[`${ALB_PREFIX}healthcheck-enabled`]?.trim().toLowerCase() === 'false') return;
    const path = ingressAnnotations[`${ALB_PREFIX}healthcheck-path`];
    if (path !== undefined && path !== probePath) {
      mismatch(route.ingress, `the ALB health check (${ALB_PREFIX}healthcheck-path)`, path, `metadata.annotations["${ALB_PREFIX}healthcheck-path"]`, probePath);
    }
  } else if (provider === 'aws-alb') {
    const path = serviceAnnotations[`${ALB_PREFIX}healthcheck-path`] ?? ingressAnnotations[`${ALB_PREFIX}healthcheck-path`] ?? '/';
    const holder = serviceAnnotations[`${ALB_PREFIX}healthcheck-path`] !== undefined ? route.service : route.ingress;
    if (path !== probePath) {
      mismatch(holder, `the ALB health check (${ALB_PREFIX}healthcheck-path${path === '/' ? ', default /' : ''})`, path, `metadata.annotations["${ALB_PREFIX}healthcheck-path"]`, probePath);
    }
    // Key by key, the Service's annotation before the Ingress's (annotations.md: the Service has priority).
    const port = serviceAnnotations[`${ALB_PREFIX}healthcheck-port`] ?? ingressAnnotations[`${ALB_PREFIX}healthcheck-port`];
    const portHolder = serviceAnnotations[`${ALB_PREFIX}healthcheck-port`] !== undefined ? route.service : route.ingress;
    const targetType = awsTargetType(route, undefined, classTargetType);
    if (port !== undefined && /^\d+$/.test(port) && targetType === 'ip' && probePort !== undefined && Number(port) !== probePort) {
      mismatch(portHolder, `the ALB health check port (${ALB_PREFIX}healthcheck-port ${port})`, `port ${port}`, `metadata.annotations["${ALB_PREFIX}healthcheck-port"]`, 'traffic-port');
    }
  } else if (provider === 'gke-ingress') {
    const name = backendConfigName(route.service.object, route.servicePort);
    const config = name === undefined ? undefined
      : backendConfigs(route.service.object, name);
    const path = config?.object.spec?.healthCheck?.requestPath;
    if (config !== undefined && typeof path === 'string' && path !== probePath) {
      mismatch(config, `BackendConfig ${name} (healthCheck.requestPath)`, path, 'spec.healthCheck.requestPath', probePath);
    }
  } else if (provider === 'tencent-clb') {
    const name = ingressAnnotations[`${TENCENT_PREFIX}tke-service-config`];
    const config = name === undefined ? undefined
      : tkeServiceConfigs(route.ingress.object, name);
    const listeners: KubeObject[] = Array.isArray(config?.object.spec?.loadBalancer?.l7Listeners) ? config!.object.spec.loadBalancer.l7Listeners : [];
    for (const listener of listeners) {
      for (const domain of Array.isArray(listener?.domains) ? listener.domains : []) {
        for (const r of Array.isArray(domain?.rules) ? domain.rules : []) {
          const check = r?.healthCheck;
          if (isObject(check) && check.enable !== false && typeof check.httpCheckPath === 'string' && check.httpCheckPath !== probePath) {
            mismatch(config!, `TkeServiceConfig ${name} (httpCheckPath for ${r.url ?? 'a rule'})`, check.httpCheckPath, 'spec.loadBalancer.l7Listeners[].domains[].rules[].healthCheck.httpCheckPath', probePath);
          }
        }
      }
    }
  }
}

function auditStrategy(deployment: LoadedObject, add: Add): void {
  const spec = deployment.object.spec ?? {};
  const strategy = isObject(spec.strategy) ? spec.strategy : {};
  if (strategy.type === 'Recreate') {
    add('recreate-strategy', deployment, 'strategy.type is Recreate: every old pod stops before a new one starts, and the service has no backend meanwhile',
      { description: 'use a rolling update that keeps capacity', set: { 'spec.strategy': { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } } } });
    return;
  }
  const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
  const rolling = isObject(strategy.rollingUpdate) ? strategy.rollingUpdate : {};
  const declared = rolling.maxUnavailable;
  const unavailable = resolveIntOrPercent(declared ?? '25%', replicas, false);
  if (unavailable !== undefined && unavailable > 0 && replicas > 0) {
    const all = unavailable >= replicas;
    const surge = resolveIntOrPercent(rolling.maxSurge ?? '25%', replicas, true);
    add('max-unavailable-drops-capacity', deployment,
      `rollingUpdate.maxUnavailable ${declared === undefined ? 'is 25% (the default)' : `is ${JSON.stringify(declared)}`}: ${unavailable} of ${replicas} `
      + `replica${replicas === 1 ? '' : 's'} may be down at once during a rollout${all ? ', that is all of them' : ''}`,
      {
        description: 'set maxUnavailable to 0 so a pod is only removed once its replacement is available',
        set: { 'spec.strategy.rollingUpdate.maxUnavailable': 0, ...(surge === 0 ? { 'spec.strategy.rollingUpdate.maxSurge': 1 } : {}) },
      },
      all ? 'error' : undefined);
  }
}

/**
 * The PodDisruptionBudgets that may select a Deployment's pods: indexed by namespace and each
 * matchLabels pair (those selecting by expressions only are always candidates), so thousands of
 * services are matched in linear time.
 */
function indexDisruptionBudgets(objects: readonly LoadedObject[], defaultNamespace: string): (deployment: KubeObject) => LoadedObject[] {
  const byLabel = new Map3<LoadedObject[]>();
  const byExpression = new Map<string, LoadedObject[]>();
  for (const o of objects) {
    if (o.object.kind !== 'PodDisruptionBudget') continue;
    const ns = namespaceOf(o.object, defaultNamespace);
    const matchLabels = o.object.spec?.selector?.matchLabels;
    const first = isObject(matchLabels) ? Object.entries(matchLabels)[0] : undefined;
    if (first !== undefined) {
      push3(byLabel, ns, first[0], String(first[1]), o);
    } else {
      const list = byExpression.get(ns);
      if (list === undefined) byExpression.set(ns, [o]); else list.push(o);
    }
  }
  return (deployment) => {
    const ns = namespaceOf(deployment, defaultNamespace);
    const labels = deployment.spec?.template?.metadata?.labels;
    const candidates = new Set<LoadedObject>(byExpression.get(ns));
    if (isObject(labels)) {
      for (const key of Object.keys(labels)) {
        const list = byLabel.get(ns, key, String(labels[key]));
        if (list !== undefined) for (const o of list) candidates.add(o);
      }
    }
    if (candidates.size === 0) return [];
    return [...candidates].filter((p) => labelSelectorMatches(p.object.spec?.selector, labels));
  };
}

/**
 * The HorizontalPodAutoscalers (`autoscaling/*`) of the input by the Deployment they scale
 * (`spec.scaleTargetRef`, same namespace; the first wins).
 */
function indexAutoscalers(objects: readonly LoadedObject[], defaultNamespace: string): (deployment: KubeObject) => LoadedObject | undefined {
  const byTarget = new Map<string, LoadedObject>();
  for (const o of objects) {
    const ref = o.object.spec?.scaleTargetRef;
    if (o.object.kind !== 'HorizontalPodAutoscaler' || !isObject(ref) || ref.kind !== 'Deployment' || typeof ref.name !== 'string') continue;
    const key = `${namespaceOf(o.object, defaultNamespace)}\u0000${ref.name}`;
    if (!byTarget.has(key)) byTarget.set(key, o);
  }
  return (deployment) => byTarget.get(`${namespaceOf(deployment, defaultNamespace)}\u0000${deployment.metadata?.name}`);
}

/**
 * How many pods a node drain may take at once, in words, when there may be more than one: the
 * autoscaler's range when an HPA scales the Deployment, else `replicas` (1 when absent, the
 * Kubernetes default). Undefined for a single pod.
 */
function podsAtRisk(spec: KubeObject, autoscaler: LoadedObject | undefined): string | undefined {
  if (autoscaler !== undefined) {
    const max = autoscaler.object.spec?.maxReplicas;
    if (typeof max === 'number' && max <= 1) return undefined;
    const min = typeof autoscaler.object.spec?.minReplicas === 'number' ? autoscaler.object.spec.minReplicas : 1;
    return `this Deployment, which HorizontalPodAutoscaler ${autoscaler.object.metadata?.name} scales to ${typeof max === 'number' ? `${min}-${max}` : `at least ${min}`} replicas`;
  }
  const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
  return replicas > 1 ? `these ${replicas} replicas` : undefined;
}

function auditDisruptionBudget(deployment: LoadedObject, pdbs: readonly LoadedObject[], autoscaler: LoadedObject | undefined, add: Add): void {
  const spec = deployment.object.spec ?? {};
  const labels = spec.template?.metadata?.labels;
  const replicas = typeof spec.replicas === 'number' ? spec.replicas : undefined;
  const matching = pdbs;
  if (matching.length === 0) {
    const pods = podsAtRisk(spec, autoscaler);
    if (pods !== undefined) {
      add('pdb-missing', deployment,
        `no PodDisruptionBudget selects the pods of ${pods}: a node drain may evict them all at once`,
        {
          description: 'add a PodDisruptionBudget with maxUnavailable: 1 and the pod selector',
          set: { 'PodDisruptionBudget.spec': { maxUnavailable: 1, selector: { matchLabels: spec.selector?.matchLabels ?? labels } } },
        });
    }
    return;
  }
  for (const pdb of matching) {
    const pspec = pdb.object.spec ?? {};
    let reason: string | undefined;
    if (pspec.maxUnavailable !== undefined && resolveIntOrPercent(pspec.maxUnavailable, replicas ?? 1, true) === 0) {
      reason = `maxUnavailable is ${JSON.stringify(pspec.maxUnavailable)}`;
    } else if (pspec.minAvailable !== undefined) {
      if (typeof pspec.minAvailable === 'string' && pspec.minAvailable.trim() === '100%') {
        reason = 'minAvailable is 100%';
      } else if (replicas !== undefined) {
        const min = resolveIntOrPercent(pspec.minAvailable, replicas, true);
        if (min !== undefined && min >= replicas) reason = `minAvailable is ${JSON.stringify(pspec.minAvailable)} with ${replicas} replica${replicas === 1 ? '' : 's'}`;
      }
    }
    if (reason !== undefined) {
      add('pdb-blocks-drain', pdb, `${reason}: no pod of ${objectLabel(deployment.object)} may ever be evicted, so node drains hang`,
        { description: 'allow one pod at a time: set maxUnavailable: 1 (and remove minAvailable)', set: { 'spec.maxUnavailable': 1, 'spec.minAvailable': null } });
    }
  }
}

/**
 * The timing an HTTPRoute's vendor policies set (AWS: the TargetGroupConfiguration's target type and
 * deregistration delay; GKE: the GCPBackendPolicy's connection draining, which GKE leaves at 0 s).
 */
function auditGatewayTiming(
  route: TrafficRoute, provider: ProviderId | undefined, d: number | undefined, s: number, m: number | undefined,
  drains: boolean, podSpec: KubeObject, policies: GatewayPolicies, add: Add,
): void {
  const budget = deriveBudget({ deregistrationDelaySeconds: d ?? 0, drainTimeoutSeconds: s, safetyMarginSeconds: m, drainsOnStopSignal: drains });
  const floor = deriveBudget({ deregistrationDelaySeconds: d ?? 0, drainTimeoutSeconds: s, safetyMarginSeconds: 0, drainsOnStopSignal: drains });
  const service = route.service.object.metadata?.name;
  if (provider === 'aws-alb') {
    const tgc = policies.targetGroupConfiguration;
    const targetType = awsTargetType(route, policies);
    const gates: string[] = (Array.isArray(podSpec.readinessGates) ? podSpec.readinessGates : []).map((g: KubeObject) => g?.conditionType);
    const awsGate = gates.find((g) => typeof g === 'string' && g.startsWith(AWS_GATE_PREFIX));
    if (awsGate !== undefined && targetType !== 'ip') {
      add('alb-readiness-gate-without-direct-access', tgc ?? route.service,
        `the pods carry the AWS readiness gate ${awsGate}, but the target type of Service ${service}'s target groups is ${targetType}: the controller only sets it for ip targets, so rollouts stall`,
        { description: 'set spec.defaultConfiguration.targetType: ip in the TargetGroupConfiguration, or remove the readiness gate', set: { 'spec.defaultConfiguration.targetType': 'ip' } });
    }
    const attributes: KubeObject[] = Array.isArray(tgc?.object.spec?.defaultConfiguration?.targetGroupAttributes)
      ? tgc!.object.spec.defaultConfiguration.targetGroupAttributes : [];
    const raw = attributes.find((a) => a?.key === 'deregistration_delay.timeout_seconds')?.value;
    const delay = raw === undefined ? undefined : Number(raw);
    const needed = floor.minimumTerminationGracePeriodSeconds;
    if (tgc !== undefined && d !== undefined && delay !== undefined && Number.isFinite(delay) && delay < needed) {
      const recommended = Math.min(AWS_MAX_DEREGISTRATION_DELAY_SECONDS, budget.terminationGracePeriodSeconds);
      add('aws-deregistration-delay-too-short', tgc,
        `deregistration_delay.timeout_seconds is ${delay}, below D + S = ${floor.deregistrationDelaySeconds} + ${floor.drainTimeoutSeconds} = ${needed} s: the ALB drops a draining target's connections while it still serves`,
        {
          description: `set the deregistration_delay.timeout_seconds target group attribute to "${recommended}"`,
          set: { 'spec.defaultConfiguration.targetGroupAttributes[key=deregistration_delay.timeout_seconds].value': String(recommended) },
          budget: numbersOf(budget),
        });
    }
  }
  if (provider === 'gke-ingress') {
    const policy = policies.gcpBackendPolicy;
    const timeout = policy?.object.spec?.default?.connectionDraining?.drainingTimeoutSec;
    if (typeof timeout !== 'number' || timeout === 0) {
      add('gke-gateway-no-connection-draining', policy ?? route.service,
        policy === undefined
          ? `no GCPBackendPolicy targets Service ${service}, so its backend service drains for 0 s (GKE's default): the load balancer cuts requests to a removed pod at once`
          : `GCPBackendPolicy ${policy.object.metadata?.name} sets no connectionDraining.drainingTimeoutSec (GKE's default is 0 s): the load balancer cuts requests to a removed pod at once`,
        {
          description: `set spec.default.connectionDraining.drainingTimeoutSec to ${budget.terminationGracePeriodSeconds} in the Service's GCPBackendPolicy`,
          set: { 'spec.default.connectionDraining.drainingTimeoutSec': budget.terminationGracePeriodSeconds },
          budget: numbersOf(budget),
        });
    } else if (timeout < budget.drainTimeoutSeconds) {
      add('gke-draining-timeout-too-short', policy!,
        `connectionDraining.drainingTimeoutSec is ${timeout}, shorter than the drain timeout S (${budget.drainTimeoutSeconds} s): the load balancer cuts requests the app is still serving`,
        {
          description: `set spec.default.connectionDraining.drainingTimeoutSec to ${budget.drainTimeoutSeconds}`,
          set: { 'spec.default.connectionDraining.drainingTimeoutSec': budget.drainTimeoutSeconds },
          budget: numbersOf(budget),
        });
    }
  }
}
