import { ApiObject, Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import * as fc from 'fast-check';
import {
  AwsAlbScheme, AwsAlbTargetType, GracefulWebService, GracefulWebServiceProps, ILoadBalancer, LoadBalancer,
  LoadBalancerBindOptions, LoadBalancerConfig, LoadBalancerLaunch,
} from '../src';
import { crdErrors } from './crd-schema';
import { baseProps, container, KubeObject, only, synth, validateGatewayReferences, validateObjects } from './util';

const GATEWAY_KINDS = ['HTTPRoute', 'Gateway', 'TargetGroupConfiguration', 'LoadBalancerConfiguration', 'GCPBackendPolicy', 'HealthCheckPolicy'];

/** Synthesizes in a chart with a namespace, as a real deployment would have. */
function synthIn(props: GracefulWebServiceProps, namespace = 'shop'): { service: GracefulWebService; objects: KubeObject[] } {
  const chart = new Chart(Testing.app(), 'test', { namespace });
  const service = new GracefulWebService(chart, 'web', props);
  return { service, objects: Testing.synth(chart) as KubeObject[] };
}

const attributes = (tgc: KubeObject) => Object.fromEntries(
  tgc.spec.defaultConfiguration.targetGroupAttributes.map((a: { key: string; value: string }) => [a.key, a.value]));

describe('gateway: an HTTPRoute instead of an Ingress', () => {
  test('AWS: HTTPRoute to the Service through the named Gateway, and a TargetGroupConfiguration with what the Ingress annotations carry', () => {
    const common = baseProps({ name: 'checkout', host: 'shop.example.com', path: '/api', port: 8080, loadBalancer: LoadBalancer.awsAlb() });
    const viaIngress = synthIn(common);
    const { service, objects } = synthIn({ ...common, loadBalancer: LoadBalancer.awsAlb(), gateway: { name: 'edge', namespace: 'infra', sectionName: 'https' } });
    validateObjects(objects);
    expect(objects.map((o) => o.kind).sort()).toEqual(['Deployment', 'HTTPRoute', 'PodDisruptionBudget', 'Service', 'TargetGroupConfiguration']);
    expect(service.ingress).toBeUndefined();
    expect(service.httpRoute?.kind).toBe('HTTPRoute');

    const route = only(objects, 'HTTPRoute');
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route.spec).toEqual({
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'edge', namespace: 'infra', sectionName: 'https' }],
      hostnames: ['shop.example.com'],
      rules: [{
        matches: [{ path: { type: 'PathPrefix', value: '/api' } }],
        backendRefs: [{ group: '', kind: 'Service', name: 'checkout', port: 8080 }],
      }],
    });

    const tgc = only(objects, 'TargetGroupConfiguration');
    expect(tgc.apiVersion).toBe('gateway.k8s.aws/v1');
    expect(tgc.spec.targetReference).toEqual({ name: 'checkout' });
    expect(tgc.spec.defaultConfiguration.targetType).toBe('ip');
    // Same derived deregistration delay as the Ingress annotation.
    const ingressAttributes = only(viaIngress.objects, 'Ingress').metadata.annotations['alb.ingress.kubernetes.io/target-group-attributes'];
    expect(ingressAttributes).toBe(`deregistration_delay.timeout_seconds=${attributes(tgc)['deregistration_delay.timeout_seconds']}`);
    // The health check mirrors the readiness probe.
    const probe = container(objects).readinessProbe;
    expect(tgc.spec.defaultConfiguration.healthCheckConfig).toEqual({
      healthCheckPath: probe.httpGet.path,
      healthCheckProtocol: 'HTTP',
      healthCheckInterval: probe.periodSeconds,
      healthCheckTimeout: probe.timeoutSeconds,
      healthyThresholdCount: probe.successThreshold,
      unhealthyThresholdCount: probe.failureThreshold,
      matcher: { httpCode: '200-399' },
    });
    // Same budget, same Deployment: only the route differs.
    expect(service.budget.describe()).toBe(viaIngress.service.budget.describe());
    expect(only(objects, 'Deployment')).toEqual(only(viaIngress.objects, 'Deployment'));
  });

  test('AWS: creating the Gateway emits it with a LoadBalancerConfiguration for the scheme; instance targets use a NodePort Service', () => {
    const { service, objects } = synthIn(baseProps({
      name: 'checkout',
      loadBalancer: LoadBalancer.awsAlb({ scheme: AwsAlbScheme.INTERNET_FACING, targetType: AwsAlbTargetType.INSTANCE }),
      gateway: { name: 'edge', create: true, gatewayClassName: 'aws-alb', listenerPort: 8080 },
    }));
    validateObjects(objects);
    const gateway = only(objects, 'Gateway');
    expect(service.gateway?.kind).toBe('Gateway');
    expect(gateway.spec).toEqual({
      gatewayClassName: 'aws-alb',
      infrastructure: { parametersRef: { group: 'gateway.k8s.aws', kind: 'LoadBalancerConfiguration', name: 'edge' } },
      listeners: [{ name: 'http', port: 8080, protocol: 'HTTP' }],
    });
    expect(only(objects, 'LoadBalancerConfiguration').spec).toEqual({ scheme: 'internet-facing' });
    expect(only(objects, 'HTTPRoute').spec.parentRefs[0].sectionName).toBe('http');
    expect(only(objects, 'Service').spec.type).toBe('NodePort');
    expect(only(objects, 'TargetGroupConfiguration').spec.defaultConfiguration.targetType).toBe('instance');
  });

  test('AWS: the readiness gate works as for the Ingress: a labelled namespace replaces minReadySeconds', () => {
    const gated = synthIn(baseProps({ loadBalancer: LoadBalancer.awsAlb({ readinessGateNamespaceLabelled: true }), gateway: { name: 'edge' } }));
    const ungated = synthIn(baseProps({ loadBalancer: LoadBalancer.awsAlb(), gateway: { name: 'edge' } }));
    expect(only(gated.objects, 'Deployment').spec.minReadySeconds).toBe(0);
    expect(only(ungated.objects, 'Deployment').spec.minReadySeconds).toBeGreaterThan(0);

    const chart = new Chart(Testing.app(), 'test', { namespace: 'shop' });
    const namespace = new ApiObject(chart, 'ns', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    new GracefulWebService(chart, 'web', baseProps({ loadBalancer: LoadBalancer.awsAlb({ readinessGateNamespace: namespace }), gateway: { name: 'edge' } }));
    const objects = Testing.synth(chart) as KubeObject[];
    validateObjects(objects);
    expect(only(objects, 'Namespace').metadata.labels).toEqual({ 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' });
  });

  test('AWS: the mirrored health check without the probe is the ELB default, so minReadySeconds is longer', () => {
    const mirrored = synthIn(baseProps({ loadBalancer: LoadBalancer.awsAlb(), gateway: { name: 'edge' } }));
    const unmirrored = synthIn(baseProps({ loadBalancer: LoadBalancer.awsAlb({ healthCheckAnnotations: false }), gateway: { name: 'edge' } }));
    validateObjects(unmirrored.objects);
    expect(only(unmirrored.objects, 'TargetGroupConfiguration').spec.defaultConfiguration.healthCheckConfig).toBeUndefined();
    // ELB API defaults: every 30 s, healthy after 5 = 150 s before the ALB sends traffic.
    expect(unmirrored.service.budget.minReadySeconds - mirrored.service.budget.minReadySeconds).toBe(150 - 10);
  });

  test('GKE: a GCPBackendPolicy with the derived drainingTimeoutSec (GKE defaults to 0) and a HealthCheckPolicy mirroring the probe', () => {
    const common = baseProps({ name: 'store', port: 8080, healthCheckPath: '/healthz', loadBalancer: LoadBalancer.gkeIngress() });
    const viaIngress = synthIn(common);
    const { service, objects } = synthIn({
      ...common,
      loadBalancer: LoadBalancer.gkeIngress({ backendPolicyDefaults: { timeoutSec: 60, logging: { enabled: true } } }),
      gateway: { name: 'external', create: true },
    });
    validateObjects(objects);
    expect(objects.map((o) => o.kind).sort()).toEqual(['Deployment', 'GCPBackendPolicy', 'Gateway', 'HTTPRoute', 'HealthCheckPolicy', 'PodDisruptionBudget', 'Service']);
    expect(only(objects, 'Gateway').spec.gatewayClassName).toBe('gke-l7-global-external-managed');
    const policy = only(objects, 'GCPBackendPolicy');
    expect(policy.spec).toEqual({
      targetRef: { group: '', kind: 'Service', name: 'store' },
      default: {
        timeoutSec: 60,
        logging: { enabled: true },
        connectionDraining: { drainingTimeoutSec: only(viaIngress.objects, 'BackendConfig').spec.connectionDraining.drainingTimeoutSec },
      },
    });
    expect(policy.spec.default.connectionDraining.drainingTimeoutSec).toBeGreaterThan(0);
    const probe = container(objects).readinessProbe;
    expect(only(objects, 'HealthCheckPolicy').spec).toEqual({
      targetRef: { group: '', kind: 'Service', name: 'store' },
      default: {
        checkIntervalSec: probe.periodSeconds,
        timeoutSec: probe.timeoutSeconds,
        healthyThreshold: probe.successThreshold,
        unhealthyThreshold: probe.failureThreshold,
        config: { type: 'HTTP', httpHealthCheck: { portSpecification: 'USE_FIXED_PORT', port: 8080, requestPath: '/healthz' } },
      },
    });
    expect(only(objects, 'Service').spec.type).toBe('ClusterIP');
    expect(only(objects, 'Service').metadata.annotations).toBeUndefined();
    const shutdown = (text: string) => text.split('Launch timeline')[0];
    expect(shutdown(service.budget.describe())).toBe(shutdown(viaIngress.service.budget.describe()));
    // Not confirmed that GKE gates Gateway backends: the launch waits out registration instead.
    expect(service.budget.describe()).toContain('minReadySeconds 70 elapsed (registration 70s)');
    expect(only(objects, 'Deployment').spec.minReadySeconds).toBe(70);
  });

  test('GKE: a second GCPBackendPolicy for the same Service is refused at synth; one for another Service is not', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'test', { namespace: 'shop' });
    new GracefulWebService(chart, 'web', baseProps({ name: 'store', loadBalancer: LoadBalancer.gkeIngress(), gateway: { name: 'external' } }));
    const policy = (name: string, service: string) => new ApiObject(chart, name, {
      apiVersion: 'networking.gke.io/v1',
      kind: 'GCPBackendPolicy',
      metadata: { name },
      spec: { targetRef: { group: '', kind: 'Service', name: service }, default: { timeoutSec: 90 } },
    });
    policy('other', 'another-service');
    expect(() => app.synthYaml()).not.toThrow();
    policy('mine', 'store');
    expect(() => app.synthYaml()).toThrow(/test\/mine: a second GCPBackendPolicy for Service "store": test\/web\/GCPBackendPolicy owns/);
  });

  test.each([
    ['connectionDraining', { connectionDraining: { drainingTimeoutSec: 5 } }, /backendPolicyDefaults.connectionDraining: use loadBalancer.connectionDrainingTimeout/],
    ['an unknown field', { timeout: 60 }, /backendPolicyDefaults.timeout is not a GCPBackendPolicy spec.default field/],
  ])('GKE: backendPolicyDefaults with %s is refused', (_what, defaults, message) => {
    expect(() => synthIn(baseProps({ loadBalancer: LoadBalancer.gkeIngress({ backendPolicyDefaults: defaults }), gateway: { name: 'g' } })))
      .toThrow(message);
  });

  test('GKE: a connectionDrainingTimeout below D + S is refused for the Gateway as for the Ingress', () => {
    expect(() => synthIn(baseProps({
      loadBalancer: LoadBalancer.gkeIngress({ connectionDrainingTimeout: Duration.seconds(10) }), gateway: { name: 'g' },
    }))).toThrow(/test\/web: loadBalancer.connectionDrainingTimeout \(10s\) must be at least deregistrationDelay \(60s\) \+ drainTimeout \(30s\) = 90s/);
  });
});

