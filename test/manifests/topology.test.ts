import * as fs from 'node:fs';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { stringify } from 'yaml';
import {
  detectProvider, ingressBackends, loadManifests, loadManifestsWithPositions, loadPlainDocuments, ManifestSyntaxError, resolveTopology,
} from '../../src/manifests/topology';

const app = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: app
          image: nginx
          ports: [{ name: http, containerPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
  annotations: { alb.ingress.kubernetes.io/healthcheck-enabled: "true" }
spec:
  ingressClassName: alb
  rules:
    - http:
        paths:
          - path: /
            pathType: Prefix
            backend: { service: { name: web, port: { number: 80 } } }
`;

describe('loadManifests', () => {
  test('reads multi-document YAML with the line each object starts on', () => {
    const objects = loadManifests([{ file: 'app.yaml', text: app }]);
    expect(objects.map((o) => [o.object.kind, o.source.line])).toEqual([['Deployment', 2], ['Service', 14], ['Ingress', 21]]);
  });

  test('flattens kind: List and skips empty and scalar documents', () => {
    const text = 'apiVersion: v1\nkind: List\nitems:\n  - kind: Service\n    metadata: { name: a }\n  - kind: Service\n    metadata: { name: b }\n---\n---\n# only a comment\n---\nhello\n';
    const objects = loadManifests([{ file: 'list.yaml', text }]);
    expect(objects.map((o) => [o.object.metadata.name, o.source.line])).toEqual([['a', 4], ['b', 6]]);
  });

  test('invalid YAML names file, line and column', () => {
    const text = 'kind: Service\nmetadata:\n  name: a\n  labels: { x: [1, 2 }\n';
    expect(() => loadManifests([{ file: 'bad.yaml', text }])).toThrow(ManifestSyntaxError);
    expect(() => loadManifests([{ file: 'bad.yaml', text }])).toThrow(/^bad\.yaml:4:\d+: /);
    expect(() => loadManifests([{ file: 'dup.yaml', text: 'kind: A\nkind: B\n' }])).toThrow(/^dup\.yaml:2:1: /);
  });
});

describe('resolveTopology', () => {
  test('follows Ingress → Service port → Deployment and a named targetPort to its container', () => {
    const topology = resolveTopology(loadManifests([{ file: 'app.yaml', text: app }]));
    expect(topology.broken).toEqual([]);
    expect(topology.served).toHaveLength(1);
    const [route] = topology.served[0].routes;
    expect(route.servicePort).toEqual({ port: 80, name: 'http', targetPort: 'http' });
    expect(route.target).toEqual({ containerIndex: 0, containerName: 'app', port: 8080 });
  });

  test('reports broken references and ignores Deployments in another namespace', () => {
    const text = app.replace('targetPort: http', 'targetPort: web').replace('namespace: shop }\nspec:\n  template', 'namespace: other }\nspec:\n  template');
    const topology = resolveTopology(loadManifests([{ file: 'a.yaml', text }]));
    expect(topology.served).toEqual([]);
    const missing = resolveTopology(loadManifests([{ file: 'b.yaml', text: app.replace('name: web, port: { number: 80 }', 'name: nope, port: { number: 80 }') }]));
    expect(missing.broken.map((b) => b.message)).toEqual(['backend Service nope is not in the input']);
    const badPort = resolveTopology(loadManifests([{ file: 'c.yaml', text: app.replace('targetPort: http', 'targetPort: metrics') }]));
    expect(badPort.broken.map((b) => b.message)).toEqual(['targetPort "metrics" is not a container port of Deployment shop/web']);
  });

  test('reads v1beta1 backends and default backends', () => {
    expect(ingressBackends({ spec: { backend: { serviceName: 'a', servicePort: 80 }, defaultBackend: undefined } })).toEqual([{ serviceName: 'a', port: 80 }]);
  });
});

describe('detectProvider', () => {
  const ingress = (className: string | undefined, annotations: Record<string, string> = {}, legacy = false) => ({
    kind: 'Ingress',
    metadata: { name: 'i', annotations: legacy && className ? { ...annotations, 'kubernetes.io/ingress.class': className } : annotations },
    spec: legacy ? {} : { ingressClassName: className },
  });

  test('classes that name one provider', () => {
    expect(detectProvider(ingress('gce', {}, true)).provider).toBe('gke-ingress');
    expect(detectProvider(ingress('gce-internal', {}, true)).provider).toBe('gke-ingress');
    expect(detectProvider(ingress('qcloud', {}, true)).provider).toBe('tencent-clb');
    expect(detectProvider(ingress(undefined, { 'ingress.cloud.tencent.com/direct-access': 'true' })).provider).toBe('tencent-clb');
    expect(detectProvider(ingress('nginx')).provider).toBeUndefined();
    expect(detectProvider(ingress('nginx')).candidates).toEqual([]);
  });

  test('class alb is told apart by vendor-only keys, an IngressClass controller or the Alibaba gate', () => {
    expect(detectProvider(ingress('alb', { 'alb.ingress.kubernetes.io/target-type': 'ip' })).provider).toBe('aws-alb');
    expect(detectProvider(ingress('alb', { 'alb.ingress.kubernetes.io/target-group-attributes': 'deregistration_delay.timeout_seconds=45' })).provider).toBe('aws-alb');
    expect(detectProvider(ingress('alb', { 'alb.ingress.kubernetes.io/healthcheck-enabled': 'true' })).provider).toBe('alibaba-alb');
    expect(detectProvider(ingress('alb'), [], [{ readinessGates: [{ conditionType: 'target-health.alb.k8s.alibabacloud' }] }]).provider).toBe('alibaba-alb');
    const shared = detectProvider(ingress('alb', { 'alb.ingress.kubernetes.io/healthcheck-path': '/' }));
    expect(shared.provider).toBeUndefined();
    expect(shared.candidates).toEqual(['alibaba-alb', 'aws-alb']);
    const both = detectProvider(ingress('alb', { 'alb.ingress.kubernetes.io/scheme': 'internal', 'alb.ingress.kubernetes.io/slow-start-enabled': 'true' }));
    expect(both.provider).toBeUndefined();
    expect(both.reason).toContain('both');
    const withClass = loadManifests([{ file: 'c.yaml', text: 'apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: { name: alb }\nspec: { controller: ingress.k8s.aws/alb }\n' }]);
    expect(detectProvider(ingress('alb'), withClass).provider).toBe('aws-alb');
  });
});

describe('the fast path agrees with the full parser', () => {

  const same = (text: string) => {
    const inputs = [{ file: 'x.yaml', text }];
    expect(loadManifests(inputs)).toEqual(loadManifestsWithPositions(inputs));
  };

  test('on every example chart this commit synthesizes, and on hand-written variants', () => {
    const dir = path.join(__dirname, '..', '..', 'examples');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'synth.ts');
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(path.join(dir, file));
      const Chart = Object.values(mod).find((v) => typeof v === 'function' && /Chart$/.test((v as { name: string }).name)) as any;
      expect(Chart).toBeDefined();
      const chartApp = Testing.app();
      new Chart(chartApp, 'c');
      const text = chartApp.synthYaml();
      // The examples are exactly what the fast path is for: it must take them, not step aside.
      expect(loadPlainDocuments({ file: 'x.yaml', text })).toBeDefined();
      same(text);
      same(`# Source: chart/templates/all.yaml\n\n${text.replace(/^---$/gm, '---  # next')}`);
    }
    same(app);
    expect(loadPlainDocuments({ file: 'x.yaml', text: app })).toBeDefined();
    same('kind: A\n...\n---\n  kind: B\n  x: "*not an alias"\n');
  });

  test('on generated documents (comments, blank lines, indentation, quoting)', () => {
    const scalar = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.constantFrom('yes', 'on', '0o14', '2024-01-01', '*x', '&a', '- b', '#c'));
    const doc = fc.dictionary(fc.string({ minLength: 1 }), fc.oneof(scalar, fc.array(scalar), fc.dictionary(fc.string({ minLength: 1 }), scalar)));
    let fast = 0;
    fc.assert(fc.property(fc.array(fc.tuple(doc, fc.constantFrom('', '# hi\n', '\n\n', '---\n')), { maxLength: 4 }), (docs) => {
      const text = docs.map(([value, prefix]) => `${prefix}${stringify(value)}`).join('---\n');
      if (loadPlainDocuments({ file: 'x.yaml', text }) !== undefined) fast++;
      same(text);
    }), { numRuns: 200 });
    // Most generated inputs must go through the fast path, or this compares the full parser with itself.
    expect(fast).toBeGreaterThan(100);
  });

  test('on Lists (kubectl get -o yaml): items located by indentation, as the full parser locates them', () => {
    const lists = [
      'apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n- kind: Service\n  metadata: { name: b }\nkind: List\nmetadata:\n  resourceVersion: ""\n',
      'kind: List\nitems:\n  # first\n  - kind: A\n    data:\n      script: |\n        - not an item\n        items:\n  -\n    kind: B\n  - # comment\n    kind: C\n  - 3\n\n  - kind: D\nmetadata: {}\n',
      '---\nkind: PodList\nitems:\n- kind: Pod\n  metadata: {name: p}\n---\nkind: X\r\nitems:\r\n- kind: Y\r\n',
    ];
    for (const text of lists) {
      expect(loadPlainDocuments({ file: 'x.yaml', text })).toBeDefined();
      same(text);
    }
    // A flow sequence is left to the full parser.
    expect(loadPlainDocuments({ file: 'x.yaml', text: 'kind: List\nitems: [{kind: A}]\n' })).toBeUndefined();
    same('kind: List\nitems: [{kind: A}, {kind: B}]\n');
    let fast = 0;
    const item = fc.dictionary(fc.string({ minLength: 1 }),
      fc.oneof(fc.string(), fc.integer(), fc.array(fc.string()), fc.dictionary(fc.string({ minLength: 1 }), fc.string())));
    fc.assert(fc.property(fc.array(item, { maxLength: 5 }), fc.boolean(), (items, indentSeq) => {
      const text = stringify({ apiVersion: 'v1', kind: 'List', items }, { indentSeq });
      if (loadPlainDocuments({ file: 'x.yaml', text }) !== undefined) fast++;
      same(text);
    }), { numRuns: 200 });
    expect(fast).toBeGreaterThan(100);
  });
});
