import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { audit, Finding } from '../../src/check/audit';
import { formatText } from '../../src/check/report';
import { KubeObject, loadManifests } from '../../src/manifests/topology';

// Issue 16 class 9: every finding is true of the manifest as written, and says what it means.
const FIXTURE = path.join(__dirname, 'class9-fixtures', 'web-aws.yaml');

/** The fixture's objects, edited by `edit`, then audited. */
function check(edit: (objects: KubeObject[]) => void = () => undefined): Finding[] {
  const objects = parseAllDocuments(fs.readFileSync(FIXTURE, 'utf8')).map((d) => d.toJS() as KubeObject);
  edit(objects);
  return audit(loadManifests([{ file: 'web.yaml', text: objects.map((o) => stringify(o)).join('---\n') }])).findings;
}

const of = (objects: KubeObject[], kind: string) => objects.find((o) => o.kind === kind)!;
const container = (objects: KubeObject[]) => of(objects, 'Deployment').spec.template.spec.containers[0];
const rules = (findings: Finding[]) => findings.map((f) => f.rule).sort();

describe('the grace period is judged as written', () => {
  test('no preStop wait, default grace 30 >= 0 + S 30: only prestop-wait-missing, whose fix carries the grace', () => {
    const findings = check();
    expect(rules(findings)).not.toContain('grace-period-too-short');
    const missing = findings.find((f) => f.rule === 'prestop-wait-missing')!;
    expect(missing.severity).toBe('error');
    const grace = missing.fix.set!['spec.template.spec.terminationGracePeriodSeconds'] as number;
    expect(grace).toBeGreaterThan(30);
    expect(missing.fix.description).toContain(`set terminationGracePeriodSeconds to ${grace}`);
  });

  test('no wait and a grace below S as written: the grace error is true and reported', () => {
    const findings = check((o) => { of(o, 'Deployment').spec.template.spec.terminationGracePeriodSeconds = 20; });
    const grace = findings.find((f) => f.rule === 'grace-period-too-short')!;
    expect(grace.message).toBe('terminationGracePeriodSeconds is 20, shorter than no preStop wait (0 s) + the drain timeout S (30 s) = 30 s: SIGKILL can cut requests still in flight');
  });

  test('a short wait (10 s) with grace 30 < 10 + 30: both are true; the grace fix names the longer wait D needs', () => {
    const findings = check((o) => { container(o).lifecycle = { preStop: { exec: { command: ['sleep', '10'] } } }; });
    expect(rules(findings)).toEqual(expect.arrayContaining(['grace-period-too-short', 'prestop-wait-too-short']));
    const grace = findings.find((f) => f.rule === 'grace-period-too-short')!;
    expect(grace.message).toMatch(/shorter than the preStop wait \(10 s\) \+ the drain timeout S \(30 s\) = 40 s/);
    expect(grace.fix.description).toMatch(/, which also covers the longer preStop wait that D = \d+ s needs$/);
    // Both fixes set the same grace period, so applying both is consistent.
    const wait = findings.find((f) => f.rule === 'prestop-wait-too-short')!;
    expect(grace.fix.set!['spec.template.spec.terminationGracePeriodSeconds']).toBe(wait.fix.set!['spec.template.spec.terminationGracePeriodSeconds']);
  });
});

