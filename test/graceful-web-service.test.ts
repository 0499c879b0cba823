import { Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { GracefulWebService, LoadBalancer } from '../src';
import { baseProps, container, only, synth, validateObjects } from './util';

describe('GracefulWebService: derived shutdown', () => {
  test('Alibaba ALB defaults: preStop sleep 20, grace 55', () => {
    const { service, objects } = synth(baseProps({ loadBalancer: LoadBalancer.alibabaAlb() }));
    expect(container(objects).lifecycle.preStop).toEqual({ exec: { command: ['/bin/sh', '-c', 'sleep 20'] } });
    expect(only(objects, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(55);
    expect(service.budget.preStopSleep.toSeconds()).toBe(20);
    expect(service.budget.terminationGracePeriod.toSeconds()).toBe(55);
    validateObjects(objects);
  });

  test('Tencent CLB defaults: 15 / 50, and 15 / 70 with a 50 s drain', () => {
    const defaults = synth(baseProps({ loadBalancer: LoadBalancer.tencentClb() })).objects;
    expect(container(defaults).lifecycle.preStop.exec.command).toEqual(['/bin/sh', '-c', 'sleep 15']);
    expect(only(defaults, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(50);

    const meeting = synth(baseProps({
      loadBalancer: LoadBalancer.tencentClb(), shutdown: { drainTimeout: Duration.seconds(50) },
    })).objects;
    expect(container(meeting).lifecycle.preStop.exec.command).toEqual(['/bin/sh', '-c', 'sleep 15']);
    expect(only(meeting, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(70);
    validateObjects(defaults);
    validateObjects(meeting);
  });

  test('drainsOnStopSignal: false moves the drain into the preStop wait', () => {
    const { objects } = synth(baseProps({ shutdown: { drainsOnStopSignal: false } }));
    expect(container(objects).lifecycle.preStop.exec.command).toEqual(['/bin/sh', '-c', 'sleep 50']);
    expect(only(objects, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(55);
  });

  test('a zero wait emits no preStop hook at all', () => {
    const { objects } = synth(baseProps({ shutdown: { deregistrationDelay: Duration.seconds(0), safetyMargin: Duration.seconds(0) } }));
    expect(container(objects).lifecycle).toBeUndefined();
    expect(only(objects, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(30);
    validateObjects(objects);
  });

  test('a zero deregistration delay still waits the default safety margin', () => {
    const { objects } = synth(baseProps({ shutdown: { deregistrationDelay: Duration.seconds(0) } }));
    expect(container(objects).lifecycle.preStop.exec.command).toEqual(['/bin/sh', '-c', 'sleep 5']);
    expect(only(objects, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(40);
    validateObjects(objects);
  });

  test('an explicit grace period is used as given when it is long enough', () => {
    const { objects } = synth(baseProps({ terminationGracePeriod: Duration.minutes(2) }));
    expect(only(objects, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(120);
  });

  test('the budget is recorded on the Deployment', () => {
    const { objects } = synth(baseProps({ shutdown: { drainTimeout: Duration.seconds(20), drainsOnStopSignal: false } }));
    expect(only(objects, 'Deployment').metadata.annotations).toEqual({
      'graceful-web-service.cdk8s.io/deregistration-delay-seconds': '15',
      'graceful-web-service.cdk8s.io/drain-timeout-seconds': '20',
      'graceful-web-service.cdk8s.io/safety-margin-seconds': '5',
      'graceful-web-service.cdk8s.io/drains-on-stop-signal': 'false',
    });
    expect(GracefulWebService.BUDGET_ANNOTATION_PREFIX).toBe('graceful-web-service.cdk8s.io');
  });
});

describe('GracefulWebService: workload, Service and Ingress', () => {
  test('defaults: 3 replicas on port 80, readiness on /, rolling with maxUnavailable 0', () => {
    const { objects } = synth(baseProps());
    const deployment = only(objects, 'Deployment');
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } });
    const c = container(objects);
    expect(c.image).toBe('example/web:1.0');
    expect(c.ports).toEqual([{ containerPort: 80 }]);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/', port: 80, scheme: 'HTTP' });
    const svc = only(objects, 'Service');
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 80 }]);
    const ingress = only(objects, 'Ingress');
    expect(ingress.spec.rules).toEqual([{
      http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc.metadata.name, port: { number: 80 } } } }] },
    }]);
    validateObjects(objects);
  });

  test('host, path, port, replicas, health check path and maxSurge', () => {
    const { objects } = synth(baseProps({
      host: 'demo.ingress.top',
      path: '/tea',
      port: 8080,
      replicas: 5,
      healthCheckPath: '/healthz',
      maxSurge: kplus.PercentOrAbsolute.absolute(2),
    }));
    const rule = only(objects, 'Ingress').spec.rules[0];
    expect(rule.host).toBe('demo.ingress.top');
    expect(rule.http.paths[0].path).toBe('/tea');
    expect(rule.http.paths[0].backend.service.port).toEqual({ number: 8080 });
    const deployment = only(objects, 'Deployment');
    expect(deployment.spec.replicas).toBe(5);
    expect(deployment.spec.strategy.rollingUpdate).toEqual({ maxSurge: 2, maxUnavailable: 0 });
    expect(container(objects).readinessProbe.httpGet).toEqual({ path: '/healthz', port: 8080, scheme: 'HTTP' });
    validateObjects(objects);
  });

  test('env, resources, command, args, security contexts and writable paths reach the pod', () => {
    const { objects } = synth(baseProps({
      envVariables: { MODE: kplus.EnvValue.fromValue('prod') },
      resources: { cpu: { request: kplus.Cpu.millis(250), limit: kplus.Cpu.millis(500) } },
      command: ['/app/server'],
      args: ['--listen', ':80'],
      runAsRoot: true,
      podSecurityContext: { fsGroup: 2000 },
      writablePaths: ['/tmp', '/var/cache/app'],
    }));
    const c = container(objects);
    expect(c.env).toEqual([{ name: 'MODE', value: 'prod' }]);
    expect(c.resources.requests.cpu).toBe('250m');
    expect(c.resources.limits.cpu).toBe('500m');
    expect(c.command).toEqual(['/app/server']);
    expect(c.args).toEqual(['--listen', ':80']);
    expect(c.securityContext).toMatchObject({ runAsNonRoot: false, readOnlyRootFilesystem: true });
    expect(c.volumeMounts.map((m: any) => m.mountPath)).toEqual(['/tmp', '/var/cache/app']);
    const pod = only(objects, 'Deployment').spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: false, fsGroup: 2000 });
    expect(pod.volumes).toEqual(c.volumeMounts.map((m: any) => ({ name: m.name, emptyDir: {} })));
    validateObjects(objects);
  });

  test('labels reach every object and the pods; annotations reach their object', () => {
    const { objects } = synth(baseProps({
      labels: { team: 'tea' },
      podAnnotations: { 'prometheus.io/scrape': 'true' },
      ingressAnnotations: { 'alb.ingress.kubernetes.io/ssl-redirect': 'true' },
      serviceAnnotations: { 'example.com/owner': 'tea' },
    }));
    for (const o of objects) expect(o.metadata.labels).toMatchObject({ team: 'tea' });
    const pod = only(objects, 'Deployment').spec.template.metadata;
    expect(pod.labels).toMatchObject({ team: 'tea' });
    expect(pod.annotations).toEqual({ 'prometheus.io/scrape': 'true' });
    expect(only(objects, 'Ingress').metadata.annotations).toMatchObject({ 'alb.ingress.kubernetes.io/ssl-redirect': 'true' });
    expect(only(objects, 'Service').metadata.annotations).toEqual({ 'example.com/owner': 'tea' });
  });

  test('the Service selects exactly the pods of the Deployment', () => {
    const chart = new Chart(Testing.app(), 'test');
    new GracefulWebService(chart, 'a', baseProps());
    new GracefulWebService(chart, 'b', baseProps());
    const objects = Testing.synth(chart);
    const deployments = objects.filter((o) => o.kind === 'Deployment');
    const services = objects.filter((o) => o.kind === 'Service');
    expect(services[0].spec.selector).toEqual(deployments[0].spec.template.metadata.labels);
    expect(services[1].spec.selector).toEqual(deployments[1].spec.template.metadata.labels);
    expect(services[0].spec.selector).not.toEqual(services[1].spec.selector);
    validateObjects(objects as any);
  });

  test('escape hatches are the cdk8s-plus objects', () => {
    const { service } = synth(baseProps());
    expect(service.deployment).toBeInstanceOf(kplus.Deployment);
    expect(service.service).toBeInstanceOf(kplus.Service);
    expect(service.ingress).toBeInstanceOf(kplus.Ingress);
    expect(service.container).toBe(service.deployment.containers[0]);
    expect(service.port).toBe(80);
  });

  test('changes through the escape hatches reach the output', () => {
    const chart = new Chart(Testing.app(), 'test');
    const web = new GracefulWebService(chart, 'web', baseProps());
    web.container.env.addVariable('EXTRA', kplus.EnvValue.fromValue('1'));
    web.deployment.metadata.addLabel('tier', 'frontend');
    const objects = Testing.synth(chart);
    expect(objects[0].metadata.labels).toEqual({ tier: 'frontend' });
    expect(objects[0].spec.template.spec.containers[0].env).toEqual([{ name: 'EXTRA', value: '1' }]);
  });
});

describe('GracefulWebService: refused at synth, naming the prop and the numbers', () => {
  const cases: Array<[string, Partial<Parameters<typeof baseProps>[0]>, RegExp]> = [
    ['grace below D + M + S', { terminationGracePeriod: Duration.seconds(49) },
      /terminationGracePeriod \(49s\) must be at least deregistrationDelay \(15s\) \+ safetyMargin \(5s\) \+ drainTimeout \(30s\) = 50s/],
    ['non-finite drain', { shutdown: { drainTimeout: Duration.seconds(Infinity) } }, /shutdown\.drainTimeout must be a finite duration/],
    ['port 0', { port: 0 }, /port must be an integer from 1 to 65535, got 0/],
    ['port 65536', { port: 65536 }, /port must be an integer from 1 to 65535, got 65536/],
    ['fractional port', { port: 80.5 }, /port must be an integer from 1 to 65535, got 80.5/],
    ['zero replicas', { replicas: 0 }, /replicas must be a positive integer, got 0/],
    ['fractional replicas', { replicas: 1.5 }, /replicas must be a positive integer, got 1.5/],
    ['upper-case host', { host: 'Demo.Ingress.top' }, /host "Demo.Ingress.top" is not a valid host name/],
    ['host with a bad label', { host: 'demo..top' }, /host "demo..top" is not a valid host name: label ""/],
    ['IP address as host', { host: '10.0.0.1' }, /not an IP address/],
    ['host label over 63 characters', { host: `${'a'.repeat(64)}.com` }, /1-63 lower-case letters/],
    ['empty image', { image: '' }, /image must not be empty/],
    ['blank image', { image: '   ' }, /image must not be empty/],
    ['path without /', { path: 'tea' }, /path must start with "\/", got "tea"/],
    ['health check path without /', { healthCheckPath: 'healthz' }, /healthCheckPath must start with "\/"/],
    ['writable path without /', { writablePaths: ['tmp'] }, /writablePaths\[0\] must start with "\/"/],
    ['zero maxSurge', { maxSurge: kplus.PercentOrAbsolute.absolute(0) }, /maxSurge must be more than 0/],
    ['an annotation contradicting the provider', {
      loadBalancer: LoadBalancer.tencentClb(),
      ingressAnnotations: { 'ingress.cloud.tencent.com/direct-access': 'false' },
    }, /ingressAnnotations\["ingress.cloud.tencent.com\/direct-access"\] is "false", but the load balancer needs "true"/],
    ['class annotation together with ingressClassName', {
      ingressAnnotations: { 'kubernetes.io/ingress.class': 'alb' },
    }, /cannot be set together with spec.ingressClassName \("alb"\)/],
  ];

  test.each(cases)('%s', (_name, overrides, message) => {
    const chart = new Chart(Testing.app(), 'test');
    expect(() => new GracefulWebService(chart, 'web', baseProps(overrides))).toThrow(message);
    // Nothing half-written: the failed service left no objects in the chart.
    expect(Testing.synth(chart)).toEqual([]);
  });

  test('wildcard hosts are accepted', () => {
    const { objects } = synth(baseProps({ host: '*.example.com' }));
    expect(only(objects, 'Ingress').spec.rules[0].host).toBe('*.example.com');
    validateObjects(objects);
  });
});
