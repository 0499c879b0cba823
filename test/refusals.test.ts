// The README's "Refused at synth time" list is the complete set of refusals: each bullet there is
// matched by exactly one entry here, and each entry's cases must be refused with an error that
// starts with the construct path.
import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { AwsAlbTargetType, GracefulWebService, GracefulWebServiceProps, LoadBalancer, PreStopAction } from '../src';
import { baseProps, synth } from './util';

const README = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
const s = Duration.seconds;
/** A negative Duration, which cdk8s itself refuses to create; one from elsewhere is still refused by name. */
const negative = (ms: number): Duration => Object.create(Duration.prototype, { toMilliseconds: { value: () => ms } });

type Case = [Partial<GracefulWebServiceProps>, string | RegExp];

/** A Namespace object in a chart of its own (the test service's chart sets no namespace). */
const namespaceObject = (kind = 'Namespace', labels?: { [key: string]: string }): ApiObject =>
  new ApiObject(new Chart(Testing.app(), 'ns'), 'ns', { apiVersion: 'v1', kind, metadata: { name: 'shop', labels } });

/** README bullet (its opening words) → inputs that must be refused, with the expected message. */
const REFUSALS: { [bulletStart: string]: Case[] } = {
  'An explicit `terminationGracePeriod` below': [
    [{ terminationGracePeriod: s(49) },
      'terminationGracePeriod (49s) must be at least deregistrationDelay (15s) + safetyMargin (5s) + drainTimeout (30s) = 50s'],
    [{ terminationGracePeriod: s(52), preStopCommand: ['flush'], preStopCommandDuration: s(3) },
      'terminationGracePeriod (52s) must be at least preStopCommandDuration (3s) + deregistrationDelay (15s) + safetyMargin (5s) + drainTimeout (30s) = 53s'],
    [{ terminationGracePeriod: s(79), shutdown: { deregistrationDelay: s(40) } },
      'terminationGracePeriod (79s) must be at least deregistrationDelay (40s) + safetyMargin (10s) + drainTimeout (30s) = 80s'],
  ],
  'An explicit `progressDeadline` below': [
    [{ progressDeadline: s(100) }, /progressDeadline \(100s\) must be at least startupTimeout \(60s\) \+ .*terminationGracePeriod \(55s\) .* = 152s/],
  ],
  'A negative or non-finite duration': [
    [{ shutdown: { drainTimeout: negative(-1000) } }, 'shutdown.drainTimeout must not be negative, got -1000 ms'],
    [{ shutdown: { safetyMargin: Duration.millis(Infinity) } }, 'shutdown.safetyMargin must be a finite duration'],
    [{ startupTimeout: negative(-5000) }, 'startupTimeout must not be negative'],
  ],
  'A `port` outside 1–65535, or `replicas`': [
    [{ port: 0 }, 'port must be an integer from 1 to 65535, got 0'],
    [{ port: 65536 }, 'port must be an integer from 1 to 65535, got 65536'],
    [{ replicas: 0 }, 'replicas must be a positive integer, got 0'],
    [{ replicas: 1.5 }, 'replicas must be a positive integer, got 1.5'],
  ],
  'A `host` that is not a lower-case RFC 1123 DNS name': [
    [{ host: 'Demo.example.com' }, 'host "Demo.example.com" is not a valid host name'],
    [{ host: '10.0.0.1' }, 'an Ingress host must be a DNS name, not an IP address'],
  ],
  'An empty `image`, or one containing whitespace': [
    [{ image: '' }, 'image must not be empty'],
    [{ image: 'nginx latest' }, 'image must not contain whitespace'],
  ],
  'A `path`, `healthCheckPath` or `writablePaths` entry': [
    [{ path: 'api' }, 'path must start with "/", got "api"'],
    [{ healthCheckPath: 'healthz' }, 'healthCheckPath must start with "/"'],
    [{ writablePaths: ['/tmp', 'cache'] }, 'writablePaths[1] must start with "/"'],
    [{ path: '/a b' }, 'path must not contain whitespace'],
  ],
  'The same directory twice in `writablePaths`': [
    [{ writablePaths: ['/tmp', '/var/run', '/tmp'] }, 'writablePaths[2] ("/tmp") is the same directory as writablePaths[0] ("/tmp")'],
    [{ writablePaths: ['/tmp/', '/tmp'] }, 'writablePaths[1] ("/tmp") is the same directory as writablePaths[0] ("/tmp/")'],
    [{ writablePaths: ['/var/./run', '/var/run'] }, 'Kubernetes rejects two volumes on one mount path'],
  ],
  'A zero `maxSurge`': [
    [{ maxSurge: kplus.PercentOrAbsolute.absolute(0) }, 'maxSurge must be more than 0'],
  ],
  'A `name` that is not an RFC 1035 label': [
    [{ name: 'Tea_Shop' }, 'name "Tea_Shop" is not a valid name'],
    [{ name: 'tea', labels: { 'app.kubernetes.io/instance': 'other' } },
      'labels["app.kubernetes.io/instance"] is "other", but name "tea" sets it to "tea"'],
    // (a name used twice in one chart: see the last test below)
  ],
  'A label key or value, or an annotation key': [
    [{ labels: { 'my team': 'tea' } }, 'labels key "my team" is not a valid Kubernetes key'],
    [{ labels: { 'Example.com/team': 'tea' } }, 'the prefix "Example.com" must be a lower-case DNS subdomain'],
    [{ labels: { ['a'.repeat(64)]: 'x' } }, 'the name part must have 1 to 63 characters, it has 64'],
    [{ labels: { team: 'tea shop' } }, 'labels["team"] value "tea shop" is not a valid label value'],
    [{ labels: { team: 'x'.repeat(64) } }, 'is not a valid label value'],
    [{ podAnnotations: { 'a/b/c': 'x' } }, 'podAnnotations key "a/b/c" is not a valid Kubernetes key: it may contain at most one "/"'],
    [{ ingressAnnotations: { '-x': 'y' } }, 'ingressAnnotations key "-x" is not a valid Kubernetes key'],
    [{ serviceAnnotations: { 'example.com/n': 5 as unknown as string } }, 'serviceAnnotations["example.com/n"] must be a string, got number'],
    [{ podAnnotations: { big: 'x'.repeat(256 * 1024) } }, 'Kubernetes allows at most 262144 bytes of annotations per object'],
  ],
  'An annotation that contradicts the load balancer\'s': [
    [{ ingressAnnotations: { 'alb.ingress.kubernetes.io/healthcheck-path': '/other' } },
      'ingressAnnotations["alb.ingress.kubernetes.io/healthcheck-path"] is "/other", but the load balancer needs "/"'],
    [{ ingressAnnotations: { 'kubernetes.io/ingress.class': 'alb' } },
      'ingressAnnotations["kubernetes.io/ingress.class"] cannot be set together with spec.ingressClassName ("alb")'],
  ],
  'An `ensureNonRoot` or `readOnlyRootFilesystem` in': [
    [{ podSecurityContext: { ensureNonRoot: false } }, 'podSecurityContext.ensureNonRoot is false but runAsRoot is false'],
    [{ readOnlyRootFilesystem: false, containerSecurityContext: { readOnlyRootFilesystem: true } },
      'containerSecurityContext.readOnlyRootFilesystem is true but readOnlyRootFilesystem is false'],
  ],
  'A zero `startupTimeout`': [
    [{ startupTimeout: s(0) }, 'startupTimeout must be more than 0 seconds; to emit no startup probe, set startupProbe: false'],
    [{ startupProbe: false, startupTimeout: s(30) }, 'startupTimeout is set but startupProbe is false'],
  ],
  'A zero health-check `interval` or `timeout`': [
    [{ healthCheck: { interval: s(0) } }, 'healthCheck.interval (seconds) must be a positive integer, got 0'],
    [{ healthCheck: { timeout: s(0) } }, 'healthCheck.timeout (seconds) must be a positive integer, got 0'],
    [{ healthCheck: { healthyThreshold: 1.5 } }, 'healthCheck.healthyThreshold must be a positive integer, got 1.5'],
    [{ healthCheck: { unhealthyThreshold: 0 } }, 'healthCheck.unhealthyThreshold must be a positive integer, got 0'],
  ],
  'A `preStopCommand` that is empty': [
    [{ preStopCommand: [], preStopCommandDuration: s(1) }, 'preStopCommand must not be empty'],
    [{ preStopCommand: ['nginx -s quit'], preStopCommandDuration: s(5) },
      'preStopCommand[0] is "nginx -s quit", which contains whitespace: the first element is the program to run, not a shell '
      + 'command line, so the kubelet would look for a program of that exact name. Write one element per argument '
      + '(["nginx","-s","quit"]) or run it through a shell (["/bin/sh","-c","nginx -s quit"])'],
    [{ preStopCommand: ['flush'] }, 'preStopCommandDuration is required with preStopCommand'],
    [{ preStopCommandDuration: s(3) }, 'preStopCommandDuration is set but preStopCommand is not'],
    [{ preStopCommand: ['flush'], preStopCommandDuration: s(3), preStopAction: PreStopAction.SLEEP_ACTION },
      'preStopCommand cannot be combined with preStopAction SLEEP_ACTION'],
  ],
  'Alibaba ALB: with `healthCheckAnnotations`': [
    [{ healthCheck: { interval: s(51) } }, 'healthCheck.interval is 51s, but Alibaba Cloud ALB accepts 1s to 50s'],
    [{ healthCheck: { healthyThreshold: 1 } }, 'healthCheck.healthyThreshold is 1, but Alibaba Cloud ALB accepts 2 to 10'],
    [{ healthCheck: { unhealthyThreshold: 11 } }, 'healthCheck.unhealthyThreshold is 11, but Alibaba Cloud ALB accepts 2 to 10'],
  ],
  'Alibaba ALB: a `connectionDrainTimeout`': [
    [{ loadBalancer: LoadBalancer.alibabaAlb({ connectionDrainTimeout: s(20) }) },
      'loadBalancer.connectionDrainTimeout (20s) must be at least shutdown.drainTimeout (30s)'],
    [{ loadBalancer: LoadBalancer.alibabaAlb({ connectionDrainTimeout: s(901) }) }, 'accepts 0s to 900s'],
    [{ loadBalancer: LoadBalancer.alibabaAlb({ slowStartDuration: s(29) }) }, 'loadBalancer.slowStartDuration is 29s, but Alibaba Cloud ALB accepts 30s to 900s'],
    [{ loadBalancer: LoadBalancer.alibabaAlb({ slowStart: false, slowStartDuration: s(60) }) },
      'loadBalancer.slowStartDuration is set but loadBalancer.slowStart is false'],
    [{ loadBalancer: LoadBalancer.alibabaAlb({ connectionDrain: false, connectionDrainTimeout: s(60) }) },
      'loadBalancer.connectionDrainTimeout is set but loadBalancer.connectionDrain is false'],
    [{ loadBalancer: LoadBalancer.alibabaAlb({ readinessGate: true }) }, 'loadBalancer.readinessGate needs loadBalancer.directAccess'],
    [{ loadBalancer: LoadBalancer.alibabaAlb({ ingressClassName: 'ALB' }) }, 'loadBalancer.ingressClassName "ALB" must be a lower-case DNS subdomain name'],
  ],
  'Tencent CLB: `graceShutdown`': [
    [{ loadBalancer: LoadBalancer.tencentClb({ directAccess: false, graceShutdown: true }) },
      'loadBalancer.graceShutdown needs loadBalancer.directAccess'],
    [{ loadBalancer: LoadBalancer.tencentClb({ directAccess: false, graceShutdown: false, graceShutdownOnUnhealthy: false, graceDeletion: true }) },
      'loadBalancer.graceDeletion needs loadBalancer.directAccess'],
    [{ loadBalancer: LoadBalancer.tencentClb({ ingressClassName: 'q cloud' }) }, 'loadBalancer.ingressClassName must not contain whitespace'],
    [{ loadBalancer: LoadBalancer.tencentClb({ existingLoadBalancerId: ' ' }) }, 'loadBalancer.existingLoadBalancerId must not be empty when given'],
    [{ loadBalancer: LoadBalancer.tencentClb({ subnetId: '' }) }, 'loadBalancer.subnetId must not be empty when given'],
  ],
  'Tencent CLB: with `tkeServiceConfig`': [
    [{ loadBalancer: LoadBalancer.tencentClb({ tkeServiceConfig: true }), healthCheck: { interval: s(2), timeout: s(1) } },
      'healthCheck.interval is 2s, but the Tencent Cloud CLB health check (loadBalancer.tkeServiceConfig mirrors the readiness probe) accepts 5s to 300s'],
    [{ loadBalancer: LoadBalancer.tencentClb({ tkeServiceConfig: true }), healthCheck: { timeout: s(1) } }, 'healthCheck.timeout is 1s'],
    [{ loadBalancer: LoadBalancer.tencentClb({ tkeServiceConfig: true }), healthCheck: { interval: s(5), timeout: s(5) } },
      'healthCheck.timeout (5s) must be shorter than healthCheck.interval (5s)'],
    [{ loadBalancer: LoadBalancer.tencentClb({ tkeServiceConfig: true }), healthCheck: { healthyThreshold: 11 } }, 'accepts 2 to 10'],
  ],
  'AWS ALB: a `targetGroupDeregistrationDelay`': [
    [{ loadBalancer: LoadBalancer.awsAlb({ targetGroupDeregistrationDelay: s(89) }) },
      'loadBalancer.targetGroupDeregistrationDelay (89s) must be at least deregistrationDelay (60s) + drainTimeout (30s) = 90s'],
    [{ loadBalancer: LoadBalancer.awsAlb({ targetGroupDeregistrationDelay: s(3601) }) },
      'loadBalancer.targetGroupDeregistrationDelay is 3601s, but AWS ALB accepts 0s to 3600s'],
    [{ loadBalancer: LoadBalancer.awsAlb(), shutdown: { drainTimeout: s(3550) } },
      'deregistrationDelay (60s) + drainTimeout (3550s) = 3610s exceeds the 3600s the ALB can drain a target for'],
    [{ loadBalancer: LoadBalancer.awsAlb({ slowStartDuration: s(29) }) }, 'loadBalancer.slowStartDuration is 29s, but AWS ALB accepts 30s to 900s'],
    [{ loadBalancer: LoadBalancer.awsAlb(), healthCheck: { interval: s(4) } }, 'healthCheck.interval is 4s, but AWS ALB accepts 5s to 300s'],
    [{ loadBalancer: LoadBalancer.awsAlb(), healthCheck: { interval: s(300), timeout: s(121) } }, 'healthCheck.timeout is 121s, but AWS ALB accepts 2s to 120s'],
    [{ loadBalancer: LoadBalancer.awsAlb(), healthCheck: { interval: s(5), timeout: s(5) } },
      'healthCheck.timeout (5s) must be shorter than healthCheck.interval (5s)'],
    [{ loadBalancer: LoadBalancer.awsAlb(), healthCheck: { healthyThreshold: 1 } }, 'healthCheck.healthyThreshold is 1, but AWS ALB accepts 2 to 10'],
  ],
  'AWS ALB: a readiness gate with instance targets': [
    [{ loadBalancer: LoadBalancer.awsAlb({ targetType: AwsAlbTargetType.INSTANCE, readinessGateNamespaceLabelled: true }) },
      'needs loadBalancer.targetType IP'],
    [{ loadBalancer: LoadBalancer.awsAlb({ readinessGateNamespace: namespaceObject('ConfigMap') }) },
      'loadBalancer.readinessGateNamespace must be a Namespace, got a ConfigMap'],
    [{ loadBalancer: LoadBalancer.awsAlb({ readinessGateNamespace: namespaceObject() }) },
      'loadBalancer.readinessGateNamespace "shop" cannot be checked: the chart sets no namespace'],
    [{ loadBalancer: LoadBalancer.awsAlb({ readinessGateNamespace: namespaceObject(), readinessGateNamespaceLabelled: false }) },
      'loadBalancer.readinessGateNamespace is set but loadBalancer.readinessGateNamespaceLabelled is false'],
    [{ loadBalancer: LoadBalancer.awsAlb({ targetGroupAttributes: { 'deregistration_delay.timeout_seconds': '30' } }) },
      'use loadBalancer.targetGroupDeregistrationDelay'],
    [{ loadBalancer: LoadBalancer.awsAlb({ targetGroupAttributes: { 'slow_start.duration_seconds': '30' } }) }, 'use loadBalancer.slowStartDuration'],
    [{ loadBalancer: LoadBalancer.awsAlb({ targetGroupAttributes: { 'stickiness.enabled': 'true,x=1' } }) }, 'without ",", "=" or whitespace'],
    [{ loadBalancer: LoadBalancer.awsAlb(), serviceAnnotations: { 'alb.ingress.kubernetes.io/healthcheck-path': '/other' } },
      'serviceAnnotations["alb.ingress.kubernetes.io/healthcheck-path"] is "/other", but the Ingress carries "/"'],
    [{ loadBalancer: LoadBalancer.awsAlb({ ingressClassName: 'ALB' }) }, 'loadBalancer.ingressClassName "ALB" must be a lower-case DNS subdomain name'],
  ],
  'GKE: a class other than `gce` or `gce-internal`': [
    [{ loadBalancer: LoadBalancer.gkeIngress({ ingressClassName: 'nginx' }) },
      'loadBalancer.ingressClassName "nginx" is not served by GKE\'s Ingress controller: use "gce" or "gce-internal"'],
    [{ loadBalancer: LoadBalancer.gkeIngress({ connectionDrainingTimeout: s(0) }) },
      'loadBalancer.connectionDrainingTimeout (0s) must be at least deregistrationDelay (60s) + drainTimeout (30s) = 90s'],
    [{ loadBalancer: LoadBalancer.gkeIngress({ connectionDrainingTimeout: s(3601) }) }, 'loadBalancer.connectionDrainingTimeout is 3601s, but GKE Ingress accepts 0s to 3600s'],
    [{ loadBalancer: LoadBalancer.gkeIngress(), shutdown: { drainTimeout: s(3541) } },
      'deregistrationDelay (60s) + drainTimeout (3541s) = 3601s exceeds the 3600s a GKE backend service can drain for'],
    [{ loadBalancer: LoadBalancer.gkeIngress(), healthCheck: { interval: s(301) } }, 'healthCheck.interval is 301s, but GKE Ingress accepts 1s to 300s'],
    [{ loadBalancer: LoadBalancer.gkeIngress(), healthCheck: { interval: s(5), timeout: s(6) } },
      'healthCheck.timeout (6s) must not exceed healthCheck.interval (5s) for GKE Ingress'],
  ],
};

