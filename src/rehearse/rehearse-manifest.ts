/**
 * Which Deployment a rehearsal runs, and what surrounds it: the Services selecting it, the Ingresses
 * routing to them, and the provider serving those Ingresses (through the shared topology module).
 */
import { LbContext, LbProfileId } from './lb-profiles';
import { DeploymentSpec, deploymentSpec, ManifestError } from '../manifests/deployment-spec';
import {
  detectGatewayProvider, detectProvider, describeObject, indexGatewayPolicies, KubeObject, LoadedObject, loadManifests, ManifestInput,
  resolveTopology,
} from '../manifests/topology';

export interface RehearsalManifest {
  readonly spec: DeploymentSpec;
  readonly context: LbContext;
  /** The provider to use: given, or detected from the Deployment's Ingresses. */
  readonly provider: LbProfileId;
  /** Why that provider ("given", or the detector's reason). */
  readonly providerReason: string;
  /** Where the Deployment was found (file:line:col). */
  readonly location: string;
}

/**
 * Load the manifest files, pick the Deployment (`deployment`, or the only one, or the only one that
 * serves traffic), and settle the provider (`lb`, or the one detected; ambiguous or unknown needs `lb`).
 */
export function readRehearsalManifest(inputs: readonly ManifestInput[], options: { deployment?: string; lb?: LbProfileId } = {}): RehearsalManifest {
  const loaded = loadManifests(inputs);
  const objects = loaded.map((o) => o.object);
  const deployments = loaded.filter((o) => o.object.apiVersion === 'apps/v1' && o.object.kind === 'Deployment');
  if (deployments.length === 0) throw new ManifestError('the manifest has no apps/v1 Deployment');
  const topology = resolveTopology(loaded);
  const names = deployments.map((d) => String(d.object.metadata?.name ?? '?'));
  let chosen: LoadedObject | undefined;
  if (options.deployment !== undefined) {
    chosen = deployments.find((d) => d.object.metadata?.name === options.deployment);
    if (!chosen) throw new ManifestError(`no Deployment named ${options.deployment}; the manifest has: ${names.join(', ')}`);
  } else if (deployments.length === 1) {
    chosen = deployments[0];
  } else if (topology.served.length === 1) {
    chosen = topology.served[0].deployment;
  } else {
    throw new ManifestError(`the manifest has ${deployments.length} Deployments (${names.join(', ')}): choose one with --deployment NAME`);
  }
  const routes = topology.served.find((s) => s.deployment === chosen)?.routes ?? [];
  const ingresses: KubeObject[] = [...new Set(routes.map((r) => r.ingress))].map((o) => o.object);
  const services: KubeObject[] = [...new Set(routes.map((r) => r.service))].map((o) => o.object);
  const spec = deploymentSpec(chosen.object, objects);
  const where = `${chosen.source.file}:${chosen.source.line}:${chosen.source.column}`;

  let provider: LbProfileId | undefined = options.lb;
  let providerReason = 'given (--lb)';
  if (provider === undefined) {
    if (ingresses.length === 0) {
      throw new ManifestError(`${where}: no Ingress or HTTPRoute routes to Deployment ${spec.name}, so its load balancer is unknown: pass --lb <provider>`);
    }
    // An HTTPRoute's provider is told by its Service's Gateway API policies (or its Gateway's class).
    const policiesOf = indexGatewayPolicies(loaded);
    const serviceOf = new Map(routes.map((r) => [r.ingress.object, r.service.object]));
    const detect = (i: KubeObject) => (i.kind === 'HTTPRoute'
      ? detectGatewayProvider(i, policiesOf(serviceOf.get(i) ?? {}), loaded)
      : detectProvider(i, loaded, [spec.podSpec]));
    const detections = ingresses.map((i) => ({ ingress: i, detection: detect(i) }));
    const found = [...new Set(detections.map((d) => d.detection.provider))];
    if (found.length !== 1 || found[0] === undefined) {
      const why = detections.map((d) => `${describeObject(d.ingress)}: ${d.detection.reason}`
        + (d.detection.candidates.length > 1 ? ` (could be ${d.detection.candidates.join(' or ')})` : '')).join('; ');
      throw new ManifestError(`cannot tell which load balancer serves Deployment ${spec.name}: ${why}. Pass --lb <provider>`);
    }
    provider = found[0];
    providerReason = detections[0].detection.reason;
  }
  return { spec, context: { ingresses, services, objects }, provider, providerReason, location: where };
}
