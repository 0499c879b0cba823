import * as fs from 'node:fs';
import * as path from 'node:path';
import { audit, Finding } from '../../src/check/audit';
import { detectProvider, loadManifests } from '../../src/manifests/topology';

// Issue 16 class 2: the provider told from vendor-only keys (Alibaba ALB, GKE), not only from the class.
const DIR = path.join(__dirname, 'class2-fixtures');

function load(name: string) {
  const file = path.join(DIR, name);
  return loadManifests([{ file, text: fs.readFileSync(file, 'utf8') }]);
}

function check(name: string): Finding[] {
  return audit(load(name)).findings;
}

const missingWait = (findings: Finding[]) => findings.find((f) => f.rule === 'prestop-wait-missing')!;

describe('Alibaba ALB from the ALB-instance keys AWS does not have', () => {
  test('class alb with address-type and vswitch-ids is Alibaba: judged against its D of 10 s, no provider-unknown', () => {
    const findings = check('alibaba-vswitch.yaml');
    expect(findings.filter((f) => f.rule === 'provider-unknown')).toEqual([]);
    expect(missingWait(findings).message).toContain('D = 10 s');
    expect(missingWait(findings).severity).toBe('error');
  });

  test.each([
    'address-type', 'vswitch-ids', 'name', 'id', 'charge-type', 'edition', 'order', 'canary', 'rewrite-target',
    'sticky-session', 'backend-scheduler', 'traffic-limit-qps', 'enable-cors', 'rule-direction.tea',
  ])('alb.ingress.kubernetes.io/%s says Alibaba', (key) => {
    const detection = detectProvider({ kind: 'Ingress', metadata: { name: 'i', annotations: { [`alb.ingress.kubernetes.io/${key}`]: 'x' } }, spec: { ingressClassName: 'alb' } });
    expect([key, detection.provider]).toEqual([key, 'alibaba-alb']);
  });

  test.each([
    'target-type', 'load-balancer-name', 'tags', 'wafv2-acl-name', 'frontend-nlb-scheme', 'listener-attributes.HTTPS-443',
    'transforms.svc', 'auth-idp-oidc', 'mutual-authentication',
  ])('alb.ingress.kubernetes.io/%s says AWS', (key) => {
    const detection = detectProvider({ kind: 'Ingress', metadata: { name: 'i', annotations: { [`alb.ingress.kubernetes.io/${key}`]: 'x' } }, spec: { ingressClassName: 'alb' } });
    expect([key, detection.provider]).toEqual([key, 'aws-alb']);
  });

  test.each(['healthcheck-path', 'listen-ports', 'ssl-redirect', 'backend-protocol', 'actions.svc', 'conditions.svc', 'namespace-hint'])(
    'a key both controllers read (or neither documents), %s, tells nothing', (key) => {
      const detection = detectProvider({ kind: 'Ingress', metadata: { name: 'i', annotations: { [`alb.ingress.kubernetes.io/${key}`]: 'x' } }, spec: { ingressClassName: 'alb' } });
      expect(detection.provider).toBeUndefined();
      expect(detection.candidates).toEqual(['alibaba-alb', 'aws-alb']);
    });
});

describe('GKE from an Ingress without a class', () => {
  test.each([
    ['gke-static-ip.yaml', /the GKE annotation kubernetes\.io\/ingress\.global-static-ip-name/],
    ['gke-neg-service.yaml', /backend Service hello has the GKE annotation cloud\.google\.com\/neg/],
    ['gke-backendconfig.yaml', /the GKE BackendConfig hello/],
  ])('%s is GKE: judged against its D of 40 s, no provider-unknown', (name, reason) => {
    const findings = check(name);
    expect(findings.filter((f) => f.rule === 'provider-unknown')).toEqual([]);
    expect(missingWait(findings).message).toContain('D = 40 s');
    const ingress = load(name).find((o) => o.object.kind === 'Ingress')!.object;
    const others = load(name);
    const services = others.filter((o) => o.object.kind === 'Service').map((o) => o.object);
    expect(detectProvider(ingress, others, [], services).reason).toMatch(reason);
  });

  test.each([
    'kubernetes.io/ingress.regional-static-ip-name', 'kubernetes.io/ingress.allow-http', 'ingress.gcp.kubernetes.io/pre-shared-cert',
    'networking.gke.io/v1beta1.FrontendConfig', 'networking.gke.io/managed-certificates',
  ])('the Ingress annotation %s says GKE', (key) => {
    expect(detectProvider({ kind: 'Ingress', metadata: { name: 'i', annotations: { [key]: 'x' } }, spec: {} }).provider).toBe('gke-ingress');
  });

  test.each(['cloud.google.com/backend-config', 'beta.cloud.google.com/backend-config', 'cloud.google.com/app-protocols'])(
    'a backend Service annotated %s says GKE', (key) => {
      const service = { kind: 'Service', metadata: { name: 's', annotations: { [key]: '{}' } } };
      expect(detectProvider({ kind: 'Ingress', metadata: { name: 'i' }, spec: {} }, [], [], [service]).provider).toBe('gke-ingress');
    });

  test('a class that names another controller keeps it: GKE keys do not override class nginx', () => {
    const detection = detectProvider({ kind: 'Ingress', metadata: { name: 'i', annotations: { 'kubernetes.io/ingress.global-static-ip-name': 'ip' } }, spec: { ingressClassName: 'nginx' } });
    expect(detection.provider).toBeUndefined();
  });

  test('without any GKE signal the provider stays unknown (the negative fixture)', () => {
    const findings = check('no-class.yaml');
    expect(findings.filter((f) => f.rule === 'provider-unknown').map((f) => f.message)).toEqual([expect.stringContaining('the Ingress names no class')]);
  });
});

describe('AWS from its annotations on the backend Service', () => {
  test('class alb with no vendor key on the Ingress, target-type on the Service: AWS, and the reason says where', () => {
    const service = { kind: 'Service', metadata: { name: 'web', annotations: { 'alb.ingress.kubernetes.io/target-type': 'ip' } } };
    const detection = detectProvider({ kind: 'Ingress', metadata: { name: 'i' }, spec: { ingressClassName: 'alb' } }, [], [], [service]);
    expect(detection.provider).toBe('aws-alb');
    expect(detection.reason).toBe('class alb with the AWS-only annotation alb.ingress.kubernetes.io/target-type (on Service web)');
  });

  test('a Service key both controllers read tells nothing', () => {
    const service = { kind: 'Service', metadata: { name: 'web', annotations: { 'alb.ingress.kubernetes.io/healthcheck-path': '/' } } };
    expect(detectProvider({ kind: 'Ingress', metadata: { name: 'i' }, spec: { ingressClassName: 'alb' } }, [], [], [service]).provider).toBeUndefined();
  });
});
