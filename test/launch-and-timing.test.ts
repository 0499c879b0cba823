// Seamless launch, LB/Kubernetes timing alignment, preStop flavours and evictions (issue 3).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { parseAllDocuments } from 'yaml';
import { AlibabaAlb, GracefulWebService, GracefulWebServiceProps, LoadBalancer, PreStopAction } from '../src';
import { baseProps, container, KubeObject, only, synth, validateObjects } from './util';

const ALB = 'alb.ingress.kubernetes.io';

/** Synthesizes through a real App into YAML files and parses them back: the final output. */
function synthYaml(props: GracefulWebServiceProps): KubeObject[] {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-yaml-'));
  try {
    const app = new App({ outdir });
    new GracefulWebService(new Chart(app, 'svc'), 'web', props);
    app.synth();
    const text = fs.readFileSync(path.join(outdir, 'svc.k8s.yaml'), 'utf8');
    return parseAllDocuments(text).map((d) => d.toJS() as KubeObject);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

describe('seamless launch', () => {
  test('ALB with direct access: readiness gate on the pods, no minReadySeconds needed', () => {
    const objects = synthYaml(baseProps({ loadBalancer: LoadBalancer.alibabaAlb({ directAccess: true }) }));
    const deployment = only(objects, 'Deployment');
    expect(deployment.spec.template.spec.readinessGates).toEqual([{ conditionType: 'target-health.alb.k8s.alibabacloud' }]);
    expect(deployment.spec.minReadySeconds).toBe(0);
    expect(AlibabaAlb.READINESS_GATE).toBe('target-health.alb.k8s.alibabacloud');
    validateObjects(objects);
  });

  test('ALB readiness gate opt-out: minReadySeconds covers registration instead', () => {
    const { service, objects } = synth(baseProps({ loadBalancer: LoadBalancer.alibabaAlb({ directAccess: true, readinessGate: false }) }));
    const deployment = only(objects, 'Deployment');
    expect(deployment.spec.template.spec.readinessGates).toBeUndefined();
    // 5 s interval x 2 healthy checks + 15 s ALB reconcile (the default D)
    expect(deployment.spec.minReadySeconds).toBe(25);
    expect(service.budget.minReadySeconds).toBe(25);
    expect(service.budget.launchGated).toBe(false);
  });

  test('a readiness gate on NodePort targets would never open: refused', () => {
    expect(() => synth(baseProps({ loadBalancer: LoadBalancer.alibabaAlb({ readinessGate: true }) })))
      .toThrow(/loadBalancer\.readinessGate needs loadBalancer\.directAccess/);
  });

  test('NodePort targets: minReadySeconds = interval x healthy threshold + reconcile delay', () => {
    const { service, objects } = synth(baseProps({
      healthCheck: { interval: Duration.seconds(10), healthyThreshold: 3 },
    }));
    expect(only(objects, 'Deployment').spec.minReadySeconds).toBe(45);
    expect(service.budget.registrationDelaySeconds).toBe(45);
    expect(service.budget.describe()).toContain('minReadySeconds 45 elapsed (registration 45s): pod available');
  });

  test('Tencent: TKE injects its own gate with direct access, so nothing is written and nothing waits twice', () => {
    const { service, objects } = synth(baseProps({ loadBalancer: LoadBalancer.tencentClb() }));
    const deployment = only(objects, 'Deployment');
    expect(deployment.spec.template.spec.readinessGates).toBeUndefined();
    expect(deployment.spec.minReadySeconds).toBe(0);
    expect(service.budget.launchGated).toBe(true);
    expect(service.budget.describe()).toContain('readiness gate opens');
  });

  test('Tencent without direct access: minReadySeconds from the CLB default health check (5 s x 3) + 10 s', () => {
    const { objects } = synth(baseProps({ loadBalancer: LoadBalancer.tencentClb({ directAccess: false }) }));
    expect(only(objects, 'Deployment').spec.minReadySeconds).toBe(25);
  });

  test('maxUnavailable is always 0 and progressDeadlineSeconds stays above a rollout step', () => {
    const { service, objects } = synth(baseProps({ shutdown: { drainTimeout: Duration.minutes(15) } }));
    const spec = only(objects, 'Deployment').spec;
    expect(spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    // startup 60 + readiness 10 + registration 25 + grace (D 15 + M 5 + S 900 + M 5) + 2
    expect(spec.progressDeadlineSeconds).toBe(1022);
    expect(service.budget.minimumProgressDeadlineSeconds).toBe(1022);
    expect(spec.progressDeadlineSeconds).toBeGreaterThan(spec.minReadySeconds);
  });

  test('the Kubernetes default 600 s deadline is kept when it is enough', () => {
    expect(only(synth(baseProps()).objects, 'Deployment').spec.progressDeadlineSeconds).toBe(600);
  });

  test('an explicit progressDeadline is checked, never adjusted', () => {
    expect(only(synth(baseProps({ progressDeadline: Duration.seconds(152) })).objects, 'Deployment')
      .spec.progressDeadlineSeconds).toBe(152);
    expect(() => synth(baseProps({ progressDeadline: Duration.seconds(151) })))
      .toThrow('test/web: progressDeadline (151s) must be at least startupTimeout (60s) + readinessDelay (10s) + registrationDelay (25s) '
        + '+ terminationGracePeriod (55s) + the kubelet\'s 2s preStop extension = 152s');
  });

  test('describe() shows the launch side', () => {
    const { service } = synth(baseProps({ loadBalancer: LoadBalancer.alibabaAlb({ directAccess: true }) }));
    expect(service.budget.describe()).toContain(`Launch timeline (readiness gate, progressDeadlineSeconds 600):
  t=0s   new pod started
  t=60s  startup probe passed at the latest (startupTimeout 60s); readiness probing starts
  t=70s  containers pass the readiness probe; the LB starts registering the pod
  t=95s  LB reports it healthy (registration 25s); readiness gate opens: pod Ready and available`);
  });
});

describe('the LB sees what Kubernetes sees', () => {
  test('ALB health check annotations come from the readiness probe settings', () => {
    const { objects } = synth(baseProps({
      healthCheckPath: '/healthz',
      healthCheck: { interval: Duration.seconds(3), timeout: Duration.seconds(2), healthyThreshold: 4, unhealthyThreshold: 5 },
    }));
    const probe = container(objects).readinessProbe;
    expect(probe).toEqual({
      httpGet: { path: '/healthz', port: 80, scheme: 'HTTP' },
      periodSeconds: 3,
      timeoutSeconds: 2,
      successThreshold: 4,
      failureThreshold: 5,
    });
    expect(only(objects, 'Ingress').metadata.annotations).toEqual({
      [`${ALB}/healthcheck-code`]: 'http_2xx,http_3xx',
      [`${ALB}/healthcheck-enabled`]: 'true',
      [`${ALB}/healthcheck-path`]: '/healthz',
      [`${ALB}/healthcheck-protocol`]: 'HTTP',
      [`${ALB}/healthcheck-method`]: 'GET',
      [`${ALB}/healthcheck-httpcode`]: 'http_2xx,http_3xx',
      [`${ALB}/healthcheck-interval-seconds`]: '3',
      [`${ALB}/healthcheck-timeout-seconds`]: '2',
      [`${ALB}/healthy-threshold-count`]: '4',
      [`${ALB}/unhealthy-threshold-count`]: '5',
    });
    validateObjects(objects);
  });

  test.each([
    ['interval 51 s', { interval: Duration.seconds(51) }, 'healthCheck.interval is 51s, but Alibaba Cloud ALB accepts 1s to 50s'],
    ['timeout 301 s', { timeout: Duration.seconds(301) }, 'healthCheck.timeout is 301s, but Alibaba Cloud ALB accepts 1s to 300s'],
    ['healthy threshold 1', { healthyThreshold: 1 }, 'healthCheck.healthyThreshold is 1, but Alibaba Cloud ALB accepts 2 to 10'],
    ['unhealthy threshold 11', { unhealthyThreshold: 11 }, 'healthCheck.unhealthyThreshold is 11, but Alibaba Cloud ALB accepts 2 to 10'],
  ])('ALB ranges are validated: %s', (_name, healthCheck, message) => {
    expect(() => synth(baseProps({ healthCheck }))).toThrow(message);
  });

  test('health checks that Kubernetes itself rejects are refused for every provider', () => {
    expect(() => synth(baseProps({ healthCheck: { healthyThreshold: 0 } }))).toThrow('healthCheck.healthyThreshold must be a positive integer, got 0');
    expect(() => synth(baseProps({ healthCheck: { interval: Duration.seconds(0) } }))).toThrow(/healthCheck\.interval \(seconds\) must be a positive integer/);
  });

  test('ALB health check annotations can be left to the AlbConfig', () => {
    const { objects } = synth(baseProps({
      loadBalancer: LoadBalancer.alibabaAlb({ healthCheckAnnotations: false }), healthCheck: { healthyThreshold: 1 },
    }));
    expect(only(objects, 'Ingress').metadata.annotations).toBeUndefined();
  });

  test('ALB connection draining follows drainTimeout', () => {
    const { objects } = synth(baseProps({
      loadBalancer: LoadBalancer.alibabaAlb({ connectionDrain: true }), shutdown: { drainTimeout: Duration.seconds(50) },
    }));
    expect(only(objects, 'Ingress').metadata.annotations).toMatchObject({
      [`${ALB}/connection-drain-enabled`]: 'true',
      [`${ALB}/connection-drain-timeout`]: '50',
    });
  });

  test('an explicit connection-drain timeout turns draining on and is kept as given', () => {
    const { objects } = synth(baseProps({ loadBalancer: LoadBalancer.alibabaAlb({ connectionDrainTimeout: Duration.seconds(120) }) }));
    expect(only(objects, 'Ingress').metadata.annotations[`${ALB}/connection-drain-timeout`]).toBe('120');
  });

  test.each([
    ['20 s < drainTimeout', { connectionDrainTimeout: Duration.seconds(20) },
      'loadBalancer.connectionDrainTimeout (20s) must be at least shutdown.drainTimeout (30s)'],
    ['901 s', { connectionDrainTimeout: Duration.seconds(901) },
      'loadBalancer.connectionDrainTimeout is 901s, but Alibaba Cloud ALB accepts 0s to 900s'],
  ])('connection-drain timeouts that would cut requests or that ALB rejects: %s', (_name, alb, message) => {
    expect(() => synth(baseProps({ loadBalancer: LoadBalancer.alibabaAlb(alb) }))).toThrow(message);
  });

  test('contradictory switches are refused, not guessed', () => {
    const drainOff = LoadBalancer.alibabaAlb({ connectionDrain: false, connectionDrainTimeout: Duration.seconds(60) });
    expect(() => synth(baseProps({ loadBalancer: drainOff })))
      .toThrow('loadBalancer.connectionDrainTimeout is set but loadBalancer.connectionDrain is false');
    expect(() => synth(baseProps({ loadBalancer: LoadBalancer.alibabaAlb({ slowStart: false, slowStartDuration: Duration.seconds(60) }) })))
      .toThrow('loadBalancer.slowStartDuration is set but loadBalancer.slowStart is false');
  });

  test('ALB slow start within 30-900 s', () => {
    const annotations = only(synth(baseProps({ loadBalancer: LoadBalancer.alibabaAlb({ slowStart: true }) })).objects, 'Ingress').metadata.annotations;
    expect(annotations).toMatchObject({ [`${ALB}/slow-start-enabled`]: 'true', [`${ALB}/slow-start-duration`]: '30' });
    expect(() => synth(baseProps({ loadBalancer: LoadBalancer.alibabaAlb({ slowStartDuration: Duration.seconds(29) }) })))
      .toThrow('loadBalancer.slowStartDuration is 29s, but Alibaba Cloud ALB accepts 30s to 900s');
    expect(() => synth(baseProps({ loadBalancer: LoadBalancer.alibabaAlb({ slowStartDuration: Duration.seconds(901) }) }))).toThrow(/accepts 30s to 900s/);
  });

  test('Tencent TkeServiceConfig carries the readiness probe\'s health check and is referenced by the Ingress', () => {
    const { objects } = synth(baseProps({
      loadBalancer: LoadBalancer.tencentClb({ tkeServiceConfig: true }),
      host: 'meeting.example.com',
      path: '/api',
      healthCheckPath: '/ready',
      healthCheck: { interval: Duration.seconds(6), timeout: Duration.seconds(3), healthyThreshold: 2, unhealthyThreshold: 4 },
    }));
    const config = only(objects, 'TkeServiceConfig');
    expect(config.apiVersion).toBe('cloud.tencent.com/v1alpha1');
    expect(only(objects, 'Ingress').metadata.annotations['ingress.cloud.tencent.com/tke-service-config']).toBe(config.metadata.name);
    expect(config.spec.loadBalancer.l7Listeners).toEqual([{
      protocol: 'HTTP',
      port: 80,
      domains: [{
        domain: 'meeting.example.com',
        rules: [{
          url: '/api',
          healthCheck: {
            enable: true,
            intervalTime: 6,
            timeout: 3,
            healthNum: 2,
            unHealthNum: 4,
            httpCheckPath: '/ready',
            httpCheckMethod: 'GET',
            httpCode: 6,
          },
        }],
      }],
    }]);
    validateObjects(objects);
  });

  test('Tencent registration time follows the emitted health check', () => {
    const { service } = synth(baseProps({
      loadBalancer: LoadBalancer.tencentClb({ tkeServiceConfig: true, directAccess: false }),
      healthCheck: { interval: Duration.seconds(10), healthyThreshold: 3 },
    }));
    expect(service.budget.minReadySeconds).toBe(40);
  });

  test.each([
    ['interval 4 s', { interval: Duration.seconds(4) }, 'test/web: healthCheck.interval is 4s, but the Tencent Cloud CLB health check (loadBalancer.tkeServiceConfig mirrors the readiness probe) accepts 5s to 300s'],
    ['timeout 61 s', { timeout: Duration.seconds(61) }, 'healthCheck.timeout is 61s, but the Tencent Cloud CLB health check (loadBalancer.tkeServiceConfig mirrors the readiness probe) accepts 2s to 60s'],
    ['timeout = interval', { interval: Duration.seconds(5), timeout: Duration.seconds(5) },
      'healthCheck.timeout (5s) must be shorter than healthCheck.interval (5s)'],
  ])('Tencent CLB health-check ranges are validated: %s', (_name, healthCheck, message) => {
    expect(() => synth(baseProps({ loadBalancer: LoadBalancer.tencentClb({ tkeServiceConfig: true }), healthCheck }))).toThrow(message);
  });

  test('a refused Tencent service leaves no TkeServiceConfig behind', () => {
    const chart = new Chart(Testing.app(), 'test');
    expect(() => new GracefulWebService(chart, 'web', baseProps({
      loadBalancer: LoadBalancer.tencentClb({ tkeServiceConfig: true }),
      ingressAnnotations: { 'kubernetes.io/ingress.class': 'other' },
    }))).toThrow(/ingressAnnotations\["kubernetes.io\/ingress.class"\] is "other"/);
    expect(Testing.synth(chart)).toEqual([]);
  });

  test('Tencent grace deletion is opt-in and needs direct access', () => {
    const defaults = only(synth(baseProps({ loadBalancer: LoadBalancer.tencentClb() })).objects, 'Ingress').metadata.annotations;
    expect(defaults['ingress.cloud.tencent.com/enable-grace-deletion']).toBeUndefined();
    const optedIn = only(synth(baseProps({ loadBalancer: LoadBalancer.tencentClb({ graceDeletion: true }) })).objects, 'Ingress');
    expect(optedIn.metadata.annotations['ingress.cloud.tencent.com/enable-grace-deletion']).toBe('true');
    const deletionOnly = LoadBalancer.tencentClb({ directAccess: false, graceShutdown: false, graceShutdownOnUnhealthy: false, graceDeletion: true });
    expect(() => synth(baseProps({ loadBalancer: deletionOnly })))
      .toThrow('test/web: loadBalancer.graceDeletion needs loadBalancer.directAccess');
  });
});

describe('preStop that works in any image', () => {
  test('SLEEP_ACTION emits the native sleep in the final YAML, and no exec', () => {
    const objects = synthYaml(baseProps({ preStopAction: PreStopAction.SLEEP_ACTION }));
    expect(container(objects).lifecycle).toEqual({ preStop: { sleep: { seconds: 20 } } });
    expect(only(objects, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(55);
    validateObjects(objects);
  });

  test('SLEEP_ACTION for an abrupt app sleeps through the drain', () => {
    const objects = synthYaml(baseProps({ preStopAction: PreStopAction.SLEEP_ACTION, shutdown: { drainsOnStopSignal: false } }));
    expect(container(objects).lifecycle.preStop).toEqual({ sleep: { seconds: 50 } });
  });

  test('SLEEP_ACTION with no wait emits no hook (sleep.seconds 0 is rejected before Kubernetes 1.33)', () => {
    const objects = synthYaml(baseProps({
      preStopAction: PreStopAction.SLEEP_ACTION, shutdown: { deregistrationDelay: Duration.seconds(0), safetyMargin: Duration.seconds(0) },
    }));
    expect(container(objects).lifecycle).toBeUndefined();
  });

  test('EXEC_SLEEP stays the default', () => {
    expect(container(synthYaml(baseProps())).lifecycle.preStop).toEqual({ exec: { command: ['/bin/sh', '-c', 'sleep 20'] } });
  });

  test('a custom preStop command runs before the wait and is counted in the grace period', () => {
    const { service, objects } = synth(baseProps({
      preStopCommand: ['/app/flush', '--all'], preStopCommandDuration: Duration.seconds(5),
    }));
    expect(container(objects).lifecycle.preStop.exec.command)
      .toEqual(['/bin/sh', '-c', '"$@"; sleep 20', 'prestop', '/app/flush', '--all']);
    expect(only(objects, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(60);
    expect(service.budget.describe()).toContain('custom command (up to 5s), then sleep 20');
    validateObjects(objects);
  });

  test('the emitted command really runs the custom command with its arguments intact, then waits', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-prestop-'));
    try {
      const marker = path.join(dir, 'flushed it');
      const { objects } = synth(baseProps({
        // An explicit zero margin keeps the real wait at D = 1 s.
        shutdown: { deregistrationDelay: Duration.seconds(1), safetyMargin: Duration.seconds(0) },
        preStopCommand: [process.execPath, '-e', 'require("fs").writeFileSync(process.argv[1], "done")', marker],
        preStopCommandDuration: Duration.seconds(5),
      }));
      const [file, ...args] = container(objects).lifecycle.preStop.exec.command as string[];
      const started = Date.now();
      execFileSync(file, args);
      expect(fs.readFileSync(marker, 'utf8')).toBe('done');
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('without a wait, the custom command is the whole hook', () => {
    const { objects } = synth(baseProps({
      shutdown: { deregistrationDelay: Duration.seconds(0), safetyMargin: Duration.seconds(0) },
      preStopCommand: ['/app/flush'],
      preStopCommandDuration: Duration.seconds(2),
    }));
    expect(container(objects).lifecycle.preStop).toEqual({ exec: { command: ['/app/flush'] } });
  });

  test.each([
    [{ preStopCommand: ['/app/flush'] }, 'preStopCommandDuration is required with preStopCommand'],
    [{ preStopCommandDuration: Duration.seconds(3) }, 'preStopCommandDuration is set but preStopCommand is not'],
    [{ preStopCommand: [], preStopCommandDuration: Duration.seconds(3) }, 'preStopCommand must not be empty'],
    [{ preStopCommand: ['/app/flush'], preStopCommandDuration: Duration.seconds(3), preStopAction: PreStopAction.SLEEP_ACTION },
      'preStopCommand cannot be combined with preStopAction SLEEP_ACTION'],
    [{ preStopCommand: ['/app/flush'], preStopCommandDuration: Duration.seconds(3), terminationGracePeriod: Duration.seconds(52) },
      'terminationGracePeriod (52s) must be at least preStopCommandDuration (3s) + deregistrationDelay (15s) + safetyMargin (5s) + drainTimeout (30s) = 53s'],
  ] as Array<[Partial<GracefulWebServiceProps>, string]>)('refused: %#', (overrides, message) => {
    expect(() => synth(baseProps(overrides))).toThrow(message);
  });
});

describe('evictions', () => {
  test('a PodDisruptionBudget selects the pods when replicas >= 2', () => {
    const { service, objects } = synth(baseProps({ replicas: 2 }));
    const pdb = only(objects, 'PodDisruptionBudget');
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(pdb.spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: only(objects, 'Deployment').spec.selector.matchLabels },
    });
    expect(service.podDisruptionBudget).toBeDefined();
    validateObjects(objects);
  });

  test('no PodDisruptionBudget for a single replica unless asked, and it can be turned off', () => {
    expect(synth(baseProps({ replicas: 1 })).objects.some((o) => o.kind === 'PodDisruptionBudget')).toBe(false);
    expect(synth(baseProps({ replicas: 1, podDisruptionBudget: true })).objects.some((o) => o.kind === 'PodDisruptionBudget')).toBe(true);
    const { service, objects } = synth(baseProps({ podDisruptionBudget: false }));
    expect(objects.some((o) => o.kind === 'PodDisruptionBudget')).toBe(false);
    expect(service.podDisruptionBudget).toBeUndefined();
  });

  test('the PodDisruptionBudget follows selectors added through the escape hatch', () => {
    const chart = new Chart(Testing.app(), 'test');
    const web = new GracefulWebService(chart, 'web', baseProps());
    web.deployment.podMetadata.addLabel('tier', 'web');
    web.deployment.select(kplus.LabelSelector.of({ labels: { tier: 'web' } }));
    const objects = Testing.synth(chart) as KubeObject[];
    const matchLabels = only(objects, 'PodDisruptionBudget').spec.selector.matchLabels;
    expect(matchLabels).toMatchObject({ tier: 'web' });
    expect(matchLabels).toEqual(only(objects, 'Deployment').spec.selector.matchLabels);
  });
});
