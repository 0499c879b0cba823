import { AwsAlbScheme, AwsAlbTargetType } from './aws-alb';
import { PreStopAction } from './prestop';
import { StopSignal } from './stop-signal';
import { TencentIngressClassMode } from './tencent-clb';

// Runtime type checks of the props, for callers the TypeScript compiler does not check: plain
// JavaScript, values read from a config file, other jsii languages. `drainTimeout: 30` would
// otherwise fail deep inside as "duration.toMilliseconds is not a function", and `port: '8080'`
// as "port must be an integer from 1 to 65535, got 8080", which reads as if 8080 were invalid.
//
// One table per props interface, one row per prop. test/prop-types.test.ts reads the interfaces
// with the TypeScript compiler and fails when a prop has no row, a row has no prop, or a row's
// declared type differs from the prop's, so a new prop cannot be added without its check.

/** How a prop's value is checked. */
export interface PropType {
  /** The prop's type as written in the interface (compared with it by the test). */
  readonly ts: string;
  /** What the value must be, for the message: "a Duration (e.g. Duration.seconds(30))". */
  readonly expected: string;
  /**
   * The problems with a value that is not undefined, as `[path suffix, message]` pairs (empty
   * when it fits): `['', 'must be a number']` for the value itself, `['[1]', ...]` for an element.
   */
  readonly check: (value: unknown, at: string) => string[];
}

/** One row: the prop's type, and whether it is required. */
export interface PropRow {
  readonly type: PropType;
  readonly required: boolean;
}

/** A props interface's rows, by prop name. */
export type PropTable = { readonly [prop: string]: PropRow };

/** A value as the user gave it: its type and, for scalars, the value (strings quoted). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array ${truncate(safeJson(value))}`;
  switch (typeof value) {
    case 'string': return `string '${truncate(value)}'`;
    case 'number':
    case 'boolean':
    case 'bigint': return `${typeof value} ${String(value)}`;
    case 'undefined': return 'undefined';
    case 'function': return 'a function';
    case 'symbol': return `symbol ${String(value)}`;
    default: {
      const name = (value as object).constructor?.name;
      return name && name !== 'Object' ? `a ${name}` : `object ${truncate(safeJson(value))}`;
    }
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function truncate(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

function simple(ts: string, expected: string, fits: (v: unknown) => boolean): PropType {
  return { ts, expected, check: (v, at) => (fits(v) ? [] : [`${at} must be ${expected}, got ${describeValue(v)}`]) };
}

const isObject = (v: unknown): v is { [key: string]: unknown } => typeof v === 'object' && v !== null && !Array.isArray(v);

export const STRING = simple('string', 'a string', (v) => typeof v === 'string');
export const NUMBER = simple('number', 'a number', (v) => typeof v === 'number');
export const BOOLEAN = simple('boolean', 'a boolean (true or false)', (v) => typeof v === 'boolean');
/** cdk8s's Duration; checked by shape, so a second copy of cdk8s in node_modules still passes. */
export const DURATION = simple('Duration', 'a Duration (e.g. Duration.seconds(30))',
  (v) => isObject(v) && typeof v.toMilliseconds === 'function' && typeof v.toSeconds === 'function');

/** An instance of a class, recognized by its methods (a second copy of its package still passes). */
export function classType(ts: string, expected: string, methods: string[]): PropType {
  return simple(ts, expected, (v) => isObject(v) && methods.every((m) => typeof v[m] === 'function'));
}

/** A string enum; `values` is read when checking (the enums live in modules that import this one). */
export function enumType(name: string, values: () => object): PropType {
  const members = () => Object.keys(values()).map((k) => `${name}.${k}`).join(', ');
  return {
    ts: name,
    get expected() {
      return `one of ${members()}`;
    },
    check: (v, at) => (Object.values(values()).includes(v) ? [] : [`${at} must be one of ${members()}, got ${describeValue(v)}`]),
  };
}

/** An array whose every element has one type. */
export function arrayOf(element: PropType): PropType {
  const expected = `an array of ${element.ts === 'string' ? 'strings' : element.ts}`;
  return {
    ts: `${element.ts}[]`,
    expected,
    check: (v, at) => (Array.isArray(v)
      ? v.flatMap((e, i) => element.check(e, `${at}[${i}]`))
      : [`${at} must be ${expected}, got ${describeValue(v)}`]),
  };
}

/** An object of string keys to values of one type. */
export function mapOf(key: string, value: PropType): PropType {
  const expected = `an object of ${value.ts === 'string' ? 'strings' : value.ts} by ${key}`;
  return {
    ts: `{ [${key}: string]: ${value.ts} }`,
    expected,
    check: (v, at) => (isObject(v)
      ? Object.entries(v).flatMap(([k, e]) => value.check(e, `${at}["${k}"]`))
      : [`${at} must be ${expected}, got ${describeValue(v)}`]),
  };
}

