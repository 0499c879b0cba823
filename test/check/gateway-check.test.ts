// check follows HTTPRoute -> Service -> Deployment, and reads the load balancer's draining from
// the Gateway API vendor policies (AWS TargetGroupConfiguration, GKE GCPBackendPolicy).
import { Chart, Testing } from 'cdk8s';
import { stringify } from 'yaml';
import { AwsGatewayCheckoutChart } from '../../examples/aws-gateway-checkout';
import { GkeGatewayStorefrontChart } from '../../examples/gke-gateway-storefront';
import { GracefulWebService, LoadBalancer } from '../../src';
import { audit, CheckOptions, Finding } from '../../src/check/audit';
import { httpRouteBackends, KubeObject, loadManifests, resolveTopology } from '../../src/manifests/topology';

function auditObjects(objects: KubeObject[], options: CheckOptions = {}): Finding[] {
  const text = objects.map((o) => stringify(o)).join('---\n');
  return audit(loadManifests([{ file: 'gateway.yaml', text }]), options).findings;
}

const ruleIds = (findings: Finding[]) => findings.map((f) => `${f.rule} ${f.object.kind}/${f.object.name}`);
const only = (objects: KubeObject[], kind: string) => objects.filter((o) => o.kind === kind)[0];

function gkeService(): KubeObject[] {
  const chart = new Chart(Testing.app(), 'c', { namespace: 'shop' });
  new GracefulWebService(chart, 'web', { name: 'web', image: 'x:1', loadBalancer: LoadBalancer.gkeIngress(), gateway: { name: 'g' } });
  return Testing.synth(chart) as KubeObject[];
}

function awsService(): KubeObject[] {
  const chart = new Chart(Testing.app(), 'c', { namespace: 'shop' });
  new GracefulWebService(chart, 'web', { name: 'web', image: 'x:1', loadBalancer: LoadBalancer.awsAlb(), gateway: { name: 'g' } });
  return Testing.synth(chart) as KubeObject[];
}

