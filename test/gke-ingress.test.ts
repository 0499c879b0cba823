import { BackendConfig } from '@kubernetes-models/gke/cloud.google.com/v1/BackendConfig';
import { ApiObject, Chart, Duration, JsonPatch, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { GkeIngress, GracefulWebService, LoadBalancer } from '../src';
import { baseProps, KubeObject, only, synth, validateObjects } from './util';
import { detectProvider } from '../src/manifests/topology';

const gke = baseProps({ loadBalancer: LoadBalancer.gkeIngress() });

describe('GKE Ingress', () => {
  test('defaults: class annotation gce, NEG ClusterIP Service, a BackendConfig it references, D = 60 s', () => {
    const lb = LoadBalancer.gkeIngress();
    expect(lb).toBeInstanceOf(GkeIngress);
    expect(lb.defaultDeregistrationDelay.toSeconds()).toBe(60);
    const { service, objects } = synth(gke);
    validateObjects(objects);
    const ingress = only(objects, 'Ingress');
    expect(ingress.metadata.annotations).toEqual({ 'kubernetes.io/ingress.class': 'gce' });
    expect(ingress.spec.ingressClassName).toBeUndefined();
    const svc = only(objects, 'Service');
    expect(svc.spec.type).toBe('ClusterIP');
    const backendConfig = only(objects, 'BackendConfig');
    expect(svc.metadata.annotations).toEqual({
      'cloud.google.com/neg': '{"ingress": true}',
      'cloud.google.com/backend-config': JSON.stringify({ default: backendConfig.metadata.name }),
    });
    expect(JSON.parse(svc.metadata.annotations['cloud.google.com/neg'])).toEqual({ ingress: true });
    expect(backendConfig.apiVersion).toBe('cloud.google.com/v1');
    expect(backendConfig.spec).toEqual({
      connectionDraining: { drainingTimeoutSec: 120 },
      healthCheck: { type: 'HTTP', requestPath: '/', port: 80, checkIntervalSec: 5, timeoutSec: 2, healthyThreshold: 2, unhealthyThreshold: 3 },
    });
    // Google's own model accepts it.
    expect(() => new BackendConfig(backendConfig as any).validate()).not.toThrow();
    // M = 25 % of 60 = 15: preStop 60 + 15, grace 60 + 15 + 30 + 15.
    expect(service.budget.safetyMarginSeconds).toBe(15);
    expect(service.budget.preStopSleepSeconds).toBe(75);
    expect(service.budget.terminationGracePeriodSeconds).toBe(120);
  });

  test('GKE injects the NEG readiness gate: the construct never writes it, and relies on it instead of minReadySeconds', () => {
    const { service, objects } = synth(gke);
    const pod = only(objects, 'Deployment').spec.template.spec;
    expect(pod.readinessGates).toBeUndefined();
    expect(JSON.stringify(objects)).not.toContain(GkeIngress.READINESS_GATE);
    expect(service.budget.launchGated).toBe(true);
    expect(only(objects, 'Deployment').spec.minReadySeconds).toBe(0);
    // Registration: the BackendConfig check (5 s x 2) plus D for the NEG attach.
    expect(service.budget.registrationDelaySeconds).toBe(70);
  });

  test('the health check follows the probe and the container port', () => {
    const { objects } = synth(baseProps({
      loadBalancer: LoadBalancer.gkeIngress(),
      port: 8080,
      healthCheckPath: '/ready',
      healthCheck: { interval: Duration.seconds(10), timeout: Duration.seconds(10), healthyThreshold: 1, unhealthyThreshold: 5 },
    }));
    validateObjects(objects);
    expect(only(objects, 'BackendConfig').spec.healthCheck).toEqual({
      type: 'HTTP', requestPath: '/ready', port: 8080, checkIntervalSec: 10, timeoutSec: 10, healthyThreshold: 1, unhealthyThreshold: 5,
    });
  });

  test('gce-internal on request; any other class is refused', () => {
    const { objects } = synth(baseProps({ loadBalancer: LoadBalancer.gkeIngress({ ingressClassName: 'gce-internal' }) }));
    expect(only(objects, 'Ingress').metadata.annotations['kubernetes.io/ingress.class']).toBe('gce-internal');
    expect(detectProvider(only(objects, 'Ingress')).provider).toBe('gke-ingress');
    expect(detectProvider(only(synth(gke).objects, 'Ingress')).provider).toBe('gke-ingress');
    expect(() => synth(baseProps({ loadBalancer: LoadBalancer.gkeIngress({ ingressClassName: 'nginx' }) })))
      .toThrow('loadBalancer.ingressClassName "nginx" is not served by GKE\'s Ingress controller: use "gce" or "gce-internal"');
  });

  describe('connection draining', () => {
    test('an explicit timeout of at least D + S is written as given', () => {
      const { objects } = synth(baseProps({ loadBalancer: LoadBalancer.gkeIngress({ connectionDrainingTimeout: Duration.minutes(2) }) }));
      expect(only(objects, 'BackendConfig').spec.connectionDraining).toEqual({ drainingTimeoutSec: 120 });
    });

    test.each([
      [0, 'loadBalancer.connectionDrainingTimeout (0s) must be at least deregistrationDelay (60s) + drainTimeout (30s) = 90s'],
      [89, 'loadBalancer.connectionDrainingTimeout (89s) must be at least deregistrationDelay (60s) + drainTimeout (30s) = 90s'],
      [3601, 'loadBalancer.connectionDrainingTimeout is 3601s, but GKE Ingress accepts 0s to 3600s'],
    ])('a timeout of %d s is refused', (seconds, message) => {
      expect(() => synth(baseProps({ loadBalancer: LoadBalancer.gkeIngress({ connectionDrainingTimeout: Duration.seconds(seconds) }) })))
        .toThrow(message);
    });

    test('a budget no backend service can drain for is refused rather than capped', () => {
      expect(() => synth(baseProps({ loadBalancer: LoadBalancer.gkeIngress(), shutdown: { drainTimeout: Duration.seconds(3541) } })))
        .toThrow('deregistrationDelay (60s) + drainTimeout (3541s) = 3601s exceeds the 3600s a GKE backend service can drain for');
    });

    test('property: derived = grace period capped at 3600 and never below D + S; explicit passes iff in [D + S, 3600]', () => {
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
          const { service, objects } = synth(baseProps({ loadBalancer: LoadBalancer.gkeIngress(), shutdown }));
          const derived = only(objects, 'BackendConfig').spec.connectionDraining.drainingTimeoutSec;
          expect(service.budget.terminationGracePeriodSeconds).toBe(d + m + s + m);
          expect(derived).toBe(Math.min(d + m + s + m, 3600));
          expect(derived).toBeGreaterThanOrEqual(d + s);
          const attempt = () => synth(baseProps({
            loadBalancer: LoadBalancer.gkeIngress({ connectionDrainingTimeout: Duration.seconds(explicit) }), shutdown,
          }));
          if (explicit >= d + s && explicit <= 3600) {
            const out = attempt().objects;
            validateObjects(out);
            expect(only(out, 'BackendConfig').spec.connectionDraining.drainingTimeoutSec).toBe(explicit);
          } else {
            expect(attempt).toThrow(/loadBalancer\.connectionDrainingTimeout/);
          }
        }), { numRuns: 60 });
    });
  });

  describe('health check ranges (Compute Engine)', () => {
    test.each([
      ['interval 301 s', { interval: Duration.seconds(301) }, 'healthCheck.interval is 301s, but GKE Ingress accepts 1s to 300s'],
      ['healthy threshold 11', { healthyThreshold: 11 }, 'healthCheck.healthyThreshold is 11, but GKE Ingress accepts 1 to 10'],
      ['unhealthy threshold 11', { unhealthyThreshold: 11 }, 'healthCheck.unhealthyThreshold is 11, but GKE Ingress accepts 1 to 10'],
      ['timeout above interval', { interval: Duration.seconds(5), timeout: Duration.seconds(6) },
        'healthCheck.timeout (6s) must not exceed healthCheck.interval (5s) for GKE Ingress'],
    ])('refused: %s', (_label, healthCheck, message) => {
      expect(() => synth(baseProps({ loadBalancer: LoadBalancer.gkeIngress(), healthCheck }))).toThrow(message);
    });

    test('backendConfigHealthCheck: false leaves GKE inferring its check (healthy after 1), which the launch side uses', () => {
      const { service, objects } = synth(baseProps({
        loadBalancer: LoadBalancer.gkeIngress({ backendConfigHealthCheck: false }), healthCheck: { interval: Duration.seconds(301) },
      }));
      validateObjects(objects);
      expect(only(objects, 'BackendConfig').spec).toEqual({ connectionDraining: { drainingTimeoutSec: 120 } });
      expect(service.budget.registrationDelaySeconds).toBe(301 * 1 + 60);
    });
  });

  test('the BackendConfig is reachable as the service\'s child for settings the props do not cover', () => {
    const chart = new Chart(Testing.app(), 'test');
    const web = new GracefulWebService(chart, 'web', gke);
    (web.node.findChild('BackendConfig') as ApiObject).addJsonPatch(JsonPatch.add('/spec/timeoutSec', 120));
    const objects = Testing.synth(chart) as KubeObject[];
    validateObjects(objects);
    expect(only(objects, 'BackendConfig').spec.timeoutSec).toBe(120);
  });

  test('a refused service leaves no BackendConfig behind', () => {
    const chart = new Chart(Testing.app(), 'test');
    expect(() => new GracefulWebService(chart, 'web', baseProps({
      loadBalancer: LoadBalancer.gkeIngress(),
      serviceAnnotations: { 'cloud.google.com/neg': '{"ingress": false}' },
    }))).toThrow(/serviceAnnotations\["cloud\.google\.com\/neg"\].*the load balancer needs/);
    expect(Testing.synth(chart)).toEqual([]);
  });

  test('the strict schema check can fail: an unknown BackendConfig field or a dangling reference is caught', () => {
    const { objects } = synth(gke);
    const withUnknown = objects.map((o): KubeObject => o.kind === 'BackendConfig'
      ? { ...o, spec: { ...o.spec, connectionDraining: { drainingTimeoutSec: 75, drainingTimeout: 75 } } } : o);
    expect(() => validateObjects(withUnknown)).toThrow('BackendConfig spec.connectionDraining.drainingTimeout is not a BackendConfig field');
    const withString = objects.map((o): KubeObject => o.kind === 'BackendConfig'
      ? { ...o, spec: { ...o.spec, connectionDraining: { drainingTimeoutSec: '75' } } } : o);
    expect(() => validateObjects(withString)).toThrow(/drainingTimeoutSec must be integer/);
    expect(() => validateObjects(objects.filter((o) => o.kind !== 'BackendConfig'))).toThrow(/BackendConfig .* does not exist/);
  });
});