/** A struct of this library, checked prop by prop. `table` is read when checking. */
export function structType(ts: string, table: () => PropTable): PropType {
  return {
    ts,
    expected: `an object (${ts})`,
    check: (v, at) => (isObject(v) ? checkTable(table(), v, at) : [`${at} must be an object (${ts}), got ${describeValue(v)}`]),
  };
}

/** A struct of another library (cdk8s-plus): only its being an object is checked here. */
export function foreignStruct(ts: string): PropType {
  return simple(ts, `an object (${ts})`, isObject);
}

const required = (type: PropType): PropRow => ({ type, required: true });
const optional = (type: PropType): PropRow => ({ type, required: false });

function checkTable(table: PropTable, props: { [key: string]: unknown }, at: string): string[] {
  const dot = at === '' ? '' : `${at}.`;
  const problems: string[] = [];
  for (const [prop, row] of Object.entries(table)) {
    const value = props[prop];
    if (value === undefined) {
      if (row.required) problems.push(`${dot}${prop} is required: ${row.type.expected}`);
      continue;
    }
    problems.push(...row.type.check(value, `${dot}${prop}`));
  }
  for (const prop of Object.keys(props)) {
    if (!(prop in table) && props[prop] !== undefined) {
      const close = Object.keys(table).find((known) => known.toLowerCase() === prop.toLowerCase() || editDistance(known, prop) <= 2);
      problems.push(`${dot}${prop} is not a prop${close ? ` (did you mean ${dot}${close}?)` : ''}`);
    }
  }
  return problems;
}

/** Levenshtein distance, for "did you mean". */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}

/**
 * Throws when a value does not have the types its props interface declares. `at` is the prefix
 * of every prop in the message (`loadBalancer` gives `loadBalancer.slowStartDuration must be ...`).
 * Lists every problem, one per line after the first.
 */
export function checkPropTypes(interfaceName: keyof typeof PROP_TABLES, props: unknown, at = ''): void {
  const problems = isObject(props)
    ? checkTable(PROP_TABLES[interfaceName], props, at)
    : [`${at === '' ? 'the props' : at} must be an object (${interfaceName}), got ${describeValue(props)}`];
  if (problems.length > 0) {
    throw new Error(problems.join('; '));
  }
}

const SHUTDOWN_BUDGET_PROPS: PropTable = {
  deregistrationDelay: optional(DURATION),
  drainTimeout: optional(DURATION),
  safetyMargin: optional(DURATION),
  drainsOnStopSignal: optional(BOOLEAN),
  stopSignal: optional(simple('StopSignal', 'a StopSignal (e.g. StopSignal.SIGQUIT)', (v) => v instanceof StopSignal)),
};

const HEALTH_CHECK_OPTIONS: PropTable = {
  interval: optional(DURATION),
  timeout: optional(DURATION),
  healthyThreshold: optional(NUMBER),
  unhealthyThreshold: optional(NUMBER),
};

const STRING_MAP = mapOf('key', STRING);
/** Free-form vendor settings (checked by the provider that takes them). */
const ANY = simple('any', 'any value', () => true);

const GATEWAY_OPTIONS: PropTable = {
  name: required(STRING),
  namespace: optional(STRING),
  sectionName: optional(STRING),
  create: optional(BOOLEAN),
  gatewayClassName: optional(STRING),
  listenerPort: optional(NUMBER),
};

const GRACEFUL_WEB_SERVICE_PROPS: PropTable = {
  image: required(STRING),
  name: optional(STRING),
  loadBalancer: required(classType('ILoadBalancer', 'a load balancer (e.g. LoadBalancer.alibabaAlb())', ['launch', 'bind'])),
  port: optional(NUMBER),
  replicas: optional(NUMBER),
  host: optional(STRING),
  path: optional(STRING),
  gateway: optional(structType('GatewayOptions', () => GATEWAY_OPTIONS)),
  healthCheckPath: optional(STRING),
  healthCheck: optional(structType('HealthCheckOptions', () => HEALTH_CHECK_OPTIONS)),
  startupTimeout: optional(DURATION),
  startupProbe: optional(BOOLEAN),
  shutdown: optional(structType('ShutdownBudgetProps', () => SHUTDOWN_BUDGET_PROPS)),
  setLifecycleStopSignal: optional(BOOLEAN),
  terminationGracePeriod: optional(DURATION),
  preStopAction: optional(enumType('PreStopAction', () => PreStopAction)),
  preStopCommand: optional(arrayOf(STRING)),
  preStopCommandDuration: optional(DURATION),
  progressDeadline: optional(DURATION),
  podDisruptionBudget: optional(BOOLEAN),
  envVariables: optional(mapOf('name', classType('kplus.EnvValue', 'a kplus.EnvValue (e.g. EnvValue.fromValue(\'x\'))', []))),
  resources: optional(foreignStruct('kplus.ContainerResources')),
  command: optional(arrayOf(STRING)),
  args: optional(arrayOf(STRING)),
  runAsRoot: optional(BOOLEAN),
  readOnlyRootFilesystem: optional(BOOLEAN),
  containerSecurityContext: optional(foreignStruct('kplus.ContainerSecurityContextProps')),
  podSecurityContext: optional(foreignStruct('kplus.PodSecurityContextProps')),
  writablePaths: optional(arrayOf(STRING)),
  labels: optional(STRING_MAP),
  podAnnotations: optional(STRING_MAP),
  ingressAnnotations: optional(STRING_MAP),
  serviceAnnotations: optional(STRING_MAP),
  maxSurge: optional(classType('kplus.PercentOrAbsolute', 'a kplus.PercentOrAbsolute (e.g. PercentOrAbsolute.absolute(1))', ['isZero'])),
};