describe('gateway: the same numbers as the Ingress path, for any budget', () => {
  const budgets = fc.record({ d: fc.integer({ min: 1, max: 2000 }), s: fc.integer({ min: 1, max: 2000 }) });
  const outcome = (make: () => KubeObject[], read: (o: KubeObject[]) => number): number | string => {
    try {
      return read(make());
    } catch (error) {
      return (error as Error).message;
    }
  };

  test('AWS: the TargetGroupConfiguration deregistration delay equals the Ingress annotation\'s, and is at least D + S', () => {
    fc.assert(fc.property(budgets, ({ d, s }) => {
      const props = baseProps({
        loadBalancer: LoadBalancer.awsAlb(), shutdown: { deregistrationDelay: Duration.seconds(d), drainTimeout: Duration.seconds(s) },
      });
      const viaIngress = outcome(() => synthIn(props).objects,
        (o) => Number(only(o, 'Ingress').metadata.annotations['alb.ingress.kubernetes.io/target-group-attributes'].split('=')[1]));
      const viaGateway = outcome(() => synthIn({ ...props, gateway: { name: 'g' } }).objects,
        (o) => Number(attributes(only(o, 'TargetGroupConfiguration'))['deregistration_delay.timeout_seconds']));
      expect(viaGateway).toEqual(viaIngress);
      if (typeof viaGateway === 'number') {
        expect(viaGateway).toBeGreaterThanOrEqual(d + s);
        expect(viaGateway).toBeLessThanOrEqual(3600);
      } else {
        expect(d + s).toBeGreaterThan(3600);
      }
    }), { numRuns: 60 });
  });

  test('GKE: the GCPBackendPolicy drainingTimeoutSec equals the BackendConfig\'s, and is at least D + S', () => {
    fc.assert(fc.property(budgets, ({ d, s }) => {
      const props = baseProps({
        loadBalancer: LoadBalancer.gkeIngress(), shutdown: { deregistrationDelay: Duration.seconds(d), drainTimeout: Duration.seconds(s) },
      });
      const viaIngress = outcome(() => synthIn(props).objects, (o) => only(o, 'BackendConfig').spec.connectionDraining.drainingTimeoutSec);
      const viaGateway = outcome(() => synthIn({ ...props, gateway: { name: 'g' } }).objects,
        (o) => only(o, 'GCPBackendPolicy').spec.default.connectionDraining.drainingTimeoutSec);
      expect(viaGateway).toEqual(viaIngress);
      if (typeof viaGateway === 'number') expect(viaGateway).toBeGreaterThanOrEqual(d + s);
    }), { numRuns: 60 });
  });

  test('two services creating the same Gateway are refused at synth: create it once and attach the others', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c', { namespace: 'shop' });
    new GracefulWebService(chart, 'a', baseProps({ name: 'a', loadBalancer: LoadBalancer.gkeIngress(), gateway: { name: 'g', create: true } }));
    new GracefulWebService(chart, 'b', baseProps({ name: 'b', loadBalancer: LoadBalancer.gkeIngress(), gateway: { name: 'g', create: true } }));
    expect(() => app.synthYaml()).toThrow(/Gateway "g" in namespace "shop" is emitted twice in one app: by c\/a\/Gateway .* and by c\/b\/Gateway/);
  });
});

