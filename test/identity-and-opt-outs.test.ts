// Stable identity (`name`), one prop per security opt-out, the startup budget, and the
// construct path at the front of every error.
import { Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { GracefulWebService, GracefulWebServiceProps, LoadBalancer, PreStopAction } from '../src';
import { baseProps, container, KubeObject, only, synth, validateObjects } from './util';

const NAME = 'app.kubernetes.io/name';
const INSTANCE = 'app.kubernetes.io/instance';
const ADDRESS = 'cdk8s.io/metadata.addr';

/** Synthesizes one service built by `place` inside a fresh chart named `shop`. */
function synthIn(place: (chart: Chart) => void): KubeObject[] {
  const chart = new Chart(Testing.app(), 'shop');
  place(chart);
  return Testing.synth(chart) as KubeObject[];
}

describe('stable identity: name', () => {
  const props = baseProps({ name: 'cart', loadBalancer: LoadBalancer.tencentClb({ tkeServiceConfig: true }) });

  test('every object is named exactly name, and carries the standard labels; so do the pods', () => {
    const objects = synthIn((chart) => new GracefulWebService(chart, 'cart', props));
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/cart', 'Ingress/cart', 'PodDisruptionBudget/cart', 'Service/cart', 'TkeServiceConfig/cart',
    ]);
    for (const o of objects) {
      expect(o.metadata.labels).toMatchObject({ [NAME]: 'cart', [INSTANCE]: 'cart' });
    }
    expect(only(objects, 'Deployment').spec.template.metadata.labels).toMatchObject({ [NAME]: 'cart', [INSTANCE]: 'cart' });
    expect(only(objects, 'Ingress').metadata.annotations['ingress.cloud.tencent.com/tke-service-config']).toBe('cart');
    validateObjects(objects);
  });

  test('a GKE BackendConfig carries the name and labels too', () => {
    const objects = synthIn((chart) => new GracefulWebService(chart, 'cart', { ...props, loadBalancer: LoadBalancer.gkeIngress() }));
    const backendConfig = only(objects, 'BackendConfig');
    expect(backendConfig.metadata).toMatchObject({ name: 'cart', labels: { [NAME]: 'cart', [INSTANCE]: 'cart' } });
    expect(only(objects, 'Service').metadata.annotations['cloud.google.com/backend-config']).toContain('"cart"');
    validateObjects(objects);
  });

  test('Deployment, Service and PodDisruptionBudget select on the two standard labels only', () => {
    const objects = synthIn((chart) => new GracefulWebService(chart, 'cart', { ...props, labels: { team: 'shop' } }));
    const selector = { [NAME]: 'cart', [INSTANCE]: 'cart' };
    expect(only(objects, 'Deployment').spec.selector).toEqual({ matchLabels: selector });
    expect(only(objects, 'Service').spec.selector).toEqual(selector);
    expect(only(objects, 'PodDisruptionBudget').spec.selector).toEqual({ matchLabels: selector });
    for (const o of objects) {
      expect(JSON.stringify(o.spec.selector ?? {})).not.toContain(ADDRESS);
    }
    validateObjects(objects);
  });

  test('moving the service to another scope changes nothing but cdk8s-plus\'s pod address label', () => {
    const withoutAddress = (objects: KubeObject[]) => objects.map((o) => {
      const copy = JSON.parse(JSON.stringify(o));
      if (copy.kind === 'Deployment') delete copy.spec.template.metadata.labels[ADDRESS];
      return copy;
    });
    const direct = synthIn((chart) => new GracefulWebService(chart, 'cart', props));
    const moved = synthIn((chart) => new GracefulWebService(new Construct(new Construct(chart, 'team'), 'backend'), 'basket', props));
    expect(withoutAddress(moved)).toEqual(withoutAddress(direct));
    expect(only(moved, 'Deployment').spec.selector).toEqual(only(direct, 'Deployment').spec.selector);
  });

  test('cdk8s-plus helpers that select the Deployment\'s pods still find them', () => {
    const chart = new Chart(Testing.app(), 'shop');
    const cart = new GracefulWebService(chart, 'cart', props);
    new kplus.Service(chart, 'extra', { selector: cart.deployment, ports: [{ port: 80 }] });
    validateObjects(Testing.synth(chart) as KubeObject[]);
  });

  test('without name, moving the service changes the selector: the refactoring trap the name prop avoids', () => {
    const unnamed = baseProps();
    const direct = only(synthIn((chart) => new GracefulWebService(chart, 'cart', unnamed)), 'Deployment');
    const moved = only(synthIn((chart) => new GracefulWebService(new Construct(chart, 'team'), 'cart', unnamed)), 'Deployment');
    expect(Object.keys(direct.spec.selector.matchLabels)).toEqual([ADDRESS]);
    expect(moved.spec.selector).not.toEqual(direct.spec.selector);
    expect(moved.metadata.name).not.toEqual(direct.metadata.name);
  });

  test('two services with the same name in one chart are an error; in two charts they are fine', () => {
    const chart = new Chart(Testing.app(), 'shop');
    new GracefulWebService(chart, 'cart', baseProps({ name: 'cart' }));
    expect(() => new GracefulWebService(new Construct(chart, 'v2'), 'cart', baseProps({ name: 'cart' })))
      .toThrow('shop/v2/cart: name "cart" is already used by shop/cart in chart shop');
    const app = Testing.app();
    new GracefulWebService(new Chart(app, 'a'), 'cart', baseProps({ name: 'cart' }));
    expect(() => new GracefulWebService(new Chart(app, 'b'), 'cart', baseProps({ name: 'cart' }))).not.toThrow();
  });

  test('a refused service frees its name again', () => {
    const chart = new Chart(Testing.app(), 'shop');
    expect(() => new GracefulWebService(chart, 'first', baseProps({ name: 'cart', ingressAnnotations: { 'bad key': 'x' } }))).toThrow();
    expect(() => new GracefulWebService(chart, 'second', baseProps({ name: 'cart' }))).not.toThrow();
  });

  test.each(['Cart', 'cart_1', '1cart', 'cart-', '', 'a'.repeat(64)])('refuses the name %j', (name) => {
    expect(() => synth(baseProps({ name }))).toThrow(/^test\/web: name ".*" is not a valid name: 1 to 63 lower-case letters/);
  });

  test('a user label that contradicts the name is refused; one that agrees is fine', () => {
    expect(() => synth(baseProps({ name: 'cart', labels: { [NAME]: 'basket' } })))
      .toThrow('test/web: labels["app.kubernetes.io/name"] is "basket", but name "cart" sets it to "cart"');
    expect(() => synth(baseProps({ name: 'cart', labels: { [NAME]: 'cart' } }))).not.toThrow();
  });
});

