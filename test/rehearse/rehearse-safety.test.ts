import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/gws';
import { DeploymentSpec, parseManifest } from '../../src/manifests/deployment-spec';
import { describeDelay, healthCheckTiming, LB_PROFILE_IDS, LB_PROFILES, parseDelay, readinessGateOf, sampleDelay } from '../../src/rehearse/lb-profiles';
import { constructWrapper, planPreStop, recognisedWait } from '../../src/rehearse/prestop-plan';
import { resolveRehearsal, seededRandom } from '../../src/rehearse/rehearse';
import { readRehearsalManifest } from '../../src/rehearse/rehearse-manifest';

const fixtures = path.join(__dirname, 'fixtures');
const derived = parseManifest(fs.readFileSync(path.join(fixtures, 'alb-derived.k8s.yaml'), 'utf8'));
const withHook = (command: string[]): DeploymentSpec => ({ ...derived, preStop: { kind: 'exec', command } });

describe('preStop: safe by default', () => {
  test('recognised waits are modelled, never executed', () => {
    expect(recognisedWait(['sleep', '10'])).toBe(10);
    expect(recognisedWait(['/bin/sleep', '10'])).toBe(10); // an absolute sleep is a wait too: no real-speed surprise
    expect(recognisedWait(['/bin/sh', '-c', 'sleep 10'])).toBe(10);
    expect(recognisedWait(['sh', '-c', 'sleep 2.5s'])).toBe(2.5);
    expect(recognisedWait(['/bin/sh', '-c', 'sleep 10; curl -X POST http://x'])).toBeUndefined();
    expect(planPreStop(withHook(['/bin/sleep', '7'])).steps).toEqual([{ kind: 'wait', seconds: 7, why: '["/bin/sleep","7"]' }]);
    expect(planPreStop({ ...derived, preStop: { kind: 'sleep', seconds: 4 } }).steps).toEqual([{ kind: 'wait', seconds: 4, why: 'native sleep action' }]);
  });

  test('any other command is refused without --allow-exec, and a missing binary is an error with it', () => {
    expect(() => planPreStop(withHook(['/usr/bin/curl', '-X', 'POST', 'http://registry/deregister'])))
      .toThrow(/not a recognised wait .* unless you pass --allow-exec/);
    expect(() => planPreStop(withHook(['/bin/sh', '-c', 'rm -rf /tmp/x; sleep 10']))).toThrow(/--allow-exec/);
    expect(() => planPreStop(withHook(['/opt/app/bin/drain-hook', '--now']), { allowExec: true })).toThrow(/does not exist on this machine/);
    const allowed = planPreStop(withHook(['/bin/sh', '-c', '/bin/sleep 3']), { allowExec: true, timeScale: 0.1 });
    expect(allowed.steps).toEqual([{ kind: 'exec', argv: ['/bin/sh', '-c', '/bin/sleep 3'] }]);
    expect(allowed.warnings.join(' ')).toMatch(/runs at real speed/);
  });

  test('the construct wrapper: the declared command becomes a wait of grace - (D + M + S + M), unknown without the annotations', () => {
    const command = ['/bin/sh', '-c', '"$@"; sleep 10', 'prestop', '/app/flush-cache', '--all'];
    expect(constructWrapper(command)).toEqual({ waitSeconds: 10, command: ['/app/flush-cache', '--all'] });
    // Grace 55 with D 10, S 30, M 5: the budget's grace without a command is 10 + 5 + 30 + 5 = 50, so C = 5 s.
    const plan = planPreStop({ ...withHook(command), terminationGracePeriodSeconds: 55 });
    expect(plan.steps).toEqual([
      { kind: 'wait', seconds: 5, why: 'declared duration of ["/app/flush-cache","--all"]' },
      { kind: 'wait', seconds: 10, why: 'the construct wrapper\'s wait' },
    ]);
    const noAnnotations: DeploymentSpec = { ...withHook(command), deregistrationSource: 'ingress-class', drainTimeoutSeconds: undefined };
    expect(() => planPreStop(noAnnotations)).toThrow(/duration is unknown.*--allow-exec/);
  });
});

