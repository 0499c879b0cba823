// Shared test helpers: synthesize a service and check every object the way a cluster would.
import { BackendConfig } from '@kubernetes-models/gke/cloud.google.com/v1/BackendConfig';
import { App, Chart, Testing } from 'cdk8s';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { crdErrors, crdKinds } from './crd-schema';
import { AlibabaAlbTeaChart } from '../examples/alibaba-alb-tea';
import { AwsAlbCheckoutChart } from '../examples/aws-alb-checkout';
import { AwsGatewayCheckoutChart } from '../examples/aws-gateway-checkout';
import { GkeGatewayStorefrontChart } from '../examples/gke-gateway-storefront';
import { GkeStorefrontChart } from '../examples/gke-storefront';
import { TencentClbMeetingChart } from '../examples/tencent-clb-meeting';
import { GracefulWebService, GracefulWebServiceProps, LoadBalancer } from '../src';

/**
 * Synthesizes every example chart into `outdir`, one `<name>.k8s.yaml` each, as `npm run examples`
 * (examples/synth.ts) does; test/check/check.test.ts keeps the two lists the same length.
 */
export function synthAllExamples(outdir: string): void {
  const app = new App({ outdir });
  new AlibabaAlbTeaChart(app, 'alibaba-alb-tea');
  new TencentClbMeetingChart(app, 'tencent-clb-meeting');
  new AwsAlbCheckoutChart(app, 'aws-alb-checkout');
  new GkeStorefrontChart(app, 'gke-storefront');
  new AwsGatewayCheckoutChart(app, 'aws-gateway-checkout');
  new GkeGatewayStorefrontChart(app, 'gke-gateway-storefront');
  app.synth();
}

/** A synthesized Kubernetes object. */
export type KubeObject = { apiVersion: string; kind: string; metadata: any; spec?: any; [key: string]: any };

/**
 * TKE's TkeServiceConfig is a CRD that kubernetes-models does not know; this checks the shape
 * the library emits: integers where the CLB API takes integers, and a rule per listener domain.
 */
class TkeServiceConfigModel {
  constructor(private readonly data: any) {}
  validate(): void {
    const listeners = this.data.spec?.loadBalancer?.l7Listeners;
    if (typeof this.data.metadata?.name !== 'string' || !Array.isArray(listeners) || listeners.length === 0) {
      throw new Error('TkeServiceConfig needs metadata.name and spec.loadBalancer.l7Listeners');
    }
    for (const listener of listeners) {
      if (!['HTTP', 'HTTPS'].includes(listener.protocol) || !Number.isInteger(listener.port)) {
        throw new Error(`TkeServiceConfig listener ${JSON.stringify(listener)} needs an HTTP(S) protocol and an integer port`);
      }
      for (const rule of listener.domains.flatMap((d: any) => d.rules)) {
        const check = rule.healthCheck;
        for (const field of ['intervalTime', 'timeout', 'healthNum', 'unHealthNum', 'httpCode']) {
          if (!Number.isInteger(check[field])) throw new Error(`TkeServiceConfig healthCheck.${field} must be an integer`);
        }
        if (typeof rule.url !== 'string' || !rule.url.startsWith('/')) throw new Error('TkeServiceConfig rule.url must be a path');
      }
    }
  }
}

/**
 * The fields of GKE's BackendConfig (`cloud.google.com/v1`), from ingress-gce's
 * `pkg/apis/backendconfig/v1/types.go`. The published model accepts unknown fields, which GKE
 * would silently ignore, so this checks the emitted spec strictly on top of it.
 */
const BACKEND_CONFIG_FIELDS: { [path: string]: string[] } = {
  'spec': ['cdn', 'connectionDraining', 'customRequestHeaders', 'customResponseHeaders', 'healthCheck', 'iap',
    'logging', 'securityPolicy', 'sessionAffinity', 'timeoutSec'],
  'spec.connectionDraining': ['drainingTimeoutSec'],
  'spec.healthCheck': ['checkIntervalSec', 'timeoutSec', 'healthyThreshold', 'unhealthyThreshold', 'type', 'port', 'requestPath'],
};

class StrictBackendConfigModel {
  constructor(private readonly data: any) {}
  validate(): void {
    new BackendConfig(this.data).validate();
    for (const [path, allowed] of Object.entries(BACKEND_CONFIG_FIELDS)) {
      const value = path.split('.').reduce((o, k) => o?.[k], this.data);
      for (const key of Object.keys(value ?? {})) {
        if (!allowed.includes(key)) throw new Error(`BackendConfig ${path}.${key} is not a BackendConfig field`);
      }
    }
  }
}