describe('one prop per security opt-out', () => {
  test('defaults: non-root pod and container, read-only root filesystem', () => {
    const { objects } = synth(baseProps());
    expect(only(objects, 'Deployment').spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(container(objects).securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true });
  });

  test('runAsRoot lifts the non-root rule on the pod and the container together', () => {
    const { objects } = synth(baseProps({ runAsRoot: true }));
    expect(only(objects, 'Deployment').spec.template.spec.securityContext.runAsNonRoot).toBe(false);
    expect(container(objects).securityContext).toMatchObject({ runAsNonRoot: false, readOnlyRootFilesystem: true });
    validateObjects(objects);
  });

  test('readOnlyRootFilesystem: false makes the root filesystem writable and keeps non-root', () => {
    const { objects } = synth(baseProps({ readOnlyRootFilesystem: false }));
    expect(container(objects).securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: false });
  });

  test('the security-context escape hatches keep their other settings', () => {
    const { objects } = synth(baseProps({ runAsRoot: true, podSecurityContext: { fsGroup: 2000 }, containerSecurityContext: { user: 0 } }));
    expect(only(objects, 'Deployment').spec.template.spec.securityContext).toMatchObject({ fsGroup: 2000, runAsNonRoot: false });
    expect(container(objects).securityContext).toMatchObject({ runAsUser: 0, runAsNonRoot: false });
  });

  test.each([
    [{ podSecurityContext: { ensureNonRoot: false } }, 'podSecurityContext.ensureNonRoot is false but runAsRoot is false: set runAsRoot'],
    [{ containerSecurityContext: { ensureNonRoot: false } }, 'containerSecurityContext.ensureNonRoot is false but runAsRoot is false'],
    [{ runAsRoot: true, podSecurityContext: { ensureNonRoot: true } }, 'podSecurityContext.ensureNonRoot is true but runAsRoot is true'],
    [{ containerSecurityContext: { readOnlyRootFilesystem: false } },
      'containerSecurityContext.readOnlyRootFilesystem is false but readOnlyRootFilesystem is true'],
  ] as Array<[Partial<GracefulWebServiceProps>, string]>)('a contradicting escape hatch is refused: %j', (props, message) => {
    expect(() => synth(baseProps(props))).toThrow(`test/web: ${message}`);
  });

  test('an agreeing escape hatch is accepted', () => {
    expect(() => synth(baseProps({ runAsRoot: true, podSecurityContext: { ensureNonRoot: false } }))).not.toThrow();
  });
});