describe('provider profiles', () => {
  test('every supported provider has a profile with a tail and sources', () => {
    expect([...LB_PROFILE_IDS].sort()).toEqual(['alibaba-alb', 'aws-alb', 'gke-ingress', 'tencent-clb']);
    for (const id of LB_PROFILE_IDS) {
      const p = LB_PROFILES[id];
      expect(p.deregistrationLag.tailProbability).toBeGreaterThan(0);
      expect(p.deregistrationLag.tailMaxSeconds).toBeGreaterThan(p.deregistrationLag.typicalSeconds);
      expect(p.sources.length).toBeGreaterThanOrEqual(2);
      expect(p.sources.every((s) => s.url.startsWith('https://'))).toBe(true);
    }
    expect(LB_PROFILES['aws-alb'].idleTimeoutSeconds).toBe(60);
    expect(LB_PROFILES['gke-ingress'].idleTimeoutSeconds).toBe(600);
  });

  test('lag distributions: bounded, with the tail drawn at about its probability', () => {
    const d = parseDelay('3-10/0.1:15');
    expect(describeDelay(d)).toBe('3-10 s, 10 % tail up to 15 s');
    const random = seededRandom(7);
    const xs = Array.from({ length: 20000 }, () => sampleDelay(d, random));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(3);
    expect(Math.max(...xs)).toBeLessThanOrEqual(15);
    const tail = xs.filter((x) => x > 10).length / xs.length;
    expect(tail).toBeGreaterThan(0.07);
    expect(tail).toBeLessThan(0.13);
    expect(() => parseDelay('10-3')).toThrow(/upper bound is below/);
  });

  test('health checks come from the manifest where it says so: ALB annotations, GKE BackendConfig, Tencent TkeServiceConfig', () => {
    const ingress = { kind: 'Ingress', metadata: { name: 'i', annotations: { 'alb.ingress.kubernetes.io/healthcheck-interval-seconds': '7', 'alb.ingress.kubernetes.io/healthy-threshold-count': '4' } } };
    expect(healthCheckTiming(LB_PROFILES['aws-alb'], { ingresses: [ingress], services: [], objects: [] })).toMatchObject({ intervalSeconds: 7, healthyThreshold: 4 });
    expect(healthCheckTiming(LB_PROFILES['aws-alb'], { ingresses: [], services: [], objects: [] })).toMatchObject({ intervalSeconds: 15, healthyThreshold: 2 });
    // AWS reads the health check on the Service before the Ingress (the Service wins, key by key); Alibaba reads the Ingress only.
    const svc = { kind: 'Service', metadata: { name: 's', annotations: { 'alb.ingress.kubernetes.io/healthcheck-interval-seconds': '11' } } };
    expect(healthCheckTiming(LB_PROFILES['aws-alb'], { ingresses: [ingress], services: [svc], objects: [] }))
      .toEqual({ intervalSeconds: 11, healthyThreshold: 4, source: 'Service annotations and Ingress i annotations' });
    expect(healthCheckTiming(LB_PROFILES['aws-alb'], { ingresses: [], services: [svc], objects: [] })).toMatchObject({ intervalSeconds: 11, healthyThreshold: 2 });
    expect(healthCheckTiming(LB_PROFILES['alibaba-alb'], { ingresses: [ingress], services: [svc], objects: [] })).toMatchObject({ intervalSeconds: 7, healthyThreshold: 4 });
    // AWS: a newly registered target needs one passing check (ELB target group health checks), whatever the threshold.
    expect(LB_PROFILES['aws-alb'].newTargetPassingChecks).toBe(1);
    const service = { kind: 'Service', metadata: { name: 's', annotations: { 'cloud.google.com/backend-config': '{"default":"bc"}', 'cloud.google.com/neg': '{"ingress": true}' } } };
    const bc = { kind: 'BackendConfig', metadata: { name: 'bc' }, spec: { healthCheck: { checkIntervalSec: 3, healthyThreshold: 1 } } };
    const gke = { ingresses: [], services: [service], objects: [service, bc] };
    expect(healthCheckTiming(LB_PROFILES['gke-ingress'], gke)).toMatchObject({ intervalSeconds: 3, healthyThreshold: 1, source: 'BackendConfig bc spec.healthCheck' });
    expect(readinessGateOf(LB_PROFILES['gke-ingress'], {}, gke)).toMatch(/injected by GKE/);
    // Without a BackendConfig health check, ingress-gce copies the HTTP readiness probe's period, healthy after 1 check
    // (pkg/translator/healthchecks.go); without such a probe, every 15 s, healthy after 1.
    const negService = { kind: 'Service', metadata: { name: 'n', annotations: { 'cloud.google.com/neg': '{"ingress": true}' } } };
    const gceIngress = { kind: 'Ingress', metadata: { name: 'g', annotations: { 'kubernetes.io/ingress.class': 'gce' } } };
    const plain = { ingresses: [gceIngress], services: [negService], objects: [gceIngress, negService] };
    const probed = { containers: [{ name: 'app', readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 4, successThreshold: 3 } }] };
    expect(healthCheckTiming(LB_PROFILES['gke-ingress'], plain, probed)).toMatchObject({ intervalSeconds: 4, healthyThreshold: 1 });
    expect(healthCheckTiming(LB_PROFILES['gke-ingress'], plain, { containers: [{ name: 'app', readinessProbe: { httpGet: { path: '/' } } }] }))
      .toMatchObject({ intervalSeconds: 10, healthyThreshold: 1 });
    expect(healthCheckTiming(LB_PROFILES['gke-ingress'], plain, { containers: [{ name: 'app', readinessProbe: { tcpSocket: { port: 8080 } } }] }))
      .toMatchObject({ intervalSeconds: 15, healthyThreshold: 1 });
    // A BackendConfig that sets only the interval keeps ingress-gce's threshold of 1.
    const bcInterval = { kind: 'BackendConfig', metadata: { name: 'bc' }, spec: { healthCheck: { checkIntervalSec: 6 } } };
    expect(healthCheckTiming(LB_PROFILES['gke-ingress'], { ingresses: [gceIngress], services: [service], objects: [service, bcInterval] }, probed))
      .toMatchObject({ intervalSeconds: 6, healthyThreshold: 1 });
    // Behind a GKE Gateway without a HealthCheckPolicy the probe is not copied: Compute Engine's defaults.
    const route = { kind: 'HTTPRoute', metadata: { name: 'r' } };
    expect(healthCheckTiming(LB_PROFILES['gke-ingress'], { ingresses: [route], services: [negService], objects: [route] }, probed))
      .toMatchObject({ intervalSeconds: 5, healthyThreshold: 2 });
    const tke = { kind: 'Ingress', metadata: { name: 't', annotations: { 'ingress.cloud.tencent.com/tke-service-config': 'cfg' } } };
    const cfg = { kind: 'TkeServiceConfig', metadata: { name: 'cfg' }, spec: { loadBalancer: { l7Listeners: [{ domains: [{ rules: [{ healthCheck: { intervalTime: 9, healthNum: 2 } }] }] }] } } };
    expect(healthCheckTiming(LB_PROFILES['tencent-clb'], { ingresses: [tke], services: [], objects: [tke, cfg] })).toMatchObject({ intervalSeconds: 9, healthyThreshold: 2 });
  });
});

