/**
 * `check` on what people really write (issue 16): each block is built from a manifest written
 * the way the class of problem shows up in the wild.
 */
import { audit, CheckOptions, Finding } from '../../src/check/audit';
import { loadManifests } from '../../src/manifests/topology';

function check(text: string, options: CheckOptions = {}): Finding[] {
  return audit(loadManifests([{ file: 'app.yaml', text }]), options).findings;
}

function rules(findings: Finding[], severity?: string): string[] {
  return findings.filter((f) => severity === undefined || f.severity === severity).map((f) => f.rule).sort();
}

/** A Deployment `web` (no preStop, default grace), its Service and a Tencent Ingress; namespaces as given. */
function app(ns: { deployment?: string; service?: string; ingress?: string }, extra = ''): string {
  const meta = (name: string, namespace?: string) => `metadata:\n  name: ${name}\n${namespace !== undefined ? `  namespace: ${namespace}\n` : ''}`;
  return `apiVersion: apps/v1
kind: Deployment
${meta('web', ns.deployment)}spec:
  replicas: 1
  strategy: { rollingUpdate: { maxUnavailable: 0 } }
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: nginx
          ports: [{ containerPort: 8080 }]
          readinessProbe: { httpGet: { path: /, port: 8080 } }
---
apiVersion: v1
kind: Service
${meta('web', ns.service)}spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
${meta('web', ns.ingress)}  annotations:
    kubernetes.io/ingress.class: qcloud
spec:
  rules:
    - http:
        paths:
          - path: /
            pathType: Prefix
            backend: { service: { name: web, port: { number: 80 } } }
${extra}`;
}

describe('class 1: no namespace is the namespace it is applied to', () => {
  test('a Service without a namespace serves an Ingress in namespace default', () => {
    const findings = check(app({ ingress: 'default' }));
    expect(rules(findings)).not.toContain('broken-reference');
    expect(rules(findings, 'error')).toContain('prestop-wait-missing');
  });

  test('objects in default and objects without a namespace are one app; another namespace is not', () => {
    expect(rules(check(app({ deployment: 'default', service: undefined, ingress: 'default' })))).toContain('prestop-wait-missing');
    const elsewhere = check(app({ ingress: 'shop' }));
    expect(rules(elsewhere)).toContain('broken-reference');
    expect(rules(elsewhere)).not.toContain('prestop-wait-missing');
  });

  test('--namespace: objects without one join those that name it (kubectl apply -n shop)', () => {
    const text = app({ ingress: 'shop' });
    expect(rules(check(text, { namespace: 'shop' }))).toContain('prestop-wait-missing');
    // ...and then no longer match `default`.
    expect(rules(check(app({ ingress: 'default' }), { namespace: 'shop' }))).toContain('broken-reference');
  });

  test('a PodDisruptionBudget without a namespace covers a Deployment in default', () => {
    const pdb = `---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: web }
spec: { maxUnavailable: 1, selector: { matchLabels: { app: web } } }
`;
    const text = app({ deployment: 'default', service: 'default', ingress: 'default' }, pdb).replace('replicas: 1', 'replicas: 3');
    expect(rules(check(text))).not.toContain('pdb-missing');
  });
});