describe('check follows HTTPRoutes', () => {
  test('the topology reaches the Deployment through an HTTPRoute', () => {
    const objects = gkeService();
    const topology = resolveTopology(loadManifests([{ file: 'x.yaml', text: objects.map((o) => stringify(o)).join('---\n') }]));
    expect(topology.broken).toEqual([]);
    expect(topology.served.map((s) => [s.deployment.object.metadata.name, s.routes.map((r) => r.ingress.object.kind)])).toEqual([['web', ['HTTPRoute']]]);
  });

  test('the Gateway examples pass without any finding', () => {
    for (const chart of [new AwsGatewayCheckoutChart(Testing.app(), 'a'), new GkeGatewayStorefrontChart(Testing.app(), 'g')]) {
      expect(ruleIds(auditObjects(Testing.synth(chart) as KubeObject[]))).toEqual([]);
    }
  });

  test('GKE: a GCPBackendPolicy without connection draining is a finding (GKE drains 0 s by default)', () => {
    const objects = gkeService();
    delete only(objects, 'GCPBackendPolicy').spec.default.connectionDraining;
    const findings = auditObjects(objects);
    expect(ruleIds(findings)).toEqual(['gke-gateway-no-connection-draining GCPBackendPolicy/web']);
    expect(findings[0].severity).toBe('error');
    expect(findings[0].fix.set).toEqual({ 'spec.default.connectionDraining.drainingTimeoutSec': 120 });
  });

  test('GKE: no GCPBackendPolicy at all (the HealthCheckPolicy tells GKE) is a finding on the Service', () => {
    const objects = gkeService().filter((o) => o.kind !== 'GCPBackendPolicy');
    expect(ruleIds(auditObjects(objects))).toEqual(['gke-gateway-no-connection-draining Service/web']);
  });

  test('GKE: a draining timeout below S is a finding on the policy', () => {
    const objects = gkeService();
    only(objects, 'GCPBackendPolicy').spec.default.connectionDraining.drainingTimeoutSec = 10;
    expect(ruleIds(auditObjects(objects))).toEqual(['gke-draining-timeout-too-short GCPBackendPolicy/web']);
  });

  test('AWS: a TargetGroupConfiguration deregistration delay below D + S is a finding on it', () => {
    const objects = awsService();
    only(objects, 'TargetGroupConfiguration').spec.defaultConfiguration.targetGroupAttributes[0].value = '20';
    const findings = auditObjects(objects);
    expect(ruleIds(findings)).toEqual(['aws-deregistration-delay-too-short TargetGroupConfiguration/web']);
    expect(findings[0].message).toContain('below D + S = 60 + 30 = 90 s');
  });

  test('AWS: the readiness gate with instance targets (the Gateway controller\'s default) is a finding', () => {
    const objects = awsService();
    delete only(objects, 'TargetGroupConfiguration').spec.defaultConfiguration.targetType;
    only(objects, 'Deployment').spec.template.spec.readinessGates = [{ conditionType: 'target-health.elbv2.k8s.aws/k8s-shop-web-1234' }];
    expect(ruleIds(auditObjects(objects))).toContain('alb-readiness-gate-without-direct-access TargetGroupConfiguration/web');
  });

  test('--namespace places the objects without one: a policy in that namespace still targets the Service', () => {
    // As `kubectl apply -n shop` would: only the policies keep their namespace in the file.
    const objects = awsService();
    for (const o of objects) if (o.kind !== 'TargetGroupConfiguration') delete o.metadata.namespace;
    only(objects, 'TargetGroupConfiguration').spec.defaultConfiguration.targetGroupAttributes[0].value = '20';
    expect(ruleIds(auditObjects(objects, { namespace: 'shop' }))).toEqual(['aws-deregistration-delay-too-short TargetGroupConfiguration/web']);
    // In another namespace, the policy targets another Service: its delay is not this one's.
    expect(ruleIds(auditObjects(objects, { namespace: 'other' }))).not.toContain('aws-deregistration-delay-too-short TargetGroupConfiguration/web');
  });

  test('an HTTPRoute to a Service not in the input is a broken reference', () => {
    const objects = gkeService();
    only(objects, 'HTTPRoute').spec.rules[0].backendRefs[0].name = 'missing';
    expect(ruleIds(auditObjects(objects))).toContain('broken-reference HTTPRoute/web');
  });

  test('without policies, a Gateway class or a declared D, the provider is unknown', () => {
    const objects = gkeService().filter((o) => !['GCPBackendPolicy', 'HealthCheckPolicy'].includes(o.kind));
    delete only(objects, 'Deployment').metadata.annotations;
    const findings = auditObjects(objects);
    expect(ruleIds(findings)).toContain('provider-unknown HTTPRoute/web');
    expect(findings.find((f) => f.rule === 'provider-unknown')!.message).toContain('vendor policies on its Service');
  });
});

describe('httpRouteBackends', () => {
  test('core Services of the route\'s namespace only, each once', () => {
    const route: KubeObject = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'r', namespace: 'shop' },
      spec: {
        rules: [
          { backendRefs: [{ name: 'a', port: 80 }, { name: 'a', port: 80 }, { group: '', kind: 'Service', name: 'b', port: 8080 }] },
          { backendRefs: [{ name: 'c', port: 80, namespace: 'other' }, { group: 'example.com', kind: 'Bucket', name: 'd' }, { name: 'e', port: 80, namespace: 'shop' }] },
          { matches: [{ path: { type: 'PathPrefix', value: '/' } }] },
        ],
      },
    };
    expect(httpRouteBackends(route)).toEqual([
      { serviceName: 'a', port: 80 },
      { serviceName: 'b', port: 8080 },
      { serviceName: 'e', port: 80 },
    ]);
  });
});