describe('reading the manifest', () => {
  const text = fs.readFileSync(path.join(fixtures, 'alb-derived.k8s.yaml'), 'utf8');

  test('the lag never defaults to the manifest\'s D; the D is printed beside the profile\'s lag', () => {
    const a = resolveRehearsal({ manifest: derived, provider: 'alibaba-alb' }).assumptions;
    expect(a.deregistrationLag).toBe('3-10 s, 5 % tail up to 15 s (alibaba-alb profile)');
    expect(a.declaredDeregistrationDelay).toBe('10 s (annotation)');
    expect(resolveRehearsal({ manifest: derived, lagFractionOfDeclared: 1.1 }).lag).toMatchObject({ minSeconds: 11, typicalSeconds: 11 });
  });

  test('registration: AWS needs one passing check for a new target; other providers the healthy threshold; a given --health-check is taken as it is', () => {
    const aws = resolveRehearsal({ manifest: derived, provider: 'aws-alb' });
    expect(aws.registrationHealthCheckSeconds).toBe(aws.healthCheck.intervalSeconds * 1);
    expect(aws.assumptions.registration).toMatch(/x 1 \(.*a new target needs 1 passing check, not the healthy threshold \d+\)/);
    const alibaba = resolveRehearsal({ manifest: derived, provider: 'alibaba-alb' });
    expect(alibaba.registrationHealthCheckSeconds).toBe(alibaba.healthCheck.intervalSeconds * alibaba.healthCheck.healthyThreshold);
    expect(resolveRehearsal({ manifest: derived, provider: 'aws-alb', healthCheck: { intervalSeconds: 10, healthyThreshold: 3 } }).registrationHealthCheckSeconds).toBe(30);
  });

  test('drains-on-stop-signal (and the legacy drains-on-sigterm) picks the app mode; a flag overrides it', () => {
    expect(resolveRehearsal({ manifest: { ...derived, drainDeclaration: { drains: false, annotation: 'x/drains-on-sigterm' } }, provider: 'alibaba-alb' }).assumptions.app)
      .toMatch(/exits at once on the stop signal \(from x\/drains-on-sigterm\)/);
    expect(resolveRehearsal({ manifest: { ...derived, drainDeclaration: { drains: false, annotation: 'x' } }, provider: 'alibaba-alb', appMode: 'drain' }).assumptions.app)
      .toMatch(/drains on the stop signal \(given\)/);
    const legacy = text.replace('safety-margin-seconds: "5"', 'safety-margin-seconds: "5"\n    graceful-web-service.cdk8s.io/drains-on-sigterm: "false"');
    expect(parseManifest(legacy).drainDeclaration).toEqual({ drains: false, annotation: 'graceful-web-service.cdk8s.io/drains-on-sigterm' });
  });

  test('the stop signal: the manifest\'s lifecycle.stopSignal, else its stop-signal annotation, a flag overrides, SIGTERM by default', () => {
    expect(resolveRehearsal({ manifest: derived, provider: 'alibaba-alb' }).stopSignalText).toBe('SIGTERM (default: the manifest names no signal)');
    // The annotation the construct writes for shutdown.stopSignal (the image's STOPSIGNAL).
    const annotated = parseManifest(text.replace('safety-margin-seconds: "5"', 'safety-margin-seconds: "5"\n    graceful-web-service.cdk8s.io/stop-signal: SIGQUIT'));
    expect(annotated.declaredStopSignal).toBe('SIGQUIT');
    expect(resolveRehearsal({ manifest: annotated, provider: 'alibaba-alb' }).stopSignalText)
      .toBe('SIGQUIT (the manifest\'s graceful-web-service.cdk8s.io/stop-signal annotation: the image\'s STOPSIGNAL)');
    expect(resolveRehearsal({ manifest: { ...annotated, stopSignal: 'WINCH' }, provider: 'alibaba-alb' }).stopSignal).toBe('SIGWINCH');
    expect(() => resolveRehearsal({ manifest: { ...annotated, declaredStopSignal: 'SIGNOPE' }, provider: 'alibaba-alb' }))
      .toThrow('the graceful-web-service.cdk8s.io/stop-signal annotation SIGNOPE is not a signal this machine knows');
    expect(resolveRehearsal({ manifest: { ...derived, stopSignal: 'SIGQUIT' }, provider: 'alibaba-alb' }).stopSignalText).toBe('SIGQUIT (the manifest\'s lifecycle.stopSignal)');
    expect(resolveRehearsal({ manifest: { ...derived, stopSignal: 'SIGQUIT' }, provider: 'alibaba-alb', stopSignal: 'SIGINT' }).stopSignal).toBe('SIGINT');
  });

  test('--deployment picks one of several; several without it, or an ambiguous class alb, is a clear error', () => {
    const second = text.replace(/name: tea-web/g, 'name: other-web');
    const both = [{ file: 'a.yaml', text }, { file: 'b.yaml', text: second.replace(/app: tea/g, 'app: other').replace(/name: tea$/gm, 'name: other') }];
    expect(() => readRehearsalManifest(both, { lb: 'alibaba-alb' })).toThrow(/choose one with --deployment NAME/);
    const names = readRehearsalManifest([{ file: 'a.yaml', text }], { lb: 'alibaba-alb' }).spec.name;
    expect(readRehearsalManifest(both, { deployment: names, lb: 'alibaba-alb' }).spec.name).toBe(names);
    expect(() => readRehearsalManifest([{ file: 'a.yaml', text }])).toThrow(/cannot tell which load balancer .*Pass --lb <provider>/);
  });
});

