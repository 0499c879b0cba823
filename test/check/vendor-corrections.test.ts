import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { audit, Finding } from '../../src/check/audit';
import { KubeObject, loadManifests } from '../../src/manifests/topology';

// Issue 15 corrections 5-7, check side: what check reads follows the vendors' sources.
const read = (file: string) => parseAllDocuments(fs.readFileSync(path.join(__dirname, file), 'utf8')).map((d) => d.toJS() as KubeObject);
const GKE = 'vendor-fixtures/gke-backendconfig-ports.yaml';
const AWS = 'class9-fixtures/web-aws.yaml';

function check(file: string, edit: (objects: KubeObject[]) => void = () => undefined): Finding[] {
  const objects = read(file);
  edit(objects);
  return audit(loadManifests([{ file: 'app.yaml', text: objects.map((o) => stringify(o)).join('---\n') }])).findings;
}

const of = (objects: KubeObject[], kind: string) => objects.find((o) => o.kind === kind)!;

describe('correction 5: class annotation beside spec.ingressClassName', () => {
  const withAnnotation = (value: string) => (o: KubeObject[]) => { of(o, 'Ingress').metadata.annotations['kubernetes.io/ingress.class'] = value; };

  test('different values: an error saying the API server refuses it (kubernetes#115447 kept that) and GKE reads only the annotation', () => {
    const conflict = check(AWS, withAnnotation('nginx')).find((f) => f.rule === 'ingress-class-conflict')!;
    expect(conflict.severity).toBe('error');
    expect(conflict.message).toBe('sets kubernetes.io/ingress.class (nginx) and spec.ingressClassName (alb), which differ: the API server refuses to create it, '
      + 'and controllers disagree on which of the two wins (GKE reads only the annotation)');
  });

  test('the same value: accepted by the API server since kubernetes#115447, so only a warning, and it does not say "refuses"', () => {
    const same = check(AWS, withAnnotation('alb')).find((f) => f.rule === 'ingress-class-conflict')!;
    expect(same.severity).toBe('warning');
    expect(same.message).toMatch(/^sets both kubernetes\.io\/ingress\.class and spec\.ingressClassName to alb: the API server accepts the pair since kubernetes\/kubernetes#115447/);
    expect(same.fix.set).toEqual({ 'metadata.annotations["kubernetes.io/ingress.class"]': null });
  });
});

describe('correction 6: GKE backend-config lookup is port name, then port number, then default', () => {
  const drainingFindings = (findings: Finding[]) => findings.filter((f) => f.rule === 'gke-draining-timeout-too-short' || f.rule === 'health-check-mismatch')
    .map((f) => `${f.rule} ${f.object.name}`);

  test('name and number both listed: the BackendConfig named by port name is used (60 s, /ready: nothing to report)', () => {
    expect(drainingFindings(check(GKE))).toEqual([]);
  });

  test('only the number listed: that one is used', () => {
    const findings = check(GKE, (o) => {
      of(o, 'Service').metadata.annotations['cloud.google.com/backend-config'] = '{"ports": {"80": "by-number"}, "default": "fallback"}';
    });
    expect(drainingFindings(findings).sort()).toEqual(['gke-draining-timeout-too-short by-number', 'health-check-mismatch by-number']);
  });

  test('neither listed: the default is used', () => {
    const findings = check(GKE, (o) => {
      of(o, 'Service').metadata.annotations['cloud.google.com/backend-config'] = '{"ports": {"8443": "by-number"}, "default": "fallback"}';
    });
    expect(drainingFindings(findings).sort()).toEqual(['gke-draining-timeout-too-short fallback', 'health-check-mismatch fallback']);
  });

  test('the GA key wins over the beta key (ingress-gce getBackendConfigAnnotation)', () => {
    const findings = check(GKE, (o) => {
      of(o, 'Service').metadata.annotations['beta.cloud.google.com/backend-config'] = '{"default": "by-number"}';
    });
    expect(drainingFindings(findings)).toEqual([]);
  });
});

describe('correction 7: AWS Service annotations before the Ingress\'s; IngressClassParams targetType over the annotation', () => {
  const probe = (o: KubeObject[]) => {
    of(o, 'Deployment').spec.template.spec.containers[0].readinessProbe = { httpGet: { path: '/ready', port: 'http' } };
  };

  test('health-check path and port, key by key: each finding is on the object whose annotation wins', () => {
    const findings = check(AWS, (o) => {
      probe(o);
      of(o, 'Ingress').metadata.annotations['alb.ingress.kubernetes.io/healthcheck-path'] = '/ingress';
      of(o, 'Ingress').metadata.annotations['alb.ingress.kubernetes.io/healthcheck-port'] = '9999';
      of(o, 'Service').metadata.annotations = { 'alb.ingress.kubernetes.io/healthcheck-port': '9090' };
    });
    const mismatches = findings.filter((f) => f.rule === 'health-check-mismatch').map((f) => `${f.object.kind} ${f.message.match(/checks ([^\s,]+(?: \d+)?)/)![1]}`);
    expect(mismatches.sort()).toEqual(['Ingress /ingress', 'Service port 9090']);
  });

  test('the Service\'s health-check path beats the Ingress\'s', () => {
    const findings = check(AWS, (o) => {
      probe(o);
      of(o, 'Ingress').metadata.annotations['alb.ingress.kubernetes.io/healthcheck-path'] = '/ingress';
      of(o, 'Service').metadata.annotations = { 'alb.ingress.kubernetes.io/healthcheck-path': '/ready' };
    });
    expect(findings.filter((f) => f.rule === 'health-check-mismatch')).toEqual([]);
  });

  const classWithParams = (targetType: string) => (o: KubeObject[]) => {
    const parameters = { apiGroup: 'elbv2.k8s.aws', kind: 'IngressClassParams', name: 'alb-params' };
    o.push({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'alb' }, spec: { controller: 'ingress.k8s.aws/alb', parameters } });
    o.push({ apiVersion: 'elbv2.k8s.aws/v1beta1', kind: 'IngressClassParams', metadata: { name: 'alb-params' }, spec: { targetType } });
  };

  test('IngressClassParams spec.targetType instance overrides the annotation ip: the instance default D (90 s) applies', () => {
    const missing = (findings: Finding[]) => findings.find((f) => f.rule === 'prestop-wait-missing')!.message;
    expect(missing(check(AWS))).toContain('D = 60 s');
    expect(missing(check(AWS, classWithParams('instance')))).toContain('D = 90 s');
  });

  test('the AWS readiness gate against the IngressClassParams target type, with a fix that names where it is set', () => {
    const gate = (o: KubeObject[]) => {
      of(o, 'Deployment').spec.template.spec.readinessGates = [{ conditionType: 'target-health.elbv2.k8s.aws/k8s-default-web-0123456789' }];
    };
    expect(check(AWS, gate).filter((f) => f.rule === 'alb-readiness-gate-without-direct-access')).toEqual([]);
    const stalled = check(AWS, (o) => { gate(o); classWithParams('instance')(o); }).find((f) => f.rule === 'alb-readiness-gate-without-direct-access')!;
    expect(stalled.message).toMatch(/target-type is instance \(the spec\.targetType of the IngressClassParams of its class, which overrides the annotation\)/);
    expect(stalled.fix.description).toMatch(/^set spec\.targetType: ip in the IngressClassParams/);
    expect(stalled.fix.set).toBeUndefined();
  });

  test('IngressClassParams without targetType, or a class of another controller, leaves the annotation in charge', () => {
    const missing = (findings: Finding[]) => findings.find((f) => f.rule === 'prestop-wait-missing')!.message;
    expect(missing(check(AWS, (o) => { classWithParams('instance')(o); delete of(o, 'IngressClassParams').spec.targetType; }))).toContain('D = 60 s');
  });
});