/** The bullets between the README's refusal markers. */
function readmeBullets(): string[] {
  const section = /<!-- refusals:start -->\n([\s\S]*?)<!-- refusals:end -->/.exec(README);
  if (!section) throw new Error('README.md has no <!-- refusals:start --> ... <!-- refusals:end --> section');
  return section[1].split('\n').filter((l) => l.startsWith('- ')).map((l) => l.slice(2));
}

describe('the README refusal list', () => {
  test('every bullet has tests here, and every entry here is a bullet there', () => {
    const bullets = readmeBullets();
    const keys = Object.keys(REFUSALS);
    for (const bullet of bullets) {
      expect({ bullet, matches: keys.filter((k) => bullet.startsWith(k)).length }).toEqual({ bullet, matches: 1 });
    }
    for (const key of keys) {
      expect({ key, matches: bullets.filter((b) => b.startsWith(key)).length }).toEqual({ key, matches: 1 });
    }
  });

  const cases = Object.entries(REFUSALS).flatMap(([bullet, list]) =>
    list.map(([props, message], i) => [`${bullet} ... (#${i + 1})`, props, message] as const));
  test.each(cases)('%s', (_title, props, message) => {
    let error: Error | undefined;
    try {
      synth(baseProps(props));
    } catch (e) {
      error = e as Error;
    }
    expect(error).toBeDefined();
    expect(error!.message.startsWith('test/web: ')).toBe(true);
    if (typeof message === 'string') {
      expect(error!.message).toContain(message);
    } else {
      expect(error!.message).toMatch(message);
    }
  });

  test('a name already used in the same chart', () => {
    const chart = new Chart(Testing.app(), 'test');
    new GracefulWebService(chart, 'one', baseProps({ name: 'tea' }));
    expect(() => new GracefulWebService(chart, 'web', baseProps({ name: 'tea' })))
      .toThrow('test/web: name "tea" is already used by test/one in chart test');
  });

  test('what the list says is not refused is accepted: a CLB probe every 2 s without tkeServiceConfig, ALB ranges without annotations', () => {
    expect(() => synth(baseProps({ loadBalancer: LoadBalancer.tencentClb(), healthCheck: { interval: s(2), timeout: s(1) } }))).not.toThrow();
    expect(() => synth(baseProps({ loadBalancer: LoadBalancer.alibabaAlb({ healthCheckAnnotations: false }), healthCheck: { interval: s(60) } })))
      .not.toThrow();
    expect(() => synth(baseProps({ preStopCommand: ['/usr/local/bin/my tool'.replace(' ', '-'), '--flag with space'], preStopCommandDuration: s(2) })))
      .not.toThrow();
  });
});