describe('rehearse CLI', () => {
  async function cli(args: string[]): Promise<{ out: string; err: string; code: number | undefined }> {
    const out: string[] = [];
    const err: string[] = [];
    const saved = process.exitCode;
    process.exitCode = undefined;
    try {
      await main(['node', 'gws', ...args], { out: (t) => void out.push(t), err: (t) => void err.push(t) });
      return { out: out.join(''), err: err.join(''), code: process.exitCode };
    } finally {
      process.exitCode = saved;
    }
  }

  test('--dry-run prints what the run would assume, starting nothing', async () => {
    const r = await cli(['rehearse', path.join(fixtures, 'alb-derived.k8s.yaml'), '--lb', 'aws-alb', '--dry-run', '--time-scale', '0.5', '--rate', '40']);
    expect(r.code ?? 0).toBe(0);
    expect(r.out).toMatch(/load balancer +aws-alb/);
    expect(r.out).toMatch(/deregistration lag +5-15 s, 10 % tail up to 30 s \(aws-alb profile\) \(manifest declares D = 10 s \(annotation\)\)/);
    expect(r.out).toMatch(/probe rate +40 requests per model second \(80 per real second\)/);
    expect(r.out).toMatch(/preStop +\["\/bin\/sh","-c","sleep 10"\] = wait 10 s \(modelled, not executed\)/);
    expect(r.out).toMatch(/fixed intervals, GET \//);
  });

  test('--arrivals poisson and --path are assumed and printed; a real server at a time scale other than 1 is warned about', async () => {
    const file = path.join(fixtures, 'alb-derived.k8s.yaml');
    const r = await cli(['rehearse', file, '--lb', 'alibaba-alb', '--dry-run', '--arrivals', 'poisson', '--path', '/slow', '--app-command', 'python3 -m http.server --bind {host} {port}', '--time-scale', '0.5']);
    expect(r.code ?? 0).toBe(0);
    expect(r.out).toMatch(/Poisson arrivals, GET \/slow/);
    expect(r.out).toMatch(/warning: time scale 0.5: the real server's own timing .* is not scaled/);
    const bad = await cli(['rehearse', file, '--lb', 'alibaba-alb', '--dry-run', '--path', 'slow']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/probe path must start with \/, got slow/);
    const badArrivals = await cli(['rehearse', file, '--lb', 'alibaba-alb', '--dry-run', '--arrivals', 'bursty']);
    expect(badArrivals.code).toBe(2);
  });

  test('a manifest whose preStop runs a command is refused with exit 2 unless --allow-exec', async () => {
    const text = fs.readFileSync(path.join(fixtures, 'alb-derived.k8s.yaml'), 'utf8').replace('- sleep 10', '- curl -fsS http://127.0.0.1:1/deregister; sleep 10');
    const file = path.join(os.tmpdir(), `gws-unsafe-${process.pid}.yaml`);
    fs.writeFileSync(file, text);
    try {
      const r = await cli(['rehearse', file, '--lb', 'alibaba-alb', '--dry-run']);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/gws: the preStop hook .* is not a recognised wait .* --allow-exec/);
      const allowed = await cli(['rehearse', file, '--lb', 'alibaba-alb', '--dry-run', '--allow-exec', '--time-scale', '0.1']);
      expect(allowed.code ?? 0).toBe(0);
      expect(allowed.out).toMatch(/warning: the preStop command .* runs for real/);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  test('--help states the profiles and the safety rule', async () => {
    const r = await cli(['rehearse', '--help']);
    expect(r.out).toMatch(/gke-ingress +lag 10-30 s, 10 % tail up to 60 s/);
    expect(r.out).toMatch(/does NOT run commands from the manifest/);
    expect(r.out).toContain('--allow-exec');
  });
});