const ALIBABA_ALB_PROPS: PropTable = {
  ingressClassName: optional(STRING),
  directAccess: optional(BOOLEAN),
  readinessGate: optional(BOOLEAN),
  healthCheckAnnotations: optional(BOOLEAN),
  connectionDrain: optional(BOOLEAN),
  connectionDrainTimeout: optional(DURATION),
  slowStart: optional(BOOLEAN),
  slowStartDuration: optional(DURATION),
};

const TENCENT_CLB_PROPS: PropTable = {
  ingressClassName: optional(STRING),
  ingressClassMode: optional(enumType('TencentIngressClassMode', () => TencentIngressClassMode)),
  directAccess: optional(BOOLEAN),
  graceShutdown: optional(BOOLEAN),
  graceShutdownOnUnhealthy: optional(BOOLEAN),
  graceDeletion: optional(BOOLEAN),
  tkeServiceConfig: optional(BOOLEAN),
  existingLoadBalancerId: optional(STRING),
  subnetId: optional(STRING),
};

const AWS_ALB_PROPS: PropTable = {
  ingressClassName: optional(STRING),
  targetType: optional(enumType('AwsAlbTargetType', () => AwsAlbTargetType)),
  scheme: optional(enumType('AwsAlbScheme', () => AwsAlbScheme)),
  readinessGateNamespaceLabelled: optional(BOOLEAN),
  readinessGateNamespace: optional(classType('ApiObject', 'an ApiObject (a Namespace)', ['toJson'])),
  healthCheckAnnotations: optional(BOOLEAN),
  targetGroupDeregistrationDelay: optional(DURATION),
  slowStartDuration: optional(DURATION),
  targetGroupAttributes: optional(STRING_MAP),
};

const GKE_INGRESS_PROPS: PropTable = {
  ingressClassName: optional(STRING),
  backendConfigHealthCheck: optional(BOOLEAN),
  connectionDrainingTimeout: optional(DURATION),
  backendPolicyDefaults: optional(mapOf('key', ANY)),
};

const LAG_METER_PROPS: PropTable = {
  loadBalancer: required(classType('ILoadBalancer', 'a load balancer (e.g. LoadBalancer.awsAlb())', ['launch', 'bind'])),
  name: optional(STRING),
  host: optional(STRING),
  path: optional(STRING),
  wait: optional(DURATION),
  replicas: optional(NUMBER),
  image: optional(STRING),
  port: optional(NUMBER),
  healthCheckPath: optional(STRING),
  healthCheck: optional(structType('HealthCheckOptions', () => HEALTH_CHECK_OPTIONS)),
  shutdown: optional(structType('ShutdownBudgetProps', () => SHUTDOWN_BUDGET_PROPS)),
  ingressAnnotations: optional(STRING_MAP),
  serviceAnnotations: optional(STRING_MAP),
};

/**
 * Every props interface a user fills in, by its name in src/index.ts. test/prop-types.test.ts
 * holds the list of exported interfaces that are not user input (what providers return).
 */
export const PROP_TABLES = {
  GracefulWebServiceProps: GRACEFUL_WEB_SERVICE_PROPS,
  ShutdownBudgetProps: SHUTDOWN_BUDGET_PROPS,
  HealthCheckOptions: HEALTH_CHECK_OPTIONS,
  AlibabaAlbProps: ALIBABA_ALB_PROPS,
  TencentClbProps: TENCENT_CLB_PROPS,
  AwsAlbProps: AWS_ALB_PROPS,
  GkeIngressProps: GKE_INGRESS_PROPS,
  GatewayOptions: GATEWAY_OPTIONS,
  LagMeterProps: LAG_METER_PROPS,
} as const;
