// The LagMeter construct: the meter behind each provider with exactly the Service, Ingress and
// provider objects a GracefulWebService of the same name gets, an httpGet preStop to /prestop,
// the server from a ConfigMap, every object valid against its schema.
import * as fs from 'node:fs';
import { Chart, Duration, Testing } from 'cdk8s';
import { GracefulWebService, ILoadBalancer, LagMeter, LagMeterProps, LoadBalancer } from '../../src';
import { deriveShutdownBudget } from '../../src/budget';
import { METER_SERVER_FILE } from '../../src/lag-meter';
import { container, KubeObject, only, validateObjects } from '../util';

const PROVIDERS: [string, () => ILoadBalancer][] = [
  ['alibaba-alb', () => LoadBalancer.alibabaAlb()],
  ['tencent-clb', () => LoadBalancer.tencentClb()],
  ['aws-alb', () => LoadBalancer.awsAlb()],
  ['gke-ingress', () => LoadBalancer.gkeIngress()],
];

function synthMeter(props: LagMeterProps): { meter: LagMeter; objects: KubeObject[] } {
  const chart = new Chart(Testing.app(), 'test');
  const meter = new LagMeter(chart, 'meter', props);
  return { meter, objects: Testing.synth(chart) as KubeObject[] };
}

function synthService(lb: ILoadBalancer): KubeObject[] {
  const chart = new Chart(Testing.app(), 'test');
  new GracefulWebService(chart, 'meter', { name: 'lag-meter', image: 'example/web:1.0', loadBalancer: lb, port: 8080, replicas: 2, healthCheckPath: '/ready', host: 'meter.example.com' });
  return Testing.synth(chart) as KubeObject[];
}

describe.each(PROVIDERS)('LagMeter behind %s', (_id, lb) => {
  const { meter, objects } = synthMeter({ loadBalancer: lb(), host: 'meter.example.com' });

  test('every object is valid; the routing objects equal a real service\'s', () => {
    validateObjects(objects);
    const real = synthService(lb());
    const routing = (list: KubeObject[]) => list.filter((o) => o.kind !== 'Deployment' && o.kind !== 'ConfigMap');
    expect(routing(objects)).toEqual(routing(real));
    // The Deployment carries the same budget annotations (the LB's settings come from them).
    expect(only(objects, 'Deployment').metadata.annotations).toEqual(only(real, 'Deployment').metadata.annotations);
  });

  test('the pod runs the ConfigMap\'s server in the Node image, preStop is an httpGet to /prestop held for the wait', () => {
    const c = container(objects);
    expect(c.image).toBe('node:26-alpine');
    expect(c.command).toEqual(['node', '/lag-meter/meter-server.js']);
    expect(c.lifecycle).toEqual({ preStop: { httpGet: { path: '/prestop', port: 8080 } } });
    expect(c.readinessProbe.httpGet).toMatchObject({ path: '/ready', port: 8080 });
    const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toEqual({
      METER_PORT: '8080',
      METER_WAIT_SECONDS: '180',
      METER_READINESS_PATH: '/ready',
      METER_READY_AFTER: '3', // the startup probe's success, then the readiness probe's 2
      METER_POD_NAME: { fieldRef: { fieldPath: 'metadata.name' } },
    });
    expect(c.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true, readOnlyRootFilesystem: true });
    const pod = only(objects, 'Deployment').spec.template.spec;
    const mount = c.volumeMounts.find((m: any) => m.mountPath === '/lag-meter');
    const volume = pod.volumes.find((v: any) => v.name === mount.name);
    const configMap = only(objects, 'ConfigMap');
    expect(volume.configMap.name).toBe(configMap.metadata.name);
    expect(configMap.data['meter-server.js']).toBe(fs.readFileSync(METER_SERVER_FILE, 'utf8'));
    // The grace period outlasts the hook, so the kubelet never abandons it.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(180);
    expect(meter.waitSeconds).toBe(180);
  });
});

test('a configurable wait; one shorter than the real service\'s preStop wait is refused, naming path, prop and numbers', () => {
  const { objects } = synthMeter({ loadBalancer: LoadBalancer.awsAlb(), wait: Duration.seconds(300), name: 'm' });
  expect(container(objects).env.find((e: any) => e.name === 'METER_WAIT_SECONDS').value).toBe('300');
  expect(only(objects, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(300 + 30 + 15); // wait + S + M, as check expects
  const realWait = deriveShutdownBudget({ defaultDeregistrationDelay: LoadBalancer.awsAlb().defaultDeregistrationDelay }).preStopSleepSeconds;
  expect(() => synthMeter({ loadBalancer: LoadBalancer.awsAlb(), wait: Duration.seconds(realWait - 1) }))
    .toThrow(`test/meter: wait is ${realWait - 1} s, shorter than the preStop wait a real service with these budgets gets (${realWait} s)`);
});

test('wrong prop types and the hook path as readiness path are refused', () => {
  expect(() => synthMeter({ loadBalancer: LoadBalancer.awsAlb(), wait: 180 as any })).toThrow(/^test\/meter: wait must be a Duration/);
  expect(() => synthMeter({ loadBalancer: LoadBalancer.awsAlb(), healthCheckPath: '/prestop' })).toThrow('test/meter: healthCheckPath must not be /prestop');
});