/** An object of a kind whose CRD is committed under crds/: every schema violation fails. */
class CrdModel {
  constructor(private readonly data: any) {}
  validate(): void {
    const errors = crdErrors(this.data);
    if (errors.length > 0) throw new Error(`${this.data.kind} ${this.data.metadata?.name}: ${errors.join('; ')}`);
  }
}

/** The schema models of every kind the library may emit. */
const MODELS: { [gvk: string]: new (data: any) => { validate(): void } } = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'networking.k8s.io/v1/Ingress': Ingress,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'cloud.tencent.com/v1alpha1/TkeServiceConfig': TkeServiceConfigModel,
  'cloud.google.com/v1/BackendConfig': StrictBackendConfigModel,
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  // The Gateway API and vendor policy kinds, checked strictly against their CRDs in crds/.
  ...Object.fromEntries(crdKinds().map((gvk) => [gvk, CrdModel])),
};

/** Minimal props for a valid service; tests override what they exercise. */
export function baseProps(overrides: Partial<GracefulWebServiceProps> = {}): GracefulWebServiceProps {
  return { image: 'example/web:1.0', loadBalancer: LoadBalancer.alibabaAlb(), ...overrides };
}

/** Builds one service in a fresh chart and returns it with the synthesized objects. */
export function synth(props: GracefulWebServiceProps): { service: GracefulWebService; objects: KubeObject[] } {
  const chart = new Chart(Testing.app(), 'test');
  const service = new GracefulWebService(chart, 'web', props);
  return { service, objects: Testing.synth(chart) as KubeObject[] };
}

/** The single object of a kind; fails the test when there is not exactly one. */
export function only(objects: KubeObject[], kind: string): KubeObject {
  const found = objects.filter((o) => o.kind === kind);
  if (found.length !== 1) {
    throw new Error(`expected exactly one ${kind}, found ${found.length}`);
  }
  return found[0];
}

/** The first container of the Deployment's pod template. */
export function container(objects: KubeObject[]): any {
  return only(objects, 'Deployment').spec.template.spec.containers[0];
}

/**
 * Checks synthesized objects as a cluster would: each against the Kubernetes schema, each
 * lifecycle handler with exactly one action, Service selectors matching the pods, and Ingress
 * backends naming an existing Service port. Throws on the first problem.
 */
/**
 * Kinds that are cluster-scoped (the API server's `namespaced: false` for the built-in ones; the CRDs
 * under crds/ are all namespaced): such an object must not carry `metadata.namespace`.
 */
export const CLUSTER_SCOPED_KINDS = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'ClusterRole', 'ClusterRoleBinding', 'StorageClass', 'IngressClass',
  'PriorityClass', 'RuntimeClass', 'CustomResourceDefinition', 'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration', 'APIService', 'GatewayClass', 'CSIDriver', 'VolumeAttachment',
]);

/** A cluster-scoped object must not carry `metadata.namespace`. */
export function checkScope(objects: KubeObject[]): void {
  for (const object of objects) {
    if (CLUSTER_SCOPED_KINDS.has(object.kind) && object.metadata?.namespace !== undefined) {
      throw new Error(`${object.kind} ${object.metadata?.name} is cluster-scoped but carries metadata.namespace "${object.metadata.namespace}"`);
    }
  }
}