describe('gateway refusals', () => {
  test.each([
    ['Alibaba Cloud ALB', LoadBalancer.alibabaAlb(), /gateway is not supported with Alibaba Cloud ALB: ACK serves the Gateway API from ALB Ingress Controller 2.17.0, .*AlbServerGroup.*Leave gateway out to emit the ALB Ingress/],
    ['Tencent Cloud CLB', LoadBalancer.tencentClb(), /gateway is not supported with Tencent Cloud CLB: TKE has no native CLB controller.*Leave gateway out to emit the CLB Ingress/],
  ])('%s is refused with the documented alternative, and nothing is left in the chart', (_name, lb, message) => {
    const chart = new Chart(Testing.app(), 'test');
    expect(() => new GracefulWebService(chart, 'web', baseProps({ loadBalancer: lb, gateway: { name: 'g' } }))).toThrow(message);
    expect(Testing.synth(chart)).toEqual([]);
  });

  test('a load balancer implemented outside the library is refused', () => {
    class Custom implements ILoadBalancer {
      public readonly displayName = 'Custom LB';
      public readonly defaultDeregistrationDelay = Duration.seconds(5);
      public launch(): LoadBalancerLaunch { return { gated: false, registrationDelay: Duration.seconds(5) }; }
      public bind(_scope: Construct, _options: LoadBalancerBindOptions): LoadBalancerConfig { return { serviceType: kplus.ServiceType.CLUSTER_IP }; }
    }
    expect(() => synth(baseProps({ loadBalancer: new Custom(), gateway: { name: 'g' } })))
      .toThrow(/test\/web: gateway is not supported with Custom LB: .*LoadBalancer.awsAlb\(\) and LoadBalancer.gkeIngress\(\)/);
  });

  test('a provider settings error still reads as the provider\'s', () => {
    expect(() => synth(baseProps({ loadBalancer: LoadBalancer.awsAlb({ ingressClassName: 'Bad_Name' }), gateway: { name: 'g' } })))
      .toThrow(/test\/web: loadBalancer.ingressClassName "Bad_Name"/);
  });

  test.each<[string, Partial<GracefulWebServiceProps>, RegExp]>([
    ['ingressAnnotations', { ingressAnnotations: { a: 'b' }, gateway: { name: 'g' } }, /ingressAnnotations is set together with gateway/],
    ['gatewayClassName without create', { gateway: { name: 'g', gatewayClassName: 'c' } }, /gateway.gatewayClassName is set but gateway.create is not/],
    ['listenerPort without create', { gateway: { name: 'g', listenerPort: 80 } }, /gateway.listenerPort is set but gateway.create is not/],
    ['namespace with create', { gateway: { name: 'g', namespace: 'infra', create: true } }, /gateway.namespace is set together with gateway.create/],
    ['a bad Gateway name', { gateway: { name: 'Edge_GW' } }, /gateway.name "Edge_GW" must be a lower-case DNS subdomain name/],
    ['a bad listener port', { gateway: { name: 'g', create: true, listenerPort: 70000 } }, /gateway.listenerPort must be an integer from 1 to 65535, got 70000/],
  ])('%s is refused', (_what, overrides, message) => {
    expect(() => synth(baseProps({ loadBalancer: LoadBalancer.gkeIngress(), ...overrides }))).toThrow(message);
  });

  test('AWS needs the GatewayClass named to create a Gateway; GKE refuses a class that is not its own', () => {
    expect(() => synth(baseProps({ loadBalancer: LoadBalancer.awsAlb(), gateway: { name: 'g', create: true } })))
      .toThrow(/test\/web: gateway.gatewayClassName is required with gateway.create/);
    expect(() => synth(baseProps({ loadBalancer: LoadBalancer.gkeIngress(), gateway: { name: 'g', create: true, gatewayClassName: 'istio' } })))
      .toThrow(/gateway.gatewayClassName "istio" is not one of GKE's Gateway classes/);
  });
});

describe('the strict checks can fail', () => {
  const objects = () => synthIn(baseProps({ name: 'web', loadBalancer: LoadBalancer.awsAlb(), gateway: { name: 'edge', create: true, gatewayClassName: 'aws-alb' } })).objects;

  test('every Gateway API kind the library emits has a committed CRD and passes it', () => {
    const all = [
      ...objects(),
      ...synthIn(baseProps({ name: 'web', loadBalancer: LoadBalancer.gkeIngress(), gateway: { name: 'g', create: true } })).objects,
    ];
    const kinds = new Set(all.map((o) => o.kind).filter((k) => GATEWAY_KINDS.includes(k)));
    expect([...kinds].sort()).toEqual([...GATEWAY_KINDS].sort());
    for (const o of all.filter((x) => GATEWAY_KINDS.includes(x.kind))) expect(crdErrors(o)).toEqual([]);
  });

  test.each<[string, (o: KubeObject[]) => void, RegExp]>([
    ['an unknown TargetGroupConfiguration field', (o) => { only(o, 'TargetGroupConfiguration').spec.defaultConfiguration.deregistrationDelay = 30; },
      /defaultConfiguration.deregistrationDelay: unknown field/],
    ['a value outside an enum', (o) => { only(o, 'TargetGroupConfiguration').spec.defaultConfiguration.targetType = 'pod'; }, /"pod" is not one of/],
    ['an attribute value that is not a string', (o) => { only(o, 'TargetGroupConfiguration').spec.defaultConfiguration.targetGroupAttributes[0].value = 30; },
      /targetGroupAttributes\[0\].value: must be string/],
    ['an unknown HTTPRoute field', (o) => { only(o, 'HTTPRoute').spec.rules[0].backend = {}; }, /rules\[0\].backend: unknown field/],
    ['a backendRef to a missing Service', (o) => { only(o, 'HTTPRoute').spec.rules[0].backendRefs[0].name = 'nope'; },
      /backend Service nope does not exist/],
    ['a backendRef to a port the Service lacks', (o) => { only(o, 'HTTPRoute').spec.rules[0].backendRefs[0].port = 81; }, /has no port 81/],
    ['a policy aimed at another Service', (o) => { only(o, 'TargetGroupConfiguration').spec.targetReference.name = 'other'; },
      /TargetGroupConfiguration web: Service other does not exist/],
    ['a policy in another namespace than its Service', (o) => { only(o, 'TargetGroupConfiguration').metadata.namespace = 'elsewhere'; },
      /Service web does not exist in its namespace/],
    ['a parentRef to a listener the Gateway lacks', (o) => { only(o, 'HTTPRoute').spec.parentRefs[0].sectionName = 'https'; }, /has no listener https/],
  ])('%s fails', (_what, mutate, message) => {
    const emitted = objects();
    expect(() => validateObjects(emitted)).not.toThrow();
    mutate(emitted);
    expect(() => validateObjects(emitted)).toThrow(message);
  });

  test('a GKE policy with a draining timeout over the CRD maximum fails the schema', () => {
    const gke = synthIn(baseProps({ loadBalancer: LoadBalancer.gkeIngress(), gateway: { name: 'g' } })).objects;
    only(gke, 'GCPBackendPolicy').spec.default.connectionDraining.drainingTimeoutSec = 3601;
    expect(() => validateGatewayReferences(gke)).not.toThrow();
    expect(() => validateObjects(gke)).toThrow(/drainingTimeoutSec: 3601 is above the maximum 3600/);
  });
});
