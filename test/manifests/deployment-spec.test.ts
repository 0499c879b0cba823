import * as fs from 'node:fs';
import * as path from 'node:path';
import * as fc from 'fast-check';
import {
  DEREGISTRATION_DELAY_ANNOTATION, ManifestError, parseManifest, resolveFenceposts, scaleIntOrPercent,
} from '../../src/manifests/deployment-spec';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '..', 'rehearse', 'fixtures', name), 'utf8');

function deployment(extra: { annotations?: string; spec?: string; podSpec?: string; container?: string } = {}): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
${extra.annotations ? `  annotations:\n${extra.annotations}\n` : ''}spec:
${extra.spec ?? '  replicas: 2'}
  template:
    spec:
${extra.podSpec ?? ''}
      containers:
        - name: app
          image: nginx
${extra.container ?? ''}
`;
}

describe('parseManifest', () => {
  test('derived ALB manifest: preStop exec, grace 45, D from the annotation', () => {
    const spec = parseManifest(fixture('alb-derived.k8s.yaml'));
    expect(spec).toMatchObject({
      name: 'tea',
      replicas: 3,
      strategy: { type: 'RollingUpdate', maxSurge: '25%', maxUnavailable: 0 },
      minReadySeconds: 0,
      terminationGracePeriodSeconds: 45,
      containerName: 'web',
      preStop: { kind: 'exec', command: ['/bin/sh', '-c', 'sleep 10'] },
      readinessProbe: { path: '/', port: 80, periodSeconds: 2, initialDelaySeconds: 0, successThreshold: 1, failureThreshold: 3 },
      deregistrationDelaySeconds: 10,
      deregistrationSource: 'annotation',
    });
  });

  test('naive manifest: no preStop, grace 30, D inferred from ingressClassName alb, Deployment not first', () => {
    const spec = parseManifest(fixture('alb-naive.k8s.yaml'));
    expect(spec.preStop).toBeUndefined();
    expect(spec.terminationGracePeriodSeconds).toBe(30);
    expect(spec.deregistrationDelaySeconds).toBe(10);
    expect(spec.deregistrationSource).toBe('ingress-class');
  });

  test('Tencent CLB: legacy kubernetes.io/ingress.class qcloud gives 5 s', () => {
    const ingress = `---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  annotations:
    kubernetes.io/ingress.class: qcloud
spec: {}
`;
    const spec = parseManifest(deployment() + ingress);
    expect(spec.deregistrationDelaySeconds).toBe(5);
    expect(spec.deregistrationSource).toBe('ingress-class');
  });

  test('the annotation wins over the ingress class', () => {
    const ingress = '---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec: {ingressClassName: alb}\n';
    const spec = parseManifest(deployment({ annotations: `    ${DEREGISTRATION_DELAY_ANNOTATION}: "7"` }) + ingress);
    expect(spec.deregistrationDelaySeconds).toBe(7);
    expect(spec.deregistrationSource).toBe('annotation');
  });

  test('defaults: 1 replica, 25%/25%, grace 30, no probe, no deregistration delay', () => {
    const spec = parseManifest(deployment({ spec: '  selector: {}' }));
    expect(spec).toMatchObject({
      replicas: 1,
      strategy: { type: 'RollingUpdate', maxSurge: '25%', maxUnavailable: '25%' },
      terminationGracePeriodSeconds: 30,
      minReadySeconds: 0,
      deregistrationSource: 'none',
    });
    expect(spec.readinessProbe).toBeUndefined();
    expect(spec.deregistrationDelaySeconds).toBeUndefined();
  });

  test('native sleep preStop, minReadySeconds and probe timings', () => {
    const spec = parseManifest(deployment({
      spec: '  replicas: 4\n  minReadySeconds: 3\n  strategy:\n    rollingUpdate: {maxSurge: 2, maxUnavailable: "50%"}',
      podSpec: '      terminationGracePeriodSeconds: 60',
      container: '          lifecycle: {preStop: {sleep: {seconds: 15}}}\n'
        + '          readinessProbe: {httpGet: {path: /healthz, port: http}, initialDelaySeconds: 1, periodSeconds: 3, successThreshold: 2}',
    }));
    expect(spec.preStop).toEqual({ kind: 'sleep', seconds: 15 });
    expect(spec.minReadySeconds).toBe(3);
    expect(spec.terminationGracePeriodSeconds).toBe(60);
    expect(spec.strategy).toEqual({ type: 'RollingUpdate', maxSurge: 2, maxUnavailable: '50%' });
    expect(spec.readinessProbe).toMatchObject({ path: '/healthz', port: 'http', initialDelaySeconds: 1, periodSeconds: 3, successThreshold: 2 });
  });

  test('a manifest without a Deployment is an error', () => {
    const noDeployment = 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\n';
    expect(() => parseManifest(noDeployment)).toThrow(ManifestError);
    expect(() => parseManifest(noDeployment)).toThrow('manifest has no apps/v1 Deployment');
    expect(() => parseManifest('')).toThrow('manifest has no apps/v1 Deployment');
  });

  test('invalid input is rejected with a clear message', () => {
    expect(() => parseManifest('a: [')).toThrow(/^<manifest>:1:5: /); // file:line:col from the shared loader
    expect(() => parseManifest(deployment({ spec: '  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: "0%"}}' })))
      .toThrow('maxSurge and maxUnavailable cannot both be 0');
    expect(() => parseManifest(deployment({ spec: '  strategy: {rollingUpdate: {maxSurge: "one"}}' }))).toThrow(/maxSurge must be an integer or a percentage/);
    expect(() => parseManifest(deployment({ annotations: `    ${DEREGISTRATION_DELAY_ANNOTATION}: soon` }))).toThrow(/must be a number of seconds/);
    expect(() => parseManifest(deployment({ container: '          lifecycle: {preStop: {exec: {command: []}}}' }))).toThrow(/non-empty array/);
    expect(() => parseManifest(deployment({ container: '          readinessProbe: {tcpSocket: {port: 80}}' }))).toThrow(/httpGet readiness/);
  });
});

describe('maxSurge / maxUnavailable', () => {
  test.each([
    // [maxSurge, maxUnavailable, replicas, surge, unavailable]
    ['25%', '25%', 3, 1, 0], // 0.75 rounds up for surge, down for unavailable
    ['25%', '25%', 4, 1, 1],
    ['25%', '25%', 10, 3, 2],
    ['25%', 0, 3, 1, 0],
    ['50%', '50%', 5, 3, 2],
    [2, 1, 5, 2, 1],
    ['0%', '10%', 3, 0, 1], // both resolve to 0: maxUnavailable becomes 1
    ['100%', '0%', 1, 1, 0],
  ] as Array<[number | string, number | string, number, number, number]>)('surge %p unavailable %p of %p replicas -> %p/%p', (s, u, n, surge, unavailable) => {
    expect(resolveFenceposts({ type: 'RollingUpdate', maxSurge: s, maxUnavailable: u }, n)).toEqual({ maxSurge: surge, maxUnavailable: unavailable });
  });

  test('percent rounding brackets the exact value', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 500 }), (pct, n) => {
      const exact = (pct * n) / 100;
      const up = scaleIntOrPercent(`${pct}%`, n, true);
      const down = scaleIntOrPercent(`${pct}%`, n, false);
      return Number.isInteger(up) && Number.isInteger(down) && down <= exact && exact <= up && up - down <= 1
        && (Number.isInteger(exact) ? up === exact && down === exact : up - down === 1);
    }));
  });
});