export function validateObjects(objects: KubeObject[]): void {
  checkScope(objects);
  for (const object of objects) {
    const gvk = `${object.apiVersion}/${object.kind}`;
    const Model = MODELS[gvk];
    if (!Model) {
      throw new Error(`no schema model for ${gvk}: add one before emitting this kind`);
    }
    new Model(object).validate();
    validateMetadata(`${object.kind} ${object.metadata?.name}`, object.metadata, object.kind === 'Service');
    if (object.kind === 'Deployment') {
      validateMetadata(`${object.kind} ${object.metadata.name} pod template`, { name: 'x', ...object.spec.template.metadata }, false);
    }
  }

  const deployments = objects.filter((o) => o.kind === 'Deployment');
  for (const deployment of deployments) {
    const pod = deployment.spec.template;
    for (const matchKey of Object.keys(deployment.spec.selector.matchLabels ?? {})) {
      if (pod.metadata.labels?.[matchKey] !== deployment.spec.selector.matchLabels[matchKey]) {
        throw new Error(`Deployment ${deployment.metadata.name}: selector ${matchKey} does not match its pod template`);
      }
    }
    for (const c of pod.spec.containers) {
      for (const hook of ['preStop', 'postStart']) {
        const handler = c.lifecycle?.[hook];
        if (handler === undefined) continue;
        const actions = Object.keys(handler).filter((k) => ['exec', 'httpGet', 'tcpSocket', 'sleep'].includes(k));
        if (actions.length !== 1 || Object.keys(handler).length !== 1) {
          throw new Error(`container ${c.name}: lifecycle.${hook} must have exactly one action, has ${JSON.stringify(handler)}`);
        }
        if (handler.tcpSocket) {
          throw new Error(`container ${c.name}: lifecycle.${hook}.tcpSocket is deprecated and rejected`);
        }
      }
    }
  }

  const services = objects.filter((o) => o.kind === 'Service');
  for (const service of services) {
    const selector: { [key: string]: string } = service.spec.selector ?? {};
    const selected = deployments.filter((d) =>
      Object.entries(selector).every(([k, v]) => d.spec.template.metadata.labels?.[k] === v));
    if (Object.keys(selector).length === 0 || selected.length === 0) {
      throw new Error(`Service ${service.metadata.name}: selector ${JSON.stringify(selector)} matches no pods`);
    }
    for (const port of service.spec.ports) {
      const target = port.targetPort ?? port.port;
      const exposes = selected.some((d) => d.spec.template.spec.containers.some(
        (c: any) => (c.ports ?? []).some((p: any) => p.containerPort === target || p.name === target)));
      if (!exposes) {
        throw new Error(`Service ${service.metadata.name}: targetPort ${target} is not a container port of the selected pods`);
      }
    }
  }

  for (const service of services) {
    // GKE: the Service names its BackendConfig, whose health check must hit a port the pods serve.
    const reference = service.metadata.annotations?.['cloud.google.com/backend-config'];
    if (reference !== undefined) {
      const names: string[] = Object.values(JSON.parse(reference).ports ?? {}).concat(JSON.parse(reference).default ?? []) as string[];
      for (const name of names) {
        const config = objects.find((o) => o.kind === 'BackendConfig' && o.metadata.name === name);
        if (!config) throw new Error(`Service ${service.metadata.name}: BackendConfig ${name} does not exist`);
        const port = config.spec.healthCheck?.port;
        if (port !== undefined && !service.spec.ports.some((p: any) => (p.targetPort ?? p.port) === port)) {
          throw new Error(`BackendConfig ${name}: health check port ${port} is not a target port of Service ${service.metadata.name}`);
        }
      }
    }
    const neg = service.metadata.annotations?.['cloud.google.com/neg'];
    if (neg !== undefined && typeof JSON.parse(neg) !== 'object') {
      throw new Error(`Service ${service.metadata.name}: cloud.google.com/neg must be a JSON object, got ${neg}`);
    }
  }

  for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
    const selector: { [key: string]: string } = pdb.spec.selector.matchLabels;
    const selected = deployments.filter((d) =>
      Object.entries(selector).every(([k, v]) => d.spec.template.metadata.labels?.[k] === v));
    if (Object.keys(selector).length === 0 || selected.length !== 1) {
      throw new Error(`PodDisruptionBudget ${pdb.metadata.name}: selector ${JSON.stringify(selector)} must select one Deployment's pods`);
    }
  }

  for (const ingress of objects.filter((o) => o.kind === 'Ingress')) {
    const configName = ingress.metadata.annotations?.['ingress.cloud.tencent.com/tke-service-config'];
    if (configName !== undefined && !objects.some((o) => o.kind === 'TkeServiceConfig' && o.metadata.name === configName)) {
      throw new Error(`Ingress ${ingress.metadata.name}: TkeServiceConfig ${configName} does not exist`);
    }
    const annotated = ingress.metadata.annotations?.['kubernetes.io/ingress.class'];
    if (annotated !== undefined && ingress.spec.ingressClassName !== undefined) {
      throw new Error(`Ingress ${ingress.metadata.name}: sets both kubernetes.io/ingress.class and spec.ingressClassName`);
    }
    const backends = [
      ...(ingress.spec.defaultBackend ? [ingress.spec.defaultBackend] : []),
      ...(ingress.spec.rules ?? []).flatMap((r: any) => r.http.paths.map((p: any) => p.backend)),
    ];
    for (const backend of backends) {
      const svc = services.find((s) => s.metadata.name === backend.service.name);
      if (!svc) {
        throw new Error(`Ingress ${ingress.metadata.name}: backend Service ${backend.service.name} does not exist`);
      }
      const port = backend.service.port;
      if (!svc.spec.ports.some((p: any) => p.port === port.number || (port.name !== undefined && p.name === port.name))) {
        throw new Error(`Ingress ${ingress.metadata.name}: Service ${svc.metadata.name} has no port ${JSON.stringify(port)}`);
      }
    }
  }
  validateGatewayReferences(objects);
}

