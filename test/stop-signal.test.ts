import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Chart, Duration } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { GracefulWebService, GracefulWebServiceProps, ShutdownBudget, StopSignal } from '../src';
import { baseProps, container, KubeObject, only, synth, validateObjects } from './util';

/** The final YAML, after cdk8s-plus's serialization (where unknown fields would vanish). */
function synthYaml(props: GracefulWebServiceProps): KubeObject[] {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-stop-signal-'));
  try {
    const app = new App({ outdir });
    new GracefulWebService(new Chart(app, 'svc'), 'web', props);
    app.synth();
    return parseAllDocuments(fs.readFileSync(path.join(outdir, 'svc.k8s.yaml'), 'utf8')).map((d) => d.toJS() as KubeObject);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

describe('StopSignal', () => {
  test('names as images write them, normalized', () => {
    expect(StopSignal.of('quit').name).toBe('SIGQUIT');
    expect(StopSignal.of(' SIGWINCH ').name).toBe('SIGWINCH');
    expect(StopSignal.of('SIGRTMIN+3').name).toBe('SIGRTMIN+3');
    expect(StopSignal.SIGQUIT.name).toBe('SIGQUIT');
  });

  test('refuses unknown signals, numbers and SIGSTOP, naming the prop', () => {
    expect(() => StopSignal.of('SIGFOO')).toThrow('shutdown.stopSignal: unknown signal "SIGFOO"');
    expect(() => StopSignal.of('15')).toThrow(/unknown signal "15"/);
    expect(() => StopSignal.of('SIGRTMIN+16')).toThrow(/unknown signal/);
    expect(() => StopSignal.of('STOP')).toThrow(/SIGSTOP pauses a process/);
  });
});

describe('the budget names the signal the app really gets', () => {
  test('undeclared: the timeline says the image decides', () => {
    const text = ShutdownBudget.derive({ deregistrationDelay: Duration.seconds(10) }).describe();
    expect(text).toContain('app drains on the stop signal');
    expect(text).toContain("t=15s  stop signal (the image's STOPSIGNAL, SIGTERM if none): app stops accepting");
    expect(text).not.toContain('SIGTERM:');
  });

  test('declared: the timeline names it, for draining and abrupt apps', () => {
    const drains = ShutdownBudget.derive({ deregistrationDelay: Duration.seconds(10), stopSignal: StopSignal.SIGQUIT });
    expect(drains.describe()).toContain('(D=10s, S=30s, app drains on SIGQUIT)');
    expect(drains.describe()).toContain('t=15s  SIGQUIT: app stops accepting and drains');
    const abrupt = ShutdownBudget.derive({ deregistrationDelay: Duration.seconds(5), stopSignal: StopSignal.SIGTERM, drainsOnStopSignal: false });
    expect(abrupt.describe()).toContain('app stops abruptly on SIGTERM');
    expect(abrupt.describe()).toContain('t=40s  SIGTERM: nothing left in flight, app exits');
  });

  test('an app cannot drain on SIGKILL', () => {
    expect(() => ShutdownBudget.derive({ deregistrationDelay: Duration.seconds(5), stopSignal: StopSignal.of('KILL') }))
      .toThrow('shutdown.drainsOnStopSignal must be false with shutdown.stopSignal SIGKILL');
    expect(ShutdownBudget.derive({ deregistrationDelay: Duration.seconds(5), stopSignal: StopSignal.of('KILL'), drainsOnStopSignal: false })
      .preStopSleepSeconds).toBe(40); // D + M + S = 5 + 5 + 30
  });
});

describe('GracefulWebService: stopSignal', () => {
  test('a declared signal is recorded on the Deployment and changes nothing else', () => {
    const plain = synth(baseProps()).objects;
    const declared = synth(baseProps({ shutdown: { stopSignal: StopSignal.SIGQUIT } })).objects;
    const annotations = only(declared, 'Deployment').metadata.annotations;
    expect(annotations['graceful-web-service.cdk8s.io/stop-signal']).toBe('SIGQUIT');
    expect(only(plain, 'Deployment').metadata.annotations['graceful-web-service.cdk8s.io/stop-signal']).toBeUndefined();
    expect(container(declared).lifecycle).toEqual(container(plain).lifecycle);
    expect(only(declared, 'Deployment').spec.template.spec.os).toBeUndefined();
    validateObjects(declared);
  });

  test('setLifecycleStopSignal writes lifecycle.stopSignal and os.name into the final YAML, next to the preStop', () => {
    const objects = synthYaml(baseProps({ shutdown: { stopSignal: StopSignal.SIGQUIT }, setLifecycleStopSignal: true }));
    expect(container(objects).lifecycle).toEqual({
      preStop: { exec: { command: ['/bin/sh', '-c', 'sleep 20'] } },
      stopSignal: 'SIGQUIT',
    });
    expect(only(objects, 'Deployment').spec.template.spec.os).toEqual({ name: 'linux' });
    validateObjects(objects);
  });

  test('setLifecycleStopSignal without a declared signal is refused, naming the construct and the prop', () => {
    expect(() => synth(baseProps({ setLifecycleStopSignal: true })))
      .toThrow('test/web: setLifecycleStopSignal needs shutdown.stopSignal');
  });
});