describe('wording', () => {
  test('one object: "this object", never "these 1 object"', () => {
    const result = audit(loadManifests([{ file: 'cm.yaml', text: 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n' }]));
    const text = formatText(result, 'error');
    expect(text).toContain('No Deployment serves traffic through a load balancer (Ingress, HTTPRoute, Service of type LoadBalancer) in this object; nothing to audit.');
    expect(text).not.toMatch(/these 1 /);
    const two = audit(loadManifests([{ file: 'cm.yaml', text: 'kind: ConfigMap\nmetadata: { name: c }\n---\nkind: ConfigMap\nmetadata: { name: d }\n' }]));
    expect(formatText(two, 'error')).toContain('in these 2 objects;');
  });

  test('replicas unset and no HPA: one pod (the Kubernetes default), so no pdb-missing and no "autoscaled"', () => {
    const findings = check();
    expect(rules(findings)).not.toContain('pdb-missing');
    expect(findings.map((f) => f.message).join('\n')).not.toMatch(/autoscal/);
  });

  test('an HPA that targets the Deployment: pdb-missing names it and its range', () => {
    const hpa = (maxReplicas: number) => (o: KubeObject[]) => {
      o.push({
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'web-hpa' },
        spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas },
      });
    };
    const pdb = check(hpa(6)).find((f) => f.rule === 'pdb-missing')!;
    expect(pdb.message).toBe('no PodDisruptionBudget selects the pods of this Deployment, which HorizontalPodAutoscaler web-hpa scales to 2-6 replicas: a node drain may evict them all at once');
    expect(rules(check(hpa(1)))).not.toContain('pdb-missing');
    // An HPA for another Deployment says nothing about this one.
    const other = check((o) => { hpa(6)(o); o[o.length - 1].spec.scaleTargetRef.name = 'api'; });
    expect(rules(other)).not.toContain('pdb-missing');
  });

  test('a container with a startup probe but no readiness probe: says what is really missing', () => {
    const findings = check((o) => { container(o).startupProbe = { httpGet: { path: '/started', port: 'http' }, failureThreshold: 30 }; });
    const probe = findings.find((f) => f.rule === 'readiness-probe-missing')!;
    expect(probe.message).toMatch(/^container web has a startup probe but no readiness probe: it turns Ready once the startup probe passes and stays Ready/);
    expect(probe.message).not.toMatch(/before it can serve/);
    expect(check().find((f) => f.rule === 'readiness-probe-missing')!.message).toBe('container web has no readiness probe: a new pod counts as Ready before it can serve');
  });

  test.each([
    ['AWS backend-protocol-version: GRPC on the Ingress', (o: KubeObject[]) => { of(o, 'Ingress').metadata.annotations['alb.ingress.kubernetes.io/backend-protocol-version'] = 'GRPC'; }],
    ['AWS backend-protocol-version: GRPC on the Service', (o: KubeObject[]) => { of(o, 'Service').metadata.annotations = { 'alb.ingress.kubernetes.io/backend-protocol-version': 'GRPC' }; }],
    ['Alibaba backend-protocol: grpc', (o: KubeObject[]) => { of(o, 'Ingress').metadata.annotations['alb.ingress.kubernetes.io/backend-protocol'] = 'grpc'; }],
    ['ingress-nginx backend-protocol: GRPCS', (o: KubeObject[]) => { of(o, 'Ingress').metadata.annotations['nginx.ingress.kubernetes.io/backend-protocol'] = 'GRPCS'; }],
  ])('a gRPC backend (%s) gets a gRPC readiness probe suggested', (_name, edit) => {
    const probe = check(edit).find((f) => f.rule === 'readiness-probe-missing')!;
    expect(probe.fix.description).toMatch(/^add a gRPC readiness probe on port 8080 \(the load balancer speaks gRPC to the pods: .*(GRPC|grpc)/);
    expect(probe.fix.set!['spec.template.spec.containers[web].readinessProbe']).toMatchObject({ grpc: { port: 8080 } });
    expect(probe.fix.set!['spec.template.spec.containers[web].readinessProbe']).not.toHaveProperty('httpGet');
  });

  test('an HTTP backend (or HTTP2, which is not gRPC) keeps the HTTP probe', () => {
    const http2 = check((o) => { of(o, 'Ingress').metadata.annotations['alb.ingress.kubernetes.io/backend-protocol-version'] = 'HTTP2'; });
    expect(http2.find((f) => f.rule === 'readiness-probe-missing')!.fix.set!['spec.template.spec.containers[web].readinessProbe'])
      .toMatchObject({ httpGet: { path: '/', port: 8080 } });
  });
});
