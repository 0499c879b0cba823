import { ApiObject, Chart, Duration, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { AwsAlb, AwsAlbScheme, AwsAlbTargetType, GracefulWebService, LoadBalancer } from '../src';
import { baseProps, KubeObject, only, synth, validateObjects } from './util';
import { detectProvider } from '../src/manifests/topology';

const PREFIX = 'alb.ingress.kubernetes.io';
const annotationsOf = (objects: KubeObject[]) => only(objects, 'Ingress').metadata.annotations as { [key: string]: string };
const attributesOf = (objects: KubeObject[]) => Object.fromEntries(
  annotationsOf(objects)[`${PREFIX}/target-group-attributes`].split(',').map((pair) => pair.split('=')));

/** Keys only Alibaba Cloud's ALB controller reads, and keys only the AWS Load Balancer Controller reads. */
const ALIBABA_ONLY = ['healthcheck-enabled', 'healthcheck-method', 'healthcheck-httpcode', 'healthcheck-code',
  'connection-drain-enabled', 'connection-drain-timeout', 'slow-start-enabled', 'slow-start-duration'].map((k) => `${PREFIX}/${k}`);
const AWS_ONLY = ['target-type', 'target-group-attributes', 'success-codes', 'healthcheck-port', 'scheme'].map((k) => `${PREFIX}/${k}`);

describe('AWS ALB', () => {
  test('defaults: class alb, IP targets on a ClusterIP Service, D = 60 s, no gate so minReadySeconds covers registration', () => {
    const lb = LoadBalancer.awsAlb();
    expect(lb).toBeInstanceOf(AwsAlb);
    expect(lb.defaultDeregistrationDelay.toSeconds()).toBe(60);
    const { service, objects } = synth(baseProps({ loadBalancer: lb }));
    validateObjects(objects);
    expect(only(objects, 'Ingress').spec.ingressClassName).toBe('alb');
    expect(only(objects, 'Service').spec.type).toBe('ClusterIP');
    expect(annotationsOf(objects)).toEqual({
      [`${PREFIX}/target-type`]: 'ip',
      [`${PREFIX}/healthcheck-path`]: '/',
      [`${PREFIX}/healthcheck-port`]: 'traffic-port',
      [`${PREFIX}/healthcheck-protocol`]: 'HTTP',
      [`${PREFIX}/healthcheck-interval-seconds`]: '5',
      [`${PREFIX}/healthcheck-timeout-seconds`]: '2',
      [`${PREFIX}/healthy-threshold-count`]: '2',
      [`${PREFIX}/unhealthy-threshold-count`]: '3',
      [`${PREFIX}/success-codes`]: '200-399',
      [`${PREFIX}/target-group-attributes`]: 'deregistration_delay.timeout_seconds=120',
    });
    // M = 25 % of 60 = 15: preStop 60 + 15, grace 60 + 15 + 30 + 15.
    expect(service.budget.safetyMarginSeconds).toBe(15);
    expect(service.budget.preStopSleepSeconds).toBe(75);
    expect(service.budget.terminationGracePeriodSeconds).toBe(120);
    // Not gated: new pods wait the probe's 5 s x 2 plus D before they count as available.
    expect(service.budget.launchGated).toBe(false);
    expect(only(objects, 'Deployment').spec.minReadySeconds).toBe(70);
    expect(only(objects, 'Deployment').spec.template.spec.readinessGates).toBeUndefined();
  });

  test('never emits Alibaba\'s keys, and Alibaba never emits AWS\'s: the two share class and prefix', () => {
    const aws = annotationsOf(synth(baseProps({ loadBalancer: LoadBalancer.awsAlb({ slowStartDuration: Duration.seconds(60) }) })).objects);
    const alibaba = annotationsOf(synth(baseProps({
      loadBalancer: LoadBalancer.alibabaAlb({ connectionDrain: true, slowStart: true }),
    })).objects);
    expect(Object.keys(aws).filter((k) => ALIBABA_ONLY.includes(k))).toEqual([]);
    expect(Object.keys(alibaba).filter((k) => AWS_ONLY.includes(k))).toEqual([]);
    // target-type is always written, so an AWS Ingress is recognisable even with every default.
    expect(aws[`${PREFIX}/target-type`]).toBe('ip');
    expect(Object.keys(alibaba).some((k) => ALIBABA_ONLY.includes(k))).toBe(true);
  });

  test('the CLI recognises the Ingress as AWS, with every option at its default and with the health check off', () => {
    for (const lb of [LoadBalancer.awsAlb(), LoadBalancer.awsAlb({ healthCheckAnnotations: false, targetType: AwsAlbTargetType.INSTANCE })]) {
      const ingress = only(synth(baseProps({ loadBalancer: lb })).objects, 'Ingress');
      expect(detectProvider(ingress).provider).toBe('aws-alb');
    }
    expect(detectProvider(only(synth(baseProps({ loadBalancer: LoadBalancer.alibabaAlb() })).objects, 'Ingress')).provider).toBe('alibaba-alb');
  });

  test('instance targets: NodePort Service and the longer 90 s default', () => {
    const lb = LoadBalancer.awsAlb({ targetType: AwsAlbTargetType.INSTANCE });
    expect(lb.defaultDeregistrationDelay.toSeconds()).toBe(90);
    const { service, objects } = synth(baseProps({ loadBalancer: lb }));
    validateObjects(objects);
    expect(only(objects, 'Service').spec.type).toBe('NodePort');
    expect(annotationsOf(objects)[`${PREFIX}/target-type`]).toBe('instance');
    // M = ceil(25 % of 90) = 23: preStop 90 + 23, grace 90 + 23 + 30 + 23.
    expect(service.budget.safetyMarginSeconds).toBe(23);
    expect(service.budget.preStopSleepSeconds).toBe(113);
    expect(service.budget.terminationGracePeriodSeconds).toBe(166);
    expect(attributesOf(objects)['deregistration_delay.timeout_seconds']).toBe('166');
  });

  test('a declared labelled namespace gates the launch; the construct still writes no gate (the controller injects it)', () => {
    const { service, objects } = synth(baseProps({ loadBalancer: LoadBalancer.awsAlb({ readinessGateNamespaceLabelled: true }) }));
    expect(service.budget.launchGated).toBe(true);
    expect(only(objects, 'Deployment').spec.minReadySeconds).toBe(0);
    expect(only(objects, 'Deployment').spec.template.spec.readinessGates).toBeUndefined();
  });

  test.each([
    [{ targetType: AwsAlbTargetType.INSTANCE, readinessGateNamespaceLabelled: true }, /needs loadBalancer\.targetType IP/],
  ])('a gate with instance targets is refused: %j', (props, message) => {
    expect(() => synth(baseProps({ loadBalancer: LoadBalancer.awsAlb(props) }))).toThrow(message);
  });

  describe('labelling a namespace the chart owns', () => {
    const build = (chartNamespace: string | undefined, namespaceName: string, kind = 'Namespace', labels?: { [k: string]: string }) => {
      const chart = new Chart(Testing.app(), 'shop', { namespace: chartNamespace });
      const namespace = new ApiObject(chart, 'ns', { apiVersion: 'v1', kind, metadata: { name: namespaceName, labels } });
      return { chart, namespace };
    };

    test('adds elbv2.k8s.aws/pod-readiness-gate-inject: enabled to the chart\'s Namespace and gates the launch', () => {
      const { chart, namespace } = build('shop', 'shop');
      const web = new GracefulWebService(chart, 'web', baseProps({ loadBalancer: LoadBalancer.awsAlb({ readinessGateNamespace: namespace }) }));
      const objects = Testing.synth(chart) as KubeObject[];
      validateObjects(objects);
      expect(only(objects, 'Namespace').metadata.labels).toEqual({ 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' });
      expect(web.budget.launchGated).toBe(true);
      expect(only(objects, 'Deployment').spec.template.spec.readinessGates).toBeUndefined();
    });

    test('two services in one chart label it once', () => {
      const { chart, namespace } = build('shop', 'shop');
      new GracefulWebService(chart, 'a', baseProps({ loadBalancer: LoadBalancer.awsAlb({ readinessGateNamespace: namespace }) }));
      new GracefulWebService(chart, 'b', baseProps({ loadBalancer: LoadBalancer.awsAlb({ readinessGateNamespace: namespace }) }));
      const objects = Testing.synth(chart) as KubeObject[];
      expect(only(objects, 'Namespace').metadata.labels).toEqual({ 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' });
    });

    test.each([
      ['the chart sets no namespace', undefined, 'shop', 'Namespace', undefined, /the chart sets no namespace/],
      ['another namespace', 'shop', 'other', 'Namespace', undefined, /is "other", but the pods are created in "shop"/],
      ['a disabled label', 'shop', 'shop', 'Namespace', { 'elbv2.k8s.aws/pod-readiness-gate-inject': 'disabled' }, /=disabled; the readiness gate needs "enabled"/],
    ])('refused: %s', (_why, chartNamespace, name, kind, labels, message) => {
      const { chart, namespace } = build(chartNamespace, name, kind, labels);
      expect(() => new GracefulWebService(chart, 'web', baseProps({
        loadBalancer: LoadBalancer.awsAlb({ readinessGateNamespace: namespace }),
      }))).toThrow(message);
      // Nothing of the refused service is left, and the namespace is untouched.
      expect((Testing.synth(chart) as KubeObject[]).map((o) => o.kind)).toEqual(['Namespace']);
      expect(namespace.metadata.getLabel('elbv2.k8s.aws/pod-readiness-gate-inject')).toBe(labels?.['elbv2.k8s.aws/pod-readiness-gate-inject']);
    });

    test('a service refused after binding leaves the namespace unlabelled; a label the user already set is kept', () => {
      const { chart, namespace } = build('shop', 'shop');
      expect(() => new GracefulWebService(chart, 'web', baseProps({
        loadBalancer: LoadBalancer.awsAlb({ readinessGateNamespace: namespace }),
        ingressAnnotations: { 'alb.ingress.kubernetes.io/target-type': 'instance' },
      }))).toThrow(/ingressAnnotations\["alb\.ingress\.kubernetes\.io\/target-type"\] is "instance", but the load balancer needs "ip"/);
      expect(Testing.synth(chart)).toEqual([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', namespace: 'shop' } }]);

      const labelled = build('shop', 'shop', 'Namespace', { 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' });
      new GracefulWebService(labelled.chart, 'web', baseProps({ loadBalancer: LoadBalancer.awsAlb({ readinessGateNamespace: labelled.namespace }) }));
      expect(only(Testing.synth(labelled.chart) as KubeObject[], 'Namespace').metadata.labels)
        .toEqual({ 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' });
    });

    test('refused: not a Namespace, or contradicting the declaration', () => {
      const { namespace: configMap } = build('shop', 'shop', 'ConfigMap');
      expect(() => synth(baseProps({ loadBalancer: LoadBalancer.awsAlb({ readinessGateNamespace: configMap }) }))).toThrow(/must be a Namespace, got a ConfigMap/);
      const { namespace } = build('shop', 'shop');
      const contradicting = LoadBalancer.awsAlb({ readinessGateNamespace: namespace, readinessGateNamespaceLabelled: false });
      expect(() => synth(baseProps({ loadBalancer: contradicting })))
        .toThrow(/readinessGateNamespaceLabelled is false/);
      const instanceTargets = LoadBalancer.awsAlb({ readinessGateNamespace: namespace, targetType: AwsAlbTargetType.INSTANCE });
      expect(() => synth(baseProps({ loadBalancer: instanceTargets })))
        .toThrow(/needs loadBalancer\.targetType IP/);
    });
  });

  describe('target group deregistration delay', () => {
    test('an explicit value of at least D + S is written as given', () => {
      const { objects } = synth(baseProps({ loadBalancer: LoadBalancer.awsAlb({ targetGroupDeregistrationDelay: Duration.seconds(90) }) }));
      expect(attributesOf(objects)['deregistration_delay.timeout_seconds']).toBe('90');
    });

    test('below D + S is refused, naming the numbers', () => {
      expect(() => synth(baseProps({ loadBalancer: LoadBalancer.awsAlb({ targetGroupDeregistrationDelay: Duration.seconds(89) }) })))
        .toThrow('loadBalancer.targetGroupDeregistrationDelay (89s) must be at least deregistrationDelay (60s) + drainTimeout (30s) = 90s');
    });

    test.each([3601, 7200])('outside 0-3600 s is refused: %d s', (seconds) => {
      expect(() => synth(baseProps({ loadBalancer: LoadBalancer.awsAlb({ targetGroupDeregistrationDelay: Duration.seconds(seconds) }) })))
        .toThrow(`loadBalancer.targetGroupDeregistrationDelay is ${seconds}s, but AWS ALB accepts 0s to 3600s`);
    });

    test('a budget the ALB cannot drain for is refused rather than capped', () => {
      expect(() => synth(baseProps({ loadBalancer: LoadBalancer.awsAlb(), shutdown: { drainTimeout: Duration.seconds(3550) } })))
        .toThrow('deregistrationDelay (60s) + drainTimeout (3550s) = 3610s exceeds the 3600s the ALB can drain a target for');
    });

    test('property: the derived value is the grace period capped at 3600, never below D + S; explicit values pass iff in [D + S, 3600]', () => {
      fc.assert(fc.property(
        fc.integer({ min: 0, max: 1800 }), fc.integer({ min: 0, max: 1800 }), fc.integer({ min: 0, max: 600 }),
        fc.boolean(), fc.integer({ min: 0, max: 4000 }),
        (d, s, m, drains, explicit) => {
          const shutdown = {
            deregistrationDelay: Duration.seconds(d),
            drainTimeout: Duration.seconds(s),
            safetyMargin: Duration.seconds(m),
            drainsOnStopSignal: drains,
          };
          const { service, objects } = synth(baseProps({ loadBalancer: LoadBalancer.awsAlb(), shutdown }));
          const derived = Number(attributesOf(objects)['deregistration_delay.timeout_seconds']);
          expect(service.budget.terminationGracePeriodSeconds).toBe(d + m + s + m);
          expect(derived).toBe(Math.min(d + m + s + m, 3600));
          expect(derived).toBeGreaterThanOrEqual(d + s);
          const attempt = () => synth(baseProps({
            loadBalancer: LoadBalancer.awsAlb({ targetGroupDeregistrationDelay: Duration.seconds(explicit) }), shutdown,
          }));
          if (explicit >= d + s && explicit <= 3600) {
            expect(attributesOf(attempt().objects)['deregistration_delay.timeout_seconds']).toBe(String(explicit));
          } else {
            expect(attempt).toThrow(/loadBalancer\.targetGroupDeregistrationDelay/);
          }
        }), { numRuns: 60 });
    });
  });

  test('slow start and extra attributes join the deregistration delay in one annotation', () => {
    const { objects } = synth(baseProps({
      loadBalancer: LoadBalancer.awsAlb({
        slowStartDuration: Duration.seconds(30),
        targetGroupAttributes: { 'load_balancing.algorithm.type': 'least_outstanding_requests' },
      }),
    }));
    expect(annotationsOf(objects)[`${PREFIX}/target-group-attributes`]).toBe(
      'deregistration_delay.timeout_seconds=120,slow_start.duration_seconds=30,load_balancing.algorithm.type=least_outstanding_requests');
  });

  test.each([29, 901])('slow start outside 30-900 s is refused: %d s', (seconds) => {
    expect(() => synth(baseProps({ loadBalancer: LoadBalancer.awsAlb({ slowStartDuration: Duration.seconds(seconds) }) })))
      .toThrow(`loadBalancer.slowStartDuration is ${seconds}s, but AWS ALB accepts 30s to 900s`);
  });

  test.each([
    [{ 'deregistration_delay.timeout_seconds': '30' }, /use loadBalancer\.targetGroupDeregistrationDelay/],
    [{ 'slow_start.duration_seconds': '30' }, /use loadBalancer\.slowStartDuration/],
    [{ 'stickiness.enabled': 'true,x=1' }, /without ",", "=" or whitespace/],
    [{ 'Bad Key': 'x' }, /must be a target group attribute name/],
  ])('refused target group attributes: %j', (attributes, message) => {
    expect(() => synth(baseProps({ loadBalancer: LoadBalancer.awsAlb({ targetGroupAttributes: attributes }) }))).toThrow(message);
  });

  test('a user annotation contradicting the derived attributes is refused by the construct', () => {
    expect(() => synth(baseProps({
      loadBalancer: LoadBalancer.awsAlb(),
      ingressAnnotations: { [`${PREFIX}/target-group-attributes`]: 'deregistration_delay.timeout_seconds=5' },
    }))).toThrow(/target-group-attributes.*the load balancer needs "deregistration_delay\.timeout_seconds=120"/);
  });

  test('a Service annotation would override the Ingress\'s (the controller reads the Service first): a different value is refused', () => {
    const chart = Testing.chart();
    expect(() => new GracefulWebService(chart, 'web', baseProps({
      loadBalancer: LoadBalancer.awsAlb(),
      serviceAnnotations: { [`${PREFIX}/target-group-attributes`]: 'deregistration_delay.timeout_seconds=5' },
    }))).toThrow(/web: serviceAnnotations\["alb\.ingress\.kubernetes\.io\/target-group-attributes"\] is "deregistration_delay\.timeout_seconds=5", but the Ingress carries "deregistration_delay\.timeout_seconds=120": the controller reads this key on the Service first/);
    expect(Testing.synth(chart)).toEqual([]); // nothing half-written

    // The same value, or a key the Ingress does not carry, is the user's business.
    const { objects } = synth(baseProps({
      loadBalancer: LoadBalancer.awsAlb(),
      serviceAnnotations: {
        [`${PREFIX}/target-group-attributes`]: 'deregistration_delay.timeout_seconds=120',
        [`${PREFIX}/load-balancer-name`]: 'shop',
      },
    }));
    validateObjects(objects);
    expect(only(objects, 'Service').metadata.annotations).toEqual({
      [`${PREFIX}/target-group-attributes`]: 'deregistration_delay.timeout_seconds=120',
      [`${PREFIX}/load-balancer-name`]: 'shop',
    });
    // scheme is Ingress-only (annotations.md, location "Ingress"): the controller ignores it on a Service, nothing to refuse.
    const internal = synth(baseProps({
      loadBalancer: LoadBalancer.awsAlb({ scheme: AwsAlbScheme.INTERNET_FACING }),
      serviceAnnotations: { [`${PREFIX}/scheme`]: 'internal' },
    }));
    expect(only(internal.objects, 'Ingress').metadata.annotations[`${PREFIX}/scheme`]).toBe('internet-facing');
    // A key documented for both objects is refused the same way as target-group-attributes.
    expect(() => synth(baseProps({
      loadBalancer: LoadBalancer.awsAlb(),
      serviceAnnotations: { [`${PREFIX}/healthy-threshold-count`]: '9' },
    }))).toThrow(/serviceAnnotations\["alb\.ingress\.kubernetes\.io\/healthy-threshold-count"\] is "9"/);
    // Alibaba's controller does not read the Service for these keys: no such rule there.
    expect(() => synth(baseProps({ loadBalancer: LoadBalancer.alibabaAlb(), serviceAnnotations: { [`${PREFIX}/healthcheck-path`]: '/other' } }))).not.toThrow();
  });

  describe('health check from the readiness probe, in the ELB API\'s ranges', () => {
    test('a custom probe is mirrored', () => {
      const { objects } = synth(baseProps({
        loadBalancer: LoadBalancer.awsAlb(),
        healthCheckPath: '/healthz',
        port: 8080,
        healthCheck: { interval: Duration.seconds(10), timeout: Duration.seconds(4), healthyThreshold: 3, unhealthyThreshold: 2 },
      }));
      validateObjects(objects);
      expect(annotationsOf(objects)).toMatchObject({
        [`${PREFIX}/healthcheck-path`]: '/healthz',
        [`${PREFIX}/healthcheck-interval-seconds`]: '10',
        [`${PREFIX}/healthcheck-timeout-seconds`]: '4',
        [`${PREFIX}/healthy-threshold-count`]: '3',
        [`${PREFIX}/unhealthy-threshold-count`]: '2',
      });
    });

    test.each([
      ['healthCheck.interval is 4s', { interval: Duration.seconds(4) }, 'healthCheck.interval is 4s, but AWS ALB accepts 5s to 300s'],
      ['healthCheck.interval is 301s', { interval: Duration.seconds(301) }, 'healthCheck.interval is 301s, but AWS ALB accepts 5s to 300s'],
      ['healthCheck.timeout is 1s', { timeout: Duration.seconds(1) }, 'healthCheck.timeout is 1s, but AWS ALB accepts 2s to 120s'],
      ['healthCheck.timeout is 121s', { interval: Duration.seconds(300), timeout: Duration.seconds(121) }, 'healthCheck.timeout is 121s, but AWS ALB accepts 2s to 120s'],
      ['healthCheck.healthyThreshold is 1', { healthyThreshold: 1 }, 'healthCheck.healthyThreshold is 1, but AWS ALB accepts 2 to 10'],
      ['healthCheck.unhealthyThreshold is 11', { unhealthyThreshold: 11 }, 'healthCheck.unhealthyThreshold is 11, but AWS ALB accepts 2 to 10'],
      ['healthCheck.timeout (5s)', { interval: Duration.seconds(5), timeout: Duration.seconds(5) }, 'healthCheck.timeout (5s) must be shorter than healthCheck.interval (5s)'],
    ])('refused: %s', (_label, healthCheck, message) => {
      expect(() => synth(baseProps({ loadBalancer: LoadBalancer.awsAlb(), healthCheck }))).toThrow(message);
    });

    test('healthCheckAnnotations: false leaves the ALB on the controller\'s defaults (every 15 s, healthy after 2), which the launch side uses', () => {
      const { service, objects } = synth(baseProps({
        loadBalancer: LoadBalancer.awsAlb({ healthCheckAnnotations: false }), healthCheck: { interval: Duration.seconds(1) },
      }));
      expect(Object.keys(annotationsOf(objects)).sort()).toEqual([`${PREFIX}/target-group-attributes`, `${PREFIX}/target-type`]);
      expect(service.budget.registrationDelaySeconds).toBe(15 * 2 + 60);
    });
  });

  test('scheme and ingress class', () => {
    const { objects } = synth(baseProps({ loadBalancer: LoadBalancer.awsAlb({ scheme: AwsAlbScheme.INTERNET_FACING, ingressClassName: 'alb-public' }) }));
    expect(annotationsOf(objects)[`${PREFIX}/scheme`]).toBe('internet-facing');
    expect(only(objects, 'Ingress').spec.ingressClassName).toBe('alb-public');
    expect(() => synth(baseProps({ loadBalancer: LoadBalancer.awsAlb({ ingressClassName: 'ALB' }) }))).toThrow(/loadBalancer\.ingressClassName/);
  });
});
