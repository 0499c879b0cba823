// rehearse reads the same HTTPRoute topology as check: the provider from the Service's Gateway API
// policies, the LB's health check from the TargetGroupConfiguration or HealthCheckPolicy.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { synthesizeExamples } from '../../bench/rollout-runner';
import { healthCheckTiming, LB_PROFILES, readinessGateOf } from '../../src/rehearse/lb-profiles';
import { readRehearsalManifest } from '../../src/rehearse/rehearse-manifest';

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-gateway-rehearse-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the Gateway examples rehearse with the provider their policies name and the policies\' health check', () => {
  const examples = synthesizeExamples(dir, ['aws-gateway-checkout', 'gke-gateway-storefront']);
  expect(examples.map((e) => [e.name, e.provider, e.d])).toEqual([
    ['aws-gateway-checkout', 'aws-alb', 60],
    ['gke-gateway-storefront', 'gke-ingress', 60],
  ]);
  expect(examples[0].providerReason).toBe('its Service has the TargetGroupConfiguration checkout');
  expect(examples[1].providerReason).toBe('its Service has the GCPBackendPolicy storefront');

  const aws = readRehearsalManifest([{ file: examples[0].file, text: examples[0].text }]);
  expect(healthCheckTiming(LB_PROFILES['aws-alb'], aws.context)).toEqual({ intervalSeconds: 5, healthyThreshold: 2, source: 'TargetGroupConfiguration checkout' });
  expect(readinessGateOf(LB_PROFILES['aws-alb'], aws.spec.podSpec, aws.context)).toContain('Namespace checkout-gateway is labelled');

  const gke = readRehearsalManifest([{ file: examples[1].file, text: examples[1].text }]);
  expect(healthCheckTiming(LB_PROFILES['gke-ingress'], gke.context)).toEqual({ intervalSeconds: 5, healthyThreshold: 2, source: 'HealthCheckPolicy storefront' });
  // No NEG annotation on the Service: the rehearsal does not assume GKE's readiness gate.
  expect(readinessGateOf(LB_PROFILES['gke-ingress'], gke.spec.podSpec, gke.context)).toBeUndefined();
});

test('an HTTPRoute without policies or a known Gateway class needs --lb', () => {
  const [example] = synthesizeExamples(dir, ['gke-gateway-storefront']);
  const text = example.text.split(/^---$/m).filter((doc) => !/kind: (GCPBackendPolicy|HealthCheckPolicy)/.test(doc)).join('---');
  expect(() => readRehearsalManifest([{ file: 'x.yaml', text }])).toThrow(/cannot tell which load balancer serves Deployment storefront: HTTPRoute.*vendor policies on its Service.*Pass --lb <provider>/);
  expect(readRehearsalManifest([{ file: 'x.yaml', text }], { lb: 'gke-ingress' }).provider).toBe('gke-ingress');
});