/**
 * Gateway API references: an HTTPRoute's backendRefs name a Service of the route's namespace and
 * one of its ports; every vendor policy targets an emitted Service in its own namespace; a created
 * Gateway is the one the route's parentRef names, with the listener it names.
 */
export function validateGatewayReferences(objects: KubeObject[]): void {
  const services = objects.filter((o) => o.kind === 'Service');
  const ns = (o: KubeObject) => o.metadata.namespace ?? '';
  for (const route of objects.filter((o) => o.kind === 'HTTPRoute')) {
    for (const ref of route.spec.rules.flatMap((r: any) => r.backendRefs ?? [])) {
      if ((ref.group ?? '') !== '' || (ref.kind ?? 'Service') !== 'Service') throw new Error(`HTTPRoute ${route.metadata.name}: backendRef is not a core Service`);
      const svc = services.find((s) => s.metadata.name === ref.name && ns(s) === (ref.namespace ?? ns(route)));
      if (!svc) throw new Error(`HTTPRoute ${route.metadata.name}: backend Service ${ref.name} does not exist in its namespace`);
      if (!svc.spec.ports.some((p: any) => p.port === ref.port)) throw new Error(`HTTPRoute ${route.metadata.name}: Service ${ref.name} has no port ${ref.port}`);
    }
    for (const parent of route.spec.parentRefs) {
      const gateway = objects.find((o) => o.kind === 'Gateway' && o.metadata.name === parent.name);
      if (!gateway) continue; // an existing Gateway, outside the chart
      if (ns(gateway) !== (parent.namespace ?? ns(route))) throw new Error(`HTTPRoute ${route.metadata.name}: Gateway ${parent.name} is in another namespace`);
      if (parent.sectionName !== undefined && !gateway.spec.listeners.some((l: any) => l.name === parent.sectionName)) {
        throw new Error(`HTTPRoute ${route.metadata.name}: Gateway ${parent.name} has no listener ${parent.sectionName}`);
      }
    }
  }
  for (const policy of objects.filter((o) => ['TargetGroupConfiguration', 'GCPBackendPolicy', 'HealthCheckPolicy'].includes(o.kind))) {
    const ref = policy.spec.targetRef ?? policy.spec.targetReference;
    if ((ref.kind ?? 'Service') !== 'Service' || (ref.group ?? '') !== '') throw new Error(`${policy.kind} ${policy.metadata.name}: does not target a Service`);
    if ((ref.namespace ?? ns(policy)) !== ns(policy)) throw new Error(`${policy.kind} ${policy.metadata.name}: targets another namespace`);
    if (!services.some((s) => s.metadata.name === ref.name && ns(s) === ns(policy))) {
      throw new Error(`${policy.kind} ${policy.metadata.name}: Service ${ref.name} does not exist in its namespace`);
    }
  }
  for (const gateway of objects.filter((o) => o.kind === 'Gateway')) {
    const params = gateway.spec.infrastructure?.parametersRef;
    if (params && !objects.some((o) => o.kind === params.kind && o.metadata.name === params.name && ns(o) === ns(gateway))) {
      throw new Error(`Gateway ${gateway.metadata.name}: ${params.kind} ${params.name} does not exist in its namespace`);
    }
  }
}

// What the API server's metadata validation checks and the JSON schemas do not (written here
// independently of src/validation.ts, so the library's rules are checked, not reused).
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_1035 = /^(?=.{1,63}$)[a-z]([-a-z0-9]*[a-z0-9])?$/;
const NAME_PART = /^(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function validKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash === -1) return NAME_PART.test(key);
  return DNS_SUBDOMAIN.test(key.slice(0, slash)) && NAME_PART.test(key.slice(slash + 1));
}

function validateMetadata(what: string, metadata: any, dns1035: boolean): void {
  if (typeof metadata?.name !== 'string' || !(dns1035 ? DNS_1035 : DNS_SUBDOMAIN).test(metadata.name)) {
    throw new Error(`${what}: metadata.name is not a valid ${dns1035 ? 'RFC 1035 label' : 'DNS subdomain'}`);
  }
  for (const [key, value] of Object.entries<any>(metadata.labels ?? {})) {
    if (!validKey(key) || typeof value !== 'string' || (value !== '' && !NAME_PART.test(value))) {
      throw new Error(`${what}: label ${JSON.stringify(key)}: ${JSON.stringify(value)} breaks Kubernetes' label rules`);
    }
  }
  for (const [key, value] of Object.entries<any>(metadata.annotations ?? {})) {
    if (!validKey(key) || typeof value !== 'string') {
      throw new Error(`${what}: annotation ${JSON.stringify(key)} breaks Kubernetes' annotation rules`);
    }
  }
}
