/**
 * Reading manifests written by anyone (cdk8s, Helm, Kustomize, plain YAML) into Kubernetes objects,
 * and following the path traffic takes: Ingress → Service (backend name and port) → Deployment
 * (Service selector matches the pod labels; targetPort is a container port, by number or name).
 *
 * Shared by `rehearse` (which Deployment, which Ingress, which provider) and `check` (every
 * Deployment that serves traffic through an Ingress). It only reads; nothing here runs anything.
 */
import { CORE_SCHEMA, load as loadYamlValue } from 'js-yaml';
import { isMap, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import { Map2, Map3, push3 } from './nested-map';

/** Where an object starts in its input. Lines and columns count from 1. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** A Kubernetes object as parsed from YAML, loosely typed: the input is untrusted. */
export type KubeObject = { [key: string]: any };

/** An object and where it came from. */
export interface LoadedObject {
  readonly object: KubeObject;
  readonly source: SourceLocation;
}

/** One input to `loadManifests`: a file name (or "-" / "<stdin>") and its text. */
export interface ManifestInput {
  readonly file: string;
  readonly text: string;
}

/** Unusable input: invalid YAML, with the place it was found. */
export class ManifestSyntaxError extends Error {
  public readonly location: SourceLocation;

  constructor(location: SourceLocation, reason: string) {
    super(`${location.file}:${location.line}:${location.column}: ${reason}`);
    this.name = 'ManifestSyntaxError';
    this.location = location;
  }
}

function isObject(value: unknown): value is KubeObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses multi-document YAML into objects. `kind: List` (and `kind: <Something>List`) documents are
 * flattened into their items. Documents that are not mappings (empty documents, comments only,
 * scalars) are skipped. Invalid YAML throws `ManifestSyntaxError` naming file, line and column.
 */
export function loadManifests(inputs: readonly ManifestInput[]): LoadedObject[] {
  const loaded: LoadedObject[] = [];
  for (const input of inputs) {
    // One by one: spreading an input-sized array into push() overflows the stack (issue 16 class 6).
    for (const o of loadPlainDocuments(input) ?? loadWithPositions(input)) loaded.push(o);
  }
  return loaded;
}

/** What `readManifests` read: the objects of every document that parsed, and the errors of those that did not. */
export interface ReadManifests {
  readonly objects: LoadedObject[];
  readonly errors: ManifestSyntaxError[];
}

/**
 * Like `loadManifests`, but an invalid document does not stop the reading: its error (file, line,
 * column) is collected and every other document, of this file and the others, is read.
 */
export function readManifests(inputs: readonly ManifestInput[]): ReadManifests {
  const objects: LoadedObject[] = [];
  const errors: ManifestSyntaxError[] = [];
  for (const input of inputs) {
    for (const o of loadPlainDocuments(input) ?? loadWithPositions(input, errors)) objects.push(o);
  }
  return { objects, errors };
}

/** Document separator lines: `---` or `...` at column 0, alone or followed by a comment. */
const SEPARATORS = /^(?:---|\.\.\.)[ \t]*(?:#.*)?\r?$/gm;
/** A directive (`%YAML`), or a separator with content after it on the same line (`--- |`, `--- {a: 1}`): the fast path steps aside. */
const UNUSUAL_LINE = /^(?:%|(?:---|\.\.\.)[ \t]+[^#\s])/m;
/** An alias (`*name`) outside quotes; aliases go through the parser that bounds their expansion. */
const ALIAS = /(?:^|[\s[{,])\*[^\s,\]}]/m;
/** The first content line of a document: its indentation (whitespace other than a line break), then not a comment. */
const CONTENT_LINE = /^([^\S\n]*)[^\s#]/m;

/**
 * The fast path for the common case (the output of cdk8s, Helm and Kustomize): documents split at
 * their separator lines (YAML forbids such lines inside any document, so the split is exact), each
 * parsed by js-yaml with the YAML 1.2 core schema, and located at its first content line. Several
 * times faster than the full parser, which keeps a syntax tree for positions. Returns undefined, and
 * the full parser reads the input, whenever anything is unusual: a directive, content on a separator
 * line, an alias, a `List` whose entries cannot be located by their indentation, or any error (the
 * full parser gives its exact line and column). Works on offsets into the text (no copy of its lines), in time
 * linear in its length.
 *
 * @internal exported for tests
 */
export function loadPlainDocuments(input: ManifestInput): LoadedObject[] | undefined {
  const text = input.text;
  if (UNUSUAL_LINE.test(text)) return undefined;
  const loaded: LoadedObject[] = [];
  // Lines are counted once, as the documents move forward through the text.
  let counted = 0;
  let line = 1;
  const lineAt = (offset: number): number => {
    for (let i = text.indexOf('\n', counted); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
    counted = Math.max(counted, offset);
    return line;
  };
  const separators = new RegExp(SEPARATORS.source, 'gm');
  let start = 0;
  for (;;) {
    const separator = separators.exec(text);
    const end = separator === null ? text.length : separator.index;
    const chunk = text.slice(start, end);
    const content = CONTENT_LINE.exec(chunk);
    if (content !== null) {
      if (chunk.includes('*') && ALIAS.test(chunk)) return undefined;
      let value: unknown;
      try {
        value = loadYamlValue(chunk, { schema: CORE_SCHEMA, json: false });
      } catch {
        return undefined;
      }
      if (isObject(value) && typeof value.kind === 'string' && /List$/.test(value.kind) && Array.isArray(value.items)) {
        // A List (kubectl get -o yaml): each item where its entry of `items` starts, else the full parser.
        const offsets = listItemOffsets(chunk, content[1].length, value.items.length);
        if (offsets === undefined) return undefined;
        value.items.forEach((item: unknown, index: number) => {
          if (!isObject(item)) return;
          const at = start + offsets[index];
          loaded.push({ object: item, source: { file: input.file, line: lineAt(at), column: at - text.lastIndexOf('\n', at - 1) } });
        });
      } else if (isObject(value)) {
        loaded.push({ object: value, source: { file: input.file, line: lineAt(start + content.index), column: content[1].length + 1 } });
      }
    }
    if (separator === null) break;
    // The next document starts on the line after the separator.
    const next = text.indexOf('\n', end);
    if (next === -1) break;
    start = next + 1;
    separators.lastIndex = start;
  }
  return loaded;
}

/** A line with nothing in it but white space and perhaps a comment. */
const EMPTY_LINE = /^[ \t]*(?:#.*)?\r?$/;

/**
 * Where each entry of a List's block sequence `items` starts in the document's text (where its
 * node starts: after the `- `, or on the next content line), found by indentation: the `items:`
 * key at the document's own indentation, then the `-` lines at the sequence's indentation (YAML
 * puts nothing else there: deeper content, block scalars included, is indented further). Undefined
 * unless exactly `count` entries are found (a flow sequence, anything unusual): the full parser
 * then reads the document. Linear in the document's length.
 */
function listItemOffsets(doc: string, indent: number, count: number): number[] | undefined {
  const keys = [...doc.matchAll(/^( *)items:[ \t]*(?:#.*)?\r?$/gm)].filter((m) => m[1].length === indent);
  if (keys.length !== 1) return undefined;
  const offsets: number[] = [];
  let seqIndent = -1;
  let pendingItem = false;
  for (let lineStart = doc.indexOf('\n', keys[0].index!) + 1; lineStart > 0 && lineStart < doc.length;) {
    const newline = doc.indexOf('\n', lineStart);
    const lineEnd = newline === -1 ? doc.length : newline;
    const line = doc.slice(lineStart, lineEnd);
    const here = lineStart;
    lineStart = newline + 1;
    if (EMPTY_LINE.test(line)) continue;
    const lead = line.length - line.trimStart().length;
    if (pendingItem) {
      // "-" alone on its line: the entry's node starts on the next content line.
      if (lead <= seqIndent) return undefined;
      offsets.push(here + lead);
      pendingItem = false;
      continue;
    }
    const dash = line[lead] === '-' && (lead + 1 === line.length || /[ \t\r]/.test(line[lead + 1]));
    if (seqIndent === -1) {
      if (!dash || lead < indent) return undefined;
      seqIndent = lead;
    }
    if (lead < seqIndent || (lead === seqIndent && !dash)) break;
    if (lead > seqIndent) continue;
    const after = line.slice(lead + 1);
    const rest = after.trimStart();
    if (rest === '' || rest.startsWith('#')) pendingItem = true;
    else offsets.push(here + lead + 1 + (after.length - rest.length));
  }
  return offsets.length === count && !pendingItem ? offsets : undefined;
}

/** A stack exhausted by deeply nested input (thrown, or reported by the parser), said as what it is. */
function tooDeep(error: unknown): string | undefined {
  const exhausted = error instanceof RangeError || (error instanceof Error && /Maximum call stack size exceeded/.test(error.message));
  return exhausted ? 'nested too deeply to read (the parser ran out of stack)' : undefined;
}

/**
 * The full parser: exact positions for `List` items and errors, bounded alias expansion. Without
 * `errors`, the first invalid document throws; with it, its error is collected and the others read.
 */
function loadWithPositions(input: ManifestInput, errors?: ManifestSyntaxError[]): LoadedObject[] {
  const loaded: LoadedObject[] = [];
  const fail = (error: ManifestSyntaxError): void => {
    if (errors === undefined) throw error;
    errors.push(error);
  };
  const lineCounter = new LineCounter();
  let docs;
  try {
    docs = parseAllDocuments(input.text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    const reason = tooDeep(error);
    if (reason === undefined) throw error;
    fail(new ManifestSyntaxError({ file: input.file, line: 1, column: 1 }, reason));
    return loaded;
  }
  // An input with no documents at all comes back as an EmptyStream (no objects, no errors).
  const list = Array.isArray(docs) ? docs : [];
  const where = (offset: number): SourceLocation => {
    const pos = lineCounter.linePos(offset);
    return { file: input.file, line: pos.line, column: pos.col };
  };
  for (const doc of list) {
    if (doc.errors.length > 0) {
      const first = doc.errors[0];
      // yaml's message repeats the position ("... at line 4, column 19:"); ours leads with it.
      fail(new ManifestSyntaxError(where(first.pos[0]), tooDeep(first) ?? first.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')));
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      fail(new ManifestSyntaxError(where(doc.range[0]), tooDeep(error) ?? (error as Error).message));
      continue;
    }
    if (!isObject(value)) continue;
    const start = doc.contents?.range?.[0] ?? doc.range[0];
    if (typeof value.kind === 'string' && /List$/.test(value.kind) && Array.isArray(value.items)) {
      const itemsNode = isMap(doc.contents) ? doc.contents.get('items', true) : undefined;
      value.items.forEach((item: unknown, index: number) => {
        if (!isObject(item)) return;
        const node = isSeq(itemsNode) ? itemsNode.items[index] : undefined;
        const offset = (node as { range?: [number, number, number] } | undefined)?.range?.[0] ?? start;
        loaded.push({ object: item, source: where(offset) });
      });
      continue;
    }
    loaded.push({ object: value, source: where(start) });
  }
  return loaded;
}

/** @internal For tests: the full parser alone, to compare the fast path against. */
export function loadManifestsWithPositions(inputs: readonly ManifestInput[]): LoadedObject[] {
  return inputs.flatMap((input) => loadWithPositions(input));
}

/** `Kind namespace/name` for messages. */
export function describeObject(object: KubeObject): string {
  const namespace = object.metadata?.namespace;
  return `${object.kind ?? 'object'} ${namespace ? `${namespace}/` : ''}${object.metadata?.name ?? '(unnamed)'}`;
}

/**
 * An object's namespace; one without lands in `defaultNamespace` (where `kubectl apply` puts it:
 * `-n`, else `default`), so `namespace: default` and no namespace are the same.
 */
export function namespaceOf(object: KubeObject, defaultNamespace: string = 'default'): string {
  const ns = object.metadata?.namespace;
  return typeof ns === 'string' && ns !== '' ? ns : defaultNamespace;
}

function isKind(object: KubeObject, kind: string): boolean {
  return object.kind === kind && typeof object.metadata?.name === 'string';
}

/** String maps already made, by the annotations object they were made of (check reads each many times). */
const ANNOTATIONS = new WeakMap<object, { readonly [key: string]: string }>();
const NO_ANNOTATIONS: { readonly [key: string]: string } = Object.freeze({});

/**
 * The annotations of an object as a string map (non-string values are ignored), read only. The
 * object's own map when every value is a string (the usual case: no copy), else a frozen copy of
 * the string values, made once per map.
 */
export function annotationsOf(object: KubeObject): { readonly [key: string]: string } {
  const raw = object.metadata?.annotations;
  if (!isObject(raw)) return NO_ANNOTATIONS;
  let allStrings = true;
  for (const key in raw) {
    if (typeof raw[key] !== 'string') {
      allStrings = false;
      break;
    }
  }
  if (allStrings) return raw;
  let out = ANNOTATIONS.get(raw);
  if (out === undefined) {
    const map: { [key: string]: string } = {};
    for (const [key, value] of Object.entries(raw)) {
      if (typeof value === 'string') map[key] = value;
    }
    ANNOTATIONS.set(raw, out = Object.freeze(map));
  }
  return out;
}

/** One Ingress backend: which Service, which port (number or name). */
export interface IngressBackendRef {
  readonly serviceName: string;
  readonly port: number | string | undefined;
}

/** Every Service backend an Ingress names (rules and default backend; v1 and v1beta1 shapes). */
export function ingressBackends(ingress: KubeObject): IngressBackendRef[] {
  const refs: IngressBackendRef[] = [];
  const add = (backend: unknown) => {
    if (!isObject(backend)) return;
    if (isObject(backend.service) && typeof backend.service.name === 'string') {
      const port = isObject(backend.service.port) ? backend.service.port.number ?? backend.service.port.name : undefined;
      refs.push({ serviceName: backend.service.name, port });
    } else if (typeof backend.serviceName === 'string') {
      refs.push({ serviceName: backend.serviceName, port: backend.servicePort });
    }
  };
  const spec = isObject(ingress.spec) ? ingress.spec : {};
  add(spec.defaultBackend ?? spec.backend);
  for (const rule of Array.isArray(spec.rules) ? spec.rules : []) {
    for (const p of Array.isArray(rule?.http?.paths) ? rule.http.paths : []) add(p?.backend);
  }
  const seen = new Set<string>();
  return refs.filter((ref) => {
    const key = `${ref.serviceName}\u0000${String(ref.port)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Every Service backend an HTTPRoute (`gateway.networking.k8s.io`) names in its rules: core
 * Services only (`group` empty, `kind` Service or unset), in the route's namespace.
 */
export function httpRouteBackends(route: KubeObject): IngressBackendRef[] {
  const rules = Array.isArray(route.spec?.rules) ? route.spec.rules : [];
  const refs: IngressBackendRef[] = [];
  for (const ref of rules.flatMap((r: KubeObject) => (Array.isArray(r?.backendRefs) ? r.backendRefs : []))) {
    if (!isObject(ref) || typeof ref.name !== 'string' || (ref.group ?? '') !== '' || (ref.kind ?? 'Service') !== 'Service') continue;
    if (ref.namespace !== undefined && ref.namespace !== namespaceOf(route)) continue;
    if (!refs.some((r) => r.serviceName === ref.name && r.port === ref.port)) refs.push({ serviceName: ref.name, port: ref.port });
  }
  return refs;
}

/** The vendor policies (Gateway API) that target one Service, by kind. */
export interface GatewayPolicies {
  /** AWS Load Balancer Controller: `gateway.k8s.aws` TargetGroupConfiguration (`spec.targetReference`). */
  readonly targetGroupConfiguration?: LoadedObject;
  /** GKE: `networking.gke.io` GCPBackendPolicy (`spec.targetRef`). */
  readonly gcpBackendPolicy?: LoadedObject;
  /** GKE: `networking.gke.io` HealthCheckPolicy (`spec.targetRef`). */
  readonly healthCheckPolicy?: LoadedObject;
}

/**
 * Finds, for a Service, the Gateway API vendor policies of the input that target it (same
 * namespace; an object without one is in `defaultNamespace`, as `check --namespace` says).
 */
export function indexGatewayPolicies(objects: readonly LoadedObject[], defaultNamespace: string = 'default'): (service: KubeObject) => GatewayPolicies {
  const byTarget = new Map<string, { [kind: string]: LoadedObject }>();
  for (const o of objects) {
    const kind = o.object.kind;
    if (!['TargetGroupConfiguration', 'GCPBackendPolicy', 'HealthCheckPolicy'].includes(kind)) continue;
    const ref = o.object.spec?.targetRef ?? o.object.spec?.targetReference;
    if (!isObject(ref) || typeof ref.name !== 'string' || (ref.kind ?? 'Service') !== 'Service') continue;
    const key = `${namespaceOf(o.object, defaultNamespace)}\u0000${ref.name}`;
    const entry = byTarget.get(key) ?? {};
    entry[kind] ??= o;
    byTarget.set(key, entry);
  }
  return (service) => {
    const entry = byTarget.get(`${namespaceOf(service, defaultNamespace)}\u0000${service.metadata?.name}`) ?? {};
    return {
      targetGroupConfiguration: entry.TargetGroupConfiguration,
      gcpBackendPolicy: entry.GCPBackendPolicy,
      healthCheckPolicy: entry.HealthCheckPolicy,
    };
  };
}

/**
 * The provider behind an HTTPRoute: the vendor policies on its Service (TargetGroupConfiguration:
 * AWS; GCPBackendPolicy or HealthCheckPolicy: GKE), else the class of its Gateway when the input
 * holds the Gateway (`gke-l7-*`: GKE). Objects without a namespace are in `defaultNamespace`.
 */
export function detectGatewayProvider(
  route: KubeObject, policies: GatewayPolicies, objects: readonly LoadedObject[] = [], defaultNamespace: string = 'default',
): ProviderDetection {
  if (policies.targetGroupConfiguration !== undefined && policies.gcpBackendPolicy === undefined && policies.healthCheckPolicy === undefined) {
    return { provider: 'aws-alb', candidates: ['aws-alb'], reason: `its Service has the TargetGroupConfiguration ${policies.targetGroupConfiguration.object.metadata?.name}` };
  }
  const gke = policies.gcpBackendPolicy ?? policies.healthCheckPolicy;
  if (gke !== undefined && policies.targetGroupConfiguration === undefined) {
    return { provider: 'gke-ingress', candidates: ['gke-ingress'], reason: `its Service has the ${gke.object.kind} ${gke.object.metadata?.name}` };
  }
  const parents: KubeObject[] = Array.isArray(route.spec?.parentRefs) ? route.spec.parentRefs.filter(isObject) : [];
  for (const parent of parents) {
    const gateway = objects.find((o) => isKind(o.object, 'Gateway') && o.object.metadata?.name === parent.name
      && namespaceOf(o.object, defaultNamespace) === (parent.namespace ?? namespaceOf(route, defaultNamespace)));
    const className = gateway?.object.spec?.gatewayClassName;
    if (typeof className === 'string' && className.startsWith('gke-l7-')) {
      return { provider: 'gke-ingress', candidates: ['gke-ingress'], reason: `its Gateway ${parent.name} has the class ${className}` };
    }
  }
  return {
    candidates: gke !== undefined ? ['aws-alb', 'gke-ingress'] : [],
    reason: gke !== undefined
      ? 'its Service has both AWS and GKE Gateway policies'
      : 'an HTTPRoute\'s load balancer is told by the vendor policies on its Service (TargetGroupConfiguration, GCPBackendPolicy) or its Gateway\'s class, and the input has none of them',
  };
}

/** Whether `selector` (non-empty) matches `labels`. */
export function selectorMatches(selector: unknown, labels: unknown): boolean {
  if (!isObject(selector) || Object.keys(selector).length === 0 || !isObject(labels)) return false;
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/** A container port a Service's targetPort resolved to. */
export interface ResolvedTargetPort {
  /** Index of the container in the pod template. */
  readonly containerIndex: number;
  readonly containerName: string;
  readonly port: number;
}

/**
 * The container port a targetPort refers to: by name (must be a declared container port) or by
 * number (declared or not: Kubernetes does not require declaring it; the first container is assumed
 * when none declares it).
 */
export function resolveTargetPort(deployment: KubeObject, targetPort: number | string): ResolvedTargetPort | undefined {
  const containers: KubeObject[] = (Array.isArray(deployment.spec?.template?.spec?.containers)
    ? deployment.spec.template.spec.containers : []).filter(isObject);
  for (const [index, container] of containers.entries()) {
    for (const port of Array.isArray(container.ports) ? container.ports : []) {
      if (!isObject(port)) continue;
      if ((typeof targetPort === 'string' && port.name === targetPort)
        || (typeof targetPort === 'number' && port.containerPort === targetPort)) {
        return { containerIndex: index, containerName: String(container.name ?? ''), port: Number(port.containerPort) };
      }
    }
  }
  if (typeof targetPort === 'number' && containers.length > 0) {
    return { containerIndex: 0, containerName: String(containers[0].name ?? ''), port: targetPort };
  }
  return undefined;
}

/** One way traffic reaches a Deployment. */
export interface TrafficRoute {
  /** The Ingress, or the HTTPRoute (Gateway API), that routes to the Service. */
  readonly ingress: LoadedObject;
  readonly service: LoadedObject;
  /** The Service port the Ingress names. */
  readonly servicePort: { readonly port: number; readonly name?: string; readonly targetPort: number | string };
  /** The container port the Service's targetPort resolved to, if it did. */
  readonly target?: ResolvedTargetPort;
}

/** A Deployment that serves traffic through at least one Ingress. */
export interface ServedDeployment {
  readonly deployment: LoadedObject;
  readonly routes: TrafficRoute[];
}

/** A reference that leads nowhere: an Ingress backend, Service port or targetPort that does not resolve. */
export interface BrokenReference {
  readonly object: LoadedObject;
  readonly message: string;
}

/** The result of following Ingress → Service → Deployment through a set of objects. */
export interface Topology {
  readonly served: ServedDeployment[];
  readonly broken: BrokenReference[];
}

/**
 * Follows every Ingress backend to its Service and the Deployments the Service selects. Objects
 * without a namespace land in `defaultNamespace` (`kubectl apply -n`, else `default`), so they
 * match objects that name it.
 */
export function resolveTopology(
  objects: readonly LoadedObject[], defaultNamespace: string = 'default', options: { readonly loadBalancerServices?: boolean } = {},
): Topology {
  // Indexes keep this linear in the input (check audits thousands of services at once):
  // Services by namespace and name, Deployments by namespace and each pod label.
  const services = new Map2<LoadedObject>();
  const serviceList: LoadedObject[] = []; // the distinct Services, in input order
  const deploymentsByLabel = new Map3<LoadedObject[]>();
  const deploymentOrder = new Map<LoadedObject, number>();
  for (const o of objects) {
    if (isKind(o.object, 'Service')) {
      const ns = namespaceOf(o.object, defaultNamespace);
      if (!services.has(ns, o.object.metadata.name)) {
        services.set(ns, o.object.metadata.name, o);
        serviceList.push(o);
      }
    } else if (isKind(o.object, 'Deployment')) {
      deploymentOrder.set(o, deploymentOrder.size);
      const labels = o.object.spec?.template?.metadata?.labels;
      if (!isObject(labels)) continue;
      const ns = namespaceOf(o.object, defaultNamespace);
      for (const label of Object.keys(labels)) push3(deploymentsByLabel, ns, label, String(labels[label]), o);
    }
  }
  const selectedBy = (service: LoadedObject): LoadedObject[] => {
    const selector = service.object.spec?.selector;
    if (!isObject(selector) || Object.keys(selector).length === 0) return [];
    const [label, value] = Object.entries(selector)[0];
    const candidates = deploymentsByLabel.get(namespaceOf(service.object, defaultNamespace), label, String(value)) ?? [];
    return candidates.filter((d) => selectorMatches(selector, d.object.spec?.template?.metadata?.labels));
  };
  const served = new Map<LoadedObject, TrafficRoute[]>();
  const broken: BrokenReference[] = [];

  for (const ingress of objects.filter((o) => isKind(o.object, 'Ingress') || isKind(o.object, 'HTTPRoute'))) {
    const refs = isKind(ingress.object, 'HTTPRoute') ? httpRouteBackends(ingress.object) : ingressBackends(ingress.object);
    for (const ref of refs) {
      const service = services.get(namespaceOf(ingress.object, defaultNamespace), ref.serviceName);
      if (service === undefined) {
        broken.push({ object: ingress, message: `backend Service ${ref.serviceName} is not in the input` });
        continue;
      }
      const ports: KubeObject[] = (Array.isArray(service.object.spec?.ports) ? service.object.spec.ports : []).filter(isObject);
      const port = ports.find((p) => (typeof ref.port === 'string' ? p.name === ref.port : p.port === ref.port))
        ?? (ref.port === undefined && ports.length === 1 ? ports[0] : undefined);
      if (port === undefined) {
        broken.push({ object: ingress, message: `Service ${ref.serviceName} has no port ${JSON.stringify(ref.port)}` });
        continue;
      }
      const targetPort: number | string = port.targetPort ?? port.port;
      for (const deployment of selectedBy(service)) {
        const target = resolveTargetPort(deployment.object, targetPort);
        if (target === undefined) {
          broken.push({ object: service, message: `targetPort ${JSON.stringify(targetPort)} is not a container port of ${describeObject(deployment.object)}` });
        }
        const route: TrafficRoute = {
          ingress,
          service,
          servicePort: { port: Number(port.port), name: typeof port.name === 'string' ? port.name : undefined, targetPort },
          target,
        };
        const routes = served.get(deployment);
        if (routes === undefined) served.set(deployment, [route]); else routes.push(route);
      }
    }
  }
  if (options.loadBalancerServices === true) {
    for (const route of loadBalancerServiceRoutes(serviceList, selectedBy)) {
      const routes = served.get(route.deployment);
      if (routes === undefined) served.set(route.deployment, [route.route]); else routes.push(route.route);
    }
  }
  return {
    served: [...served.keys()].sort((a, b) => deploymentOrder.get(a)! - deploymentOrder.get(b)!)
      .map((deployment) => ({ deployment, routes: served.get(deployment)! })),
    broken,
  };
}

/**
 * The routes of Services of `type: LoadBalancer` (issue 16 class 8): an L4 load balancer in front of
 * the pods the Service selects, one route per Service port; the Service is its own front (`ingress`).
 */
function loadBalancerServiceRoutes(
  services: readonly LoadedObject[], selectedBy: (service: LoadedObject) => LoadedObject[],
): { deployment: LoadedObject; route: TrafficRoute }[] {
  const out: { deployment: LoadedObject; route: TrafficRoute }[] = [];
  for (const service of services) {
    if (service.object.spec?.type !== 'LoadBalancer') continue;
    const ports: KubeObject[] = (Array.isArray(service.object.spec?.ports) ? service.object.spec.ports : []).filter(isObject);
    for (const deployment of selectedBy(service)) {
      for (const port of ports) {
        const targetPort: number | string = port.targetPort ?? port.port;
        out.push({
          deployment,
          route: {
            ingress: service,
            service,
            servicePort: { port: Number(port.port), name: typeof port.name === 'string' ? port.name : undefined, targetPort },
            target: resolveTargetPort(deployment.object, targetPort),
          },
        });
      }
    }
  }
  return out;
}

/** The providers the library knows, by their CLI names. */
export type ProviderId = 'alibaba-alb' | 'tencent-clb' | 'aws-alb' | 'gke-ingress';

/** All provider ids, in a stable order (for help texts and `--provider`/`--lb` choices). */
export const PROVIDER_IDS: readonly ProviderId[] = ['alibaba-alb', 'tencent-clb', 'aws-alb', 'gke-ingress'];

/** Which provider serves an Ingress, and why; `provider` is undefined when unknown or ambiguous. */
export interface ProviderDetection {
  readonly provider?: ProviderId;
  /** The providers it could be; more than one means ambiguous (settle it with a flag). */
  readonly candidates: readonly ProviderId[];
  readonly reason: string;
  /**
   * D in seconds for a load balancer that is none of the providers (the L4 load balancer of a
   * Service of type LoadBalancer) when a sourced figure exists; `provider` is then undefined.
   */
  readonly deregistrationDelaySeconds?: number;
}

const ALB_PREFIX = 'alb.ingress.kubernetes.io/';
/**
 * `alb.ingress.kubernetes.io/` keys only the AWS Load Balancer Controller documents: its annotation
 * reference (kubernetes-sigs/aws-load-balancer-controller docs/guide/ingress/annotations.md at
 * 225f44568848eb25f13e304a5f1cc68c0cd9415d) minus every key Alibaba's ALB Ingress controller also
 * reads (the health-check timing and path, listen-ports, ssl-redirect, backend-protocol, actions.*,
 * conditions.*). A key ending in `.` matches that key with any suffix.
 */
const AWS_ONLY_KEYS = [
  'target-type', 'scheme', 'target-group-attributes', 'load-balancer-attributes', 'group.name', 'group.order',
  'success-codes', 'healthcheck-port', 'certificate-arn', 'subnets', 'security-groups', 'security-group-prefix-lists',
  'ip-address-type', 'ipam-ipv4-pool-id', 'load-balancer-name', 'wafv2-acl-arn', 'wafv2-acl-name', 'waf-acl-id',
  'shield-advanced-protection', 'ssl-policy', 'backend-protocol-version', 'target-node-labels',
  'manage-backend-security-group-rules', 'inbound-cidrs', 'customer-owned-ipv4-pool', 'tags',
  'auth-type', 'auth-idp-cognito', 'auth-idp-oidc', 'auth-on-unauthenticated-request', 'auth-scope',
  'auth-session-cookie', 'auth-session-timeout', 'listener-attributes', 'acm-pca-arn', 'create-acm-cert',
  'enable-frontend-nlb', 'frontend-nlb-', 'jwt-validation', 'minimum-load-balancer-capacity',
  'multi-cluster-target-group', 'mutual-authentication', 'target-control-port', 'transforms', 'use-regex-path-match',
];
/**
 * `alb.ingress.kubernetes.io/` keys only Alibaba Cloud's ALB Ingress controller reads, none of them in
 * the AWS reference above: the controller's annotation constants
 * (alibaba/alibaba-load-balancer-controller pkg/controller/ingress/reconcile/annotations/annotations.go
 * and the table in docs/usage.md, at c2771084ee4870d92125463ab93bb3f37af460e6), and ACK's "ALB
 * Ingress configuration dictionary"
 * (https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/alb-ingress-configuration-dictionary)
 * for the keys added since (healthcheck-code, healthcheck-httpversion, connection drain, slow start,
 * albconfig.order).
 */
const ALIBABA_ONLY_KEYS = [
  // the ALB instance the Ingress creates or uses
  'address-type', 'vswitch-ids', 'charge-type', 'id', 'force-override-listeners', 'name', 'address-allocated-mode',
  'edition', 'access-log', 'albconfig.order', 'albconfig.name', 'server-group-id',
  // health checks (the path, protocol and timing keys are shared with AWS)
  'healthcheck-enabled', 'healthcheck-method', 'healthcheck-httpcode', 'healthcheck-code', 'healthcheck-httpversion',
  'healthcheck-connect-port',
  // backends and forwarding
  'connection-drain-enabled', 'connection-drain-timeout', 'slow-start-enabled', 'slow-start-duration',
  'order', 'backend-label', 'remove-unscheduled-backend', 'backend-scheduler', 'backend-scheduler-uch-value',
  'backend-keepalive', 'rule-direction', 'rewrite-target', 'use-regex', 'traffic-limit-qps', 'traffic-limit-ip-qps',
  'canary', 'canary-weight', 'canary-by-header', 'canary-by-header-value', 'canary-by-cookie',
  'sticky-session', 'sticky-session-type', 'cookie-timeout', 'cookie',
  'enable-cors', 'cors-allow-origin', 'cors-allow-methods', 'cors-allow-headers', 'cors-expose-headers',
  'cors-allow-credentials', 'cors-max-age',
];
/**
 * Ingress annotations only GKE's Ingress controller reads (kubernetes/ingress-gce
 * pkg/annotations/ingress.go at acbcf5d66dd9d31297a2a52a2d7d83d4c1a94539), and the managed-certificate
 * annotation GKE documents for Ingress
 * (https://cloud.google.com/kubernetes-engine/docs/how-to/managed-certs).
 */
const GKE_INGRESS_KEYS = [
  'kubernetes.io/ingress.global-static-ip-name', 'kubernetes.io/ingress.regional-static-ip-name',
  'kubernetes.io/ingress.allow-http', 'ingress.gcp.kubernetes.io/pre-shared-cert',
  'networking.gke.io/v1beta1.FrontendConfig', 'networking.gke.io/suppress-firewall-xpn-error',
  'networking.gke.io/managed-certificates',
];
/**
 * Service annotations only GKE reads: container-native load balancing (`cloud.google.com/neg`,
 * kubernetes/ingress-gce pkg/negannotation/negannotation.go), the BackendConfig reference, the
 * application protocols and transparent health checks (pkg/annotations/service.go), at acbcf5d.
 */
const GKE_SERVICE_KEYS = [
  'cloud.google.com/neg', 'cloud.google.com/backend-config', 'beta.cloud.google.com/backend-config',
  'cloud.google.com/app-protocols', 'service.alpha.kubernetes.io/app-protocols', 'networking.gke.io/transparent-health-checker',
];
/** The ALB readiness gate Alibaba's controller sets (pods of an ALB-served Deployment may carry it). */
const ALIBABA_READINESS_GATE = 'target-health.alb.k8s.alibabacloud';
/** IngressClass controllers (spec.controller) of the providers that use IngressClass objects. */
const CONTROLLERS: { [controller: string]: ProviderId } = {
  'ingress.k8s.aws/alb': 'aws-alb',
  'ingress.k8s.alibabacloud/alb': 'alibaba-alb',
};

/** The key lookups of `hasKey`, built once per list: the keys, and those ending in `-` (prefixes). */
const KEY_SETS = new WeakMap<readonly string[], { readonly exact: Set<string>; readonly prefixes: readonly string[] }>();

/**
 * The first annotation that is `prefix` + one of `keys`, or one of them followed by `.` and a suffix
 * (`actions.<name>`), or any suffix for a key ending in `-`. Set lookups, one per dot of the key,
 * instead of strings built per key and annotation (check audits thousands of Ingresses at once).
 */
function hasKey(annotations: { [key: string]: string }, prefix: string, keys: readonly string[]): string | undefined {
  let sets = KEY_SETS.get(keys);
  if (sets === undefined) KEY_SETS.set(keys, sets = { exact: new Set(keys), prefixes: keys.filter((k) => k.endsWith('-')) });
  for (const key of Object.keys(annotations)) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    if (sets.exact.has(rest) || sets.prefixes.some((p) => rest.startsWith(p))) return key;
    for (let dot = rest.indexOf('.'); dot !== -1; dot = rest.indexOf('.', dot + 1)) {
      if (sets.exact.has(rest.slice(0, dot))) return key;
    }
  }
  return undefined;
}

/**
 * What says GKE about an Ingress without a class (GKE serves such an Ingress by default): a GKE-only
 * Ingress annotation, a backend Service with a GKE-only annotation, or a BackendConfig
 * (`cloud.google.com`) in the input.
 */
function gkeEvidence(annotations: { [key: string]: string }, objects: readonly LoadedObject[], services: readonly KubeObject[]): string | undefined {
  const ingressKey = GKE_INGRESS_KEYS.find((key) => key in annotations);
  if (ingressKey !== undefined) return `the GKE annotation ${ingressKey}`;
  for (const service of services) {
    const key = GKE_SERVICE_KEYS.find((k) => k in annotationsOf(service));
    if (key !== undefined) return `its backend Service ${service.metadata?.name} has the GKE annotation ${key}`;
  }
  const config = objects.find((o) => o.object.kind === 'BackendConfig' && String(o.object.apiVersion ?? '').startsWith('cloud.google.com/'));
  return config === undefined ? undefined : `the input has the GKE BackendConfig ${config.object.metadata?.name}`;
}

/**
 * The provider of an Ingress, from its class (`spec.ingressClassName` or the
 * `kubernetes.io/ingress.class` annotation), an IngressClass object's controller when the input has
 * one, and vendor-specific annotation keys where the class is shared (`alb`: Alibaba Cloud and AWS).
 * `routedPodSpecs` are the pod specs the Ingress reaches (their readiness gates can tell, too), and
 * `routedServices` its backend Services: without a class, GKE-only keys on the Ingress or its
 * Services, or a BackendConfig among `objects`, say GKE.
 */
export function detectProvider(
  ingress: KubeObject,
  objects: readonly LoadedObject[] = [],
  routedPodSpecs: readonly KubeObject[] = [],
  routedServices: readonly KubeObject[] = [],
): ProviderDetection {
  const annotations = annotationsOf(ingress);
  const specClass = typeof ingress.spec?.ingressClassName === 'string' ? ingress.spec.ingressClassName : undefined;
  const annotationClass = annotations['kubernetes.io/ingress.class'];
  const className = specClass ?? annotationClass;

  const ingressClass = className === undefined ? undefined
    : objects.find((o) => o.object.kind === 'IngressClass' && o.object.metadata?.name === className);
  const controller = ingressClass?.object.spec?.controller;
  if (typeof controller === 'string' && controller in CONTROLLERS) {
    const provider = CONTROLLERS[controller];
    return { provider, candidates: [provider], reason: `IngressClass ${className} has controller ${controller}` };
  }

  if (className === 'gce' || className === 'gce-internal') {
    return { provider: 'gke-ingress', candidates: ['gke-ingress'], reason: `ingress class ${className}` };
  }
  const tencentKey = Object.keys(annotations).find((key) => key.startsWith('ingress.cloud.tencent.com/'));
  if (className === 'qcloud' || (className === undefined && tencentKey !== undefined)) {
    return {
      provider: 'tencent-clb',
      candidates: ['tencent-clb'],
      reason: className === 'qcloud' ? 'ingress class qcloud' : `no ingress class and the Tencent annotation ${tencentKey}`,
    };
  }
  const albKeys = Object.keys(annotations).some((key) => key.startsWith(ALB_PREFIX));
  if (className === 'alb' || (className === undefined && albKeys)) {
    // AWS reads its annotations on the backend Service too (annotations.md, Location column).
    const awsKey = hasKey(annotations, ALB_PREFIX, AWS_ONLY_KEYS)
      ?? routedServices.map((service) => {
        const key = hasKey(annotationsOf(service), ALB_PREFIX, AWS_ONLY_KEYS);
        return key === undefined ? undefined : `${key} (on Service ${service.metadata?.name})`;
      }).find((key) => key !== undefined);
    const alibabaKey = hasKey(annotations, ALB_PREFIX, ALIBABA_ONLY_KEYS);
    const gate = routedPodSpecs.some((spec) => Array.isArray(spec?.readinessGates)
      && spec.readinessGates.some((g: KubeObject) => g?.conditionType === ALIBABA_READINESS_GATE));
    const alibabaEvidence = alibabaKey ?? (gate ? `the readiness gate ${ALIBABA_READINESS_GATE}` : undefined);
    if (awsKey !== undefined && alibabaEvidence === undefined) {
      return { provider: 'aws-alb', candidates: ['aws-alb'], reason: `class alb with the AWS-only annotation ${awsKey}` };
    }
    if (alibabaEvidence !== undefined && awsKey === undefined) {
      const evidence = alibabaKey !== undefined ? `the Alibaba-only annotation ${alibabaKey}` : alibabaEvidence;
      return { provider: 'alibaba-alb', candidates: ['alibaba-alb'], reason: `class alb with ${evidence}` };
    }
    return {
      candidates: ['alibaba-alb', 'aws-alb'],
      reason: awsKey !== undefined
        ? `class alb with both AWS-only (${awsKey}) and Alibaba-only (${alibabaEvidence}) keys`
        : 'class alb is used by both Alibaba Cloud ALB and the AWS Load Balancer Controller, and no vendor-specific annotation tells them apart',
    };
  }
  const gke = className === undefined ? gkeEvidence(annotations, objects, routedServices) : undefined;
  if (gke !== undefined) {
    return { provider: 'gke-ingress', candidates: ['gke-ingress'], reason: `no ingress class and ${gke}` };
  }
  return {
    candidates: [],
    reason: className === undefined ? 'the Ingress names no class' : `ingress class ${className} is not one of a supported provider`,
  };
}