describe('the startup budget', () => {
  test('default: an HTTP startup probe on the health-check path that allows 60 s', () => {
    const { objects, service } = synth(baseProps({ healthCheckPath: '/healthz' }));
    expect(container(objects).startupProbe).toEqual({
      httpGet: { path: '/healthz', port: 80, scheme: 'HTTP' },
      periodSeconds: 5,
      timeoutSeconds: 2,
      failureThreshold: 12,
      successThreshold: 1,
    });
    expect(service.budget.startupSeconds).toBe(60);
  });

  test('a slow starter gets its startup timeout, rounded up to whole probe periods, in the deadline too', () => {
    const { objects, service } = synth(baseProps({ startupTimeout: Duration.minutes(9), healthCheck: { interval: Duration.seconds(7) } }));
    expect(container(objects).startupProbe).toMatchObject({ periodSeconds: 7, failureThreshold: 78 });
    expect(service.budget.startupSeconds).toBe(7 * 78);
    // startup 546 + readiness 14 + registration (14 + 15) + grace (15 + 5 + 30 + 5) + 2
    expect(only(objects, 'Deployment').spec.progressDeadlineSeconds).toBe(546 + 14 + 29 + 55 + 2);
    expect(service.budget.describe()).toContain('t=546s  startup probe passed at the latest (startupTimeout 546s)');
  });

  test('startupProbe: false emits no startup probe at all (not even cdk8s-plus\'s TCP default)', () => {
    const { objects, service } = synth(baseProps({ startupProbe: false }));
    expect(container(objects).startupProbe).toBeUndefined();
    expect(container(objects).readinessProbe).toBeDefined();
    expect(service.budget.startupSeconds).toBe(0);
    expect(service.budget.describe()).not.toContain('startup probe');
    validateObjects(objects);
  });
});

describe('every error starts with the construct path', () => {
  const cases: Array<[string, Partial<GracefulWebServiceProps>]> = [
    ['the construct\'s own checks', { port: 0 }],
    ['the budget', { terminationGracePeriod: Duration.seconds(1) }],
    ['a provider\'s launch() checks', { loadBalancer: LoadBalancer.alibabaAlb({ readinessGate: true }) }],
    ['a provider\'s bind() checks', { loadBalancer: LoadBalancer.alibabaAlb({ connectionDrainTimeout: Duration.seconds(1) }) }],
    ['the health check', { healthCheck: { healthyThreshold: 0 } }],
    ['an AWS ALB setting refused by its constructor', { loadBalancer: LoadBalancer.awsAlb({ slowStartDuration: Duration.seconds(1) }) }],
    ['a GKE setting refused by its constructor', { loadBalancer: LoadBalancer.gkeIngress({ ingressClassName: 'nginx' }) }],
  ];
  test.each(cases)('%s', (_name, props) => {
    const chart = new Chart(Testing.app(), 'shop');
    const nested = new Construct(chart, 'backend');
    expect(() => new GracefulWebService(nested, 'cart', baseProps(props))).toThrow(/^shop\/backend\/cart: \S/);
  });

  test('the load-balancer factories defer a refusal to the service that uses them', () => {
    expect(() => LoadBalancer.awsAlb({ slowStartDuration: Duration.seconds(1) })).not.toThrow();
    expect(() => LoadBalancer.alibabaAlb({ readinessGate: true })).not.toThrow();
  });

  test('five services in one chart: the error names the one that failed', () => {
    const chart = new Chart(Testing.app(), 'shop');
    for (const id of ['a', 'b', 'c', 'd']) new GracefulWebService(chart, id, baseProps());
    expect(() => new GracefulWebService(chart, 'e', baseProps({ preStopAction: PreStopAction.SLEEP_ACTION, preStopCommand: ['x'] })))
      .toThrow(/^shop\/e: preStopCommandDuration is required/);
  });
});

describe('the strict checks in test/util.ts', () => {
  test('catch a label the API server would reject, even when it comes through an escape hatch', () => {
    const { service } = synth(baseProps({ name: 'cart' }));
    service.deployment.metadata.addLabel('bad key', 'x');
    const objects = Testing.synth(Chart.of(service)) as KubeObject[];
    expect(() => validateObjects(objects)).toThrow('Deployment cart: label "bad key": "x" breaks Kubernetes\' label rules');
  });

  test('catch a Service name that is not an RFC 1035 label', () => {
    const { objects } = synth(baseProps({ name: 'cart' }));
    only(objects, 'Service').metadata.name = '1cart';
    expect(() => validateObjects(objects)).toThrow('Service 1cart: metadata.name is not a valid RFC 1035 label');
  });
});
