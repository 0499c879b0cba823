import { Duration } from 'cdk8s';
import * as fc from 'fast-check';
import { ShutdownBudget } from '../src';
import { deriveShutdownBudget, ShutdownBudgetInputs } from '../src/budget';

const seconds = (n: number) => Duration.seconds(n);

describe('ShutdownBudget: the model\'s documented numbers', () => {
  test('Alibaba ALB defaults: M 5, preStop 15, grace 50', () => {
    const budget = deriveShutdownBudget({ defaultDeregistrationDelay: seconds(10) });
    expect(budget.safetyMarginSeconds).toBe(5);
    expect(budget.preStopSleepSeconds).toBe(15);
    expect(budget.terminationGracePeriodSeconds).toBe(50);
    expect(budget.preStopSleep.toSeconds()).toBe(15);
    expect(budget.terminationGracePeriod.toSeconds()).toBe(50);
  });

  test('Tencent CLB defaults: preStop 10, grace 45; a 50 s drain gives 10 / 65', () => {
    const defaults = deriveShutdownBudget({ defaultDeregistrationDelay: seconds(5) });
    expect(defaults.safetyMarginSeconds).toBe(5);
    expect(defaults.preStopSleepSeconds).toBe(10);
    expect(defaults.terminationGracePeriodSeconds).toBe(45);
    const meeting = deriveShutdownBudget({ defaultDeregistrationDelay: seconds(5), drainTimeout: seconds(50) });
    expect(meeting.preStopSleepSeconds).toBe(10);
    expect(meeting.terminationGracePeriodSeconds).toBe(65);
  });

  test('an app that does not drain on SIGTERM waits out the drain in preStop', () => {
    const budget = deriveShutdownBudget({ defaultDeregistrationDelay: seconds(10), drainsOnStopSignal: false });
    expect(budget.preStopSleepSeconds).toBe(45);
    expect(budget.terminationGracePeriodSeconds).toBe(50);
  });

  test('the default safety margin is 25 % of D, rounded up, at least 5 s', () => {
    // AWS ALB IP targets (60), instance targets (90), GKE (40), and the 5 s floor.
    const margin = (d: number) => deriveShutdownBudget({ deregistrationDelay: seconds(d) }).safetyMarginSeconds;
    expect(margin(60)).toBe(15);
    expect(margin(90)).toBe(23);
    expect(margin(40)).toBe(10);
    expect(margin(21)).toBe(6);
    expect(margin(20)).toBe(5);
    expect(margin(0)).toBe(5);
    const aws = deriveShutdownBudget({ deregistrationDelay: seconds(60) });
    expect([aws.preStopSleepSeconds, aws.terminationGracePeriodSeconds]).toEqual([75, 120]);
    const gke = deriveShutdownBudget({ deregistrationDelay: seconds(40) });
    expect([gke.preStopSleepSeconds, gke.terminationGracePeriodSeconds]).toEqual([50, 90]);
  });

  test('an explicit safety margin is used as given, even below the default', () => {
    const budget = deriveShutdownBudget({ deregistrationDelay: seconds(60), safetyMargin: seconds(2) });
    expect(budget.safetyMarginSeconds).toBe(2);
    expect(budget.preStopSleepSeconds).toBe(62);
    expect(budget.terminationGracePeriodSeconds).toBe(94);
  });

  test('a declared deregistrationDelay wins over the load balancer default', () => {
    const budget = deriveShutdownBudget({ defaultDeregistrationDelay: seconds(10), deregistrationDelay: seconds(20) });
    expect(budget.deregistrationDelaySeconds).toBe(20);
    expect(budget.preStopSleepSeconds).toBe(25);
    expect(budget.terminationGracePeriodSeconds).toBe(60);
  });

  test('a zero deregistration delay still waits the default safety margin', () => {
    const budget = deriveShutdownBudget({ deregistrationDelay: seconds(0) });
    expect(budget.preStopSleepSeconds).toBe(5);
    expect(budget.terminationGracePeriodSeconds).toBe(40);
  });

  test('a zero deregistration delay and a zero safety margin need no wait', () => {
    const budget = deriveShutdownBudget({ deregistrationDelay: seconds(0), safetyMargin: seconds(0) });
    expect(budget.preStopSleepSeconds).toBe(0);
    expect(budget.terminationGracePeriodSeconds).toBe(30);
  });

  test('fractional durations round up to whole seconds', () => {
    const budget = deriveShutdownBudget({
      deregistrationDelay: Duration.millis(2500),
      drainTimeout: Duration.millis(100),
      safetyMargin: Duration.millis(1),
    });
    expect(budget.deregistrationDelaySeconds).toBe(3);
    expect(budget.drainTimeoutSeconds).toBe(1);
    expect(budget.safetyMarginSeconds).toBe(1);
    expect(budget.preStopSleepSeconds).toBe(4);
    expect(budget.terminationGracePeriodSeconds).toBe(6);
  });

  test('a custom preStop command is counted before the wait', () => {
    const budget = deriveShutdownBudget({ deregistrationDelay: seconds(10), preStopCommandDuration: seconds(3) });
    expect(budget.preStopSleepSeconds).toBe(15);
    expect(budget.preStopTotalSeconds).toBe(18);
    expect(budget.terminationGracePeriodSeconds).toBe(53);
    expect(budget.minimumTerminationGracePeriodSeconds).toBe(48);
  });
});

describe('ShutdownBudget: explicit grace period', () => {
  test('accepted when it covers D + M + S, and never adjusted', () => {
    const budget = deriveShutdownBudget({ defaultDeregistrationDelay: seconds(10), terminationGracePeriod: seconds(45) });
    expect(budget.terminationGracePeriodSeconds).toBe(45);
    expect(budget.terminationGracePeriodIsExplicit).toBe(true);
  });

  test('refused below D + M + S, naming the prop and the numbers', () => {
    expect(() => deriveShutdownBudget({ defaultDeregistrationDelay: seconds(10), terminationGracePeriod: seconds(44) }))
      .toThrow('terminationGracePeriod (44s) must be at least deregistrationDelay (10s) + safetyMargin (5s) + drainTimeout (30s) = 45s');
  });

  test('refused below D + M + S for an abrupt app too', () => {
    expect(() => deriveShutdownBudget({
      deregistrationDelay: seconds(5), drainTimeout: seconds(20), drainsOnStopSignal: false, terminationGracePeriod: seconds(29),
    })).toThrow(/terminationGracePeriod \(29s\).*safetyMargin \(5s\).*= 30s/);
  });

  test('the preStop command counts against it', () => {
    expect(() => deriveShutdownBudget({
      deregistrationDelay: seconds(10), preStopCommandDuration: seconds(5), terminationGracePeriod: seconds(49),
    })).toThrow('preStopCommandDuration (5s) + deregistrationDelay (10s) + safetyMargin (5s) + drainTimeout (30s) = 50s');
  });
});

describe('ShutdownBudget: refused inputs', () => {
  test.each([
    ['drainTimeout', { deregistrationDelay: seconds(1), drainTimeout: Duration.seconds(Infinity) }],
    ['safetyMargin', { deregistrationDelay: seconds(1), safetyMargin: Duration.seconds(NaN) }],
    ['shutdown.deregistrationDelay', { deregistrationDelay: Duration.minutes(Infinity) }],
    ['terminationGracePeriod', { deregistrationDelay: seconds(1), terminationGracePeriod: Duration.seconds(NaN) }],
  ] as Array<[string, ShutdownBudgetInputs]>)('a non-finite %s', (prop, options) => {
    expect(() => deriveShutdownBudget(options)).toThrow(new RegExp(`${prop.replace('.', '\\.')} must be a finite duration`));
  });

  test('negative durations cannot even be created', () => {
    // cdk8s refuses them at Duration creation, before they can reach a budget.
    expect(() => deriveShutdownBudget({ deregistrationDelay: seconds(1), drainTimeout: seconds(-5) }))
      .toThrow(/cannot be negative/);
  });

  test('a negative duration that gets through is still refused, by name', () => {
    const forged = Object.create(Duration.prototype, { toMilliseconds: { value: () => -1000 } });
    expect(() => deriveShutdownBudget({ deregistrationDelay: seconds(1), safetyMargin: forged }))
      .toThrow('shutdown.safetyMargin must not be negative, got -1000 ms');
  });

  test('no deregistration delay at all', () => {
    expect(() => deriveShutdownBudget({})).toThrow(/shutdown\.deregistrationDelay is required/);
  });
});

describe('ShutdownBudget: describe()', () => {
  test('shows the ALB timeline in order', () => {
    const text = deriveShutdownBudget({ defaultDeregistrationDelay: seconds(10) }).describe();
    expect(text).toMatchInlineSnapshot(`
"Shutdown timeline (D=10s, S=30s, app drains on the stop signal):
  t=0s   pod deleted; LB deregistration starts; preStop starts: sleep 15
  t=10s  LB sends no new requests (deregistrationDelay); the wait goes on 5s more for a late LB (safetyMargin)
  t=15s  stop signal (the image's STOPSIGNAL, SIGTERM if none): app stops accepting and drains in-flight requests (drainTimeout 30s)
  t=45s  app has exited at the latest
  t=50s  SIGKILL if still running (terminationGracePeriodSeconds, safetyMargin 5s)
Launch timeline (no readiness gate, progressDeadlineSeconds 600):
  t=0s  new pod started
  t=0s  containers pass the readiness probe; the LB starts registering the pod
  t=0s  minReadySeconds 0 elapsed (registration 0s): pod available
  t=0s  the rollout may now delete an old pod (maxUnavailable 0)"
`);
  });

  test('an abrupt app drains before its stop signal; an explicit grace is labelled', () => {
    const text = deriveShutdownBudget({
      deregistrationDelay: seconds(5), drainsOnStopSignal: false, terminationGracePeriod: seconds(50),
    }).describe();
    expect(text).toContain('app stops abruptly on the stop signal');
    expect(text).toContain("t=40s  stop signal (the image's STOPSIGNAL, SIGTERM if none): nothing left in flight");
    expect(text).toContain('t=50s  SIGKILL if still running (explicit terminationGracePeriod)');
  });

  test('no wait means no preStop hook', () => {
    expect(deriveShutdownBudget({ deregistrationDelay: seconds(0), safetyMargin: seconds(0) }).describe()).toContain('no preStop hook');
    expect(deriveShutdownBudget({ deregistrationDelay: seconds(0) }).describe()).toContain('preStop starts: sleep 5');
  });
});

// Property-based tests of the arithmetic: the invariants hold for every input, not just the examples.
describe('ShutdownBudget: properties', () => {
  const secondsArb = fc.integer({ min: 0, max: 3600 });
  const millisArb = fc.integer({ min: 0, max: 3_600_000 });
  const inputs = fc.record({
    d: secondsArb, s: secondsArb, m: secondsArb, c: fc.integer({ min: 0, max: 600 }), drains: fc.boolean(),
  });
  const derive = (i: { d: number; s: number; m: number; c: number; drains: boolean }) => deriveShutdownBudget({
    deregistrationDelay: seconds(i.d),
    drainTimeout: seconds(i.s),
    safetyMargin: seconds(i.m),
    preStopCommandDuration: seconds(i.c),
    drainsOnStopSignal: i.drains,
  });

  test('the exact formulas of the model', () => {
    fc.assert(fc.property(inputs, (i) => {
      const b = derive(i);
      const wait = i.drains ? i.d + i.m : i.d + i.m + i.s;
      expect(b.safetyMarginSeconds).toBe(i.m);
      expect(b.preStopSleepSeconds).toBe(wait);
      expect(b.preStopTotalSeconds).toBe(i.c + wait);
      expect(b.terminationGracePeriodSeconds).toBe(i.c + i.d + i.m + i.s + i.m);
      expect(b.minimumTerminationGracePeriodSeconds).toBe(i.c + i.d + i.m + i.s);
    }));
  });

  test('the default safety margin: max(5 s, ceil(25 % of D)), in the wait and twice in the grace period', () => {
    fc.assert(fc.property(millisArb, secondsArb, fc.boolean(), (dMillis, s, drains) => {
      const b = deriveShutdownBudget({ deregistrationDelay: Duration.millis(dMillis), drainTimeout: seconds(s), drainsOnStopSignal: drains });
      const d = Math.ceil(dMillis / 1000);
      const m = Math.max(5, Math.ceil(d / 4));
      expect(b.safetyMarginSeconds).toBe(m);
      expect(b.preStopSleepSeconds).toBe(drains ? d + m : d + m + s);
      expect(b.terminationGracePeriodSeconds).toBe(d + m + s + m);
    }));
  });

  test('integer seconds, G >= P + M, G >= D + S + 2M, P >= D + M', () => {
    fc.assert(fc.property(inputs, (i) => {
      const b = derive(i);
      for (const v of [b.preStopSleepSeconds, b.preStopTotalSeconds, b.terminationGracePeriodSeconds]) {
        expect(Number.isInteger(v)).toBe(true);
      }
      expect(b.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(b.preStopTotalSeconds + i.m);
      expect(b.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(i.d + i.s + 2 * i.m);
      expect(b.preStopSleepSeconds).toBeGreaterThanOrEqual(i.d + i.m);
      // The app's latest exit never passes SIGKILL.
      expect(b.latestExitSeconds).toBeLessThanOrEqual(b.terminationGracePeriodSeconds);
    }));
  });

  test('monotonic: raising any input never lowers P or G', () => {
    const key = fc.constantFrom('d', 's', 'm', 'c');
    fc.assert(fc.property(inputs, key, fc.integer({ min: 1, max: 600 }), (i, k, bump) => {
      const before = derive(i);
      const after = derive({ ...i, [k]: (i as any)[k] + bump });
      expect(after.preStopTotalSeconds).toBeGreaterThanOrEqual(before.preStopTotalSeconds);
      expect(after.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(before.terminationGracePeriodSeconds);
    }));
  });

  test('monotonic in drainsOnStopSignal: an abrupt app never waits less', () => {
    fc.assert(fc.property(inputs, (i) => {
      const draining = derive({ ...i, drains: true });
      const abrupt = derive({ ...i, drains: false });
      expect(abrupt.preStopSleepSeconds).toBeGreaterThanOrEqual(draining.preStopSleepSeconds);
      expect(abrupt.terminationGracePeriodSeconds).toBe(draining.terminationGracePeriodSeconds);
    }));
  });

  test('rounding is upward and never shrinks a budget', () => {
    fc.assert(fc.property(millisArb, millisArb, millisArb, (d, s, m) => {
      const b = deriveShutdownBudget({
        deregistrationDelay: Duration.millis(d), drainTimeout: Duration.millis(s), safetyMargin: Duration.millis(m),
      });
      expect(b.deregistrationDelaySeconds).toBe(Math.ceil(d / 1000));
      expect(b.drainTimeoutSeconds).toBe(Math.ceil(s / 1000));
      expect(b.safetyMarginSeconds).toBe(Math.ceil(m / 1000));
      expect(b.preStopSleepSeconds * 1000).toBeGreaterThanOrEqual(d + m);
      expect(b.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(d + s + 2 * m);
    }));
  });

  test('an explicit grace period is accepted exactly when it covers C + D + M + S', () => {
    fc.assert(fc.property(inputs, secondsArb, (i, g) => {
      const make = () => deriveShutdownBudget({
        deregistrationDelay: seconds(i.d),
        drainTimeout: seconds(i.s),
        safetyMargin: seconds(i.m),
        preStopCommandDuration: seconds(i.c),
        drainsOnStopSignal: i.drains,
        terminationGracePeriod: seconds(g),
      });
      if (g >= i.c + i.d + i.m + i.s) {
        expect(make().terminationGracePeriodSeconds).toBe(g);
      } else {
        expect(make).toThrow(/terminationGracePeriod/);
      }
    }));
  });
});

describe('ShutdownBudget.derive(): the public entry point takes the declared budgets only', () => {
  test('the README example: D = 15 s, an abrupt app', () => {
    const budget = ShutdownBudget.derive({ deregistrationDelay: seconds(15), drainsOnStopSignal: false });
    expect(budget.safetyMarginSeconds).toBe(5);
    expect(budget.preStopSleepSeconds).toBe(50);
    expect(budget.terminationGracePeriodSeconds).toBe(55);
  });

  test('launch inputs smuggled in from JavaScript are refused, never used', () => {
    const smuggled = { deregistrationDelay: seconds(10), terminationGracePeriod: seconds(100), readinessDelay: seconds(50) };
    expect(() => ShutdownBudget.derive(smuggled as any)).toThrow('terminationGracePeriod is not a prop; readinessDelay is not a prop');
  });

  test('without a load balancer, D must be declared', () => {
    expect(() => ShutdownBudget.derive()).toThrow('shutdown.deregistrationDelay is required');
  });
});

describe('the startup budget', () => {
  test('counts in the progress deadline and shows in the launch timeline', () => {
    const budget = deriveShutdownBudget({
      deregistrationDelay: seconds(10), startupDelay: seconds(300), readinessDelay: seconds(10), registrationDelay: seconds(20),
    });
    expect(budget.startupSeconds).toBe(300);
    expect(budget.minimumProgressDeadlineSeconds).toBe(300 + 10 + 20 + 50 + 2);
    expect(budget.progressDeadlineSeconds).toBe(600);
    expect(budget.describe()).toContain('t=300s  startup probe passed at the latest (startupTimeout 300s); readiness probing starts');
    expect(budget.describe()).toContain('t=310s  containers pass the readiness probe');
  });

  test('a long startup raises the derived deadline above 600 s', () => {
    const budget = deriveShutdownBudget({ deregistrationDelay: seconds(10), startupDelay: seconds(600), readinessDelay: seconds(10) });
    expect(budget.progressDeadlineSeconds).toBe(600 + 10 + 50 + 2);
  });

  test('without a startup probe the timeline has no startup line', () => {
    expect(deriveShutdownBudget({ deregistrationDelay: seconds(10) }).describe()).not.toContain('startup probe');
  });
});

describe('the launch side, property-based', () => {
  const launch = fc.record({
    u: fc.integer({ min: 0, max: 3600 }),
    r: fc.integer({ min: 0, max: 600 }),
    l: fc.integer({ min: 0, max: 600 }),
    d: fc.integer({ min: 0, max: 900 }),
    s: fc.integer({ min: 0, max: 900 }),
    gated: fc.boolean(),
  });
  const derive = (i: { u: number; r: number; l: number; d: number; s: number; gated: boolean }) => deriveShutdownBudget({
    deregistrationDelay: seconds(i.d),
    drainTimeout: seconds(i.s),
    startupDelay: seconds(i.u),
    readinessDelay: seconds(i.r),
    registrationDelay: seconds(i.l),
    launchGated: i.gated,
  });

  test('the derived deadline is the larger of 600 s and startup + readiness + registration + grace + 2 s', () => {
    fc.assert(fc.property(launch, (i) => {
      const b = derive(i);
      const m = Math.max(5, Math.ceil(i.d / 4));
      const step = i.u + i.r + i.l + (i.d + m + i.s + m) + 2;
      expect(b.minimumProgressDeadlineSeconds).toBe(step);
      expect(b.progressDeadlineSeconds).toBe(Math.max(600, step));
    }));
  });

  test('a longer startup never shortens the deadline, and an explicit one at the minimum is accepted', () => {
    fc.assert(fc.property(launch, fc.integer({ min: 1, max: 600 }), (i, more) => {
      expect(derive({ ...i, u: i.u + more }).progressDeadlineSeconds).toBeGreaterThanOrEqual(derive(i).progressDeadlineSeconds);
      const minimum = derive(i).minimumProgressDeadlineSeconds;
      const inputs = {
        deregistrationDelay: seconds(i.d),
        drainTimeout: seconds(i.s),
        startupDelay: seconds(i.u),
        readinessDelay: seconds(i.r),
        registrationDelay: seconds(i.l),
      };
      expect(deriveShutdownBudget({ ...inputs, progressDeadline: seconds(minimum) }).progressDeadlineSeconds).toBe(minimum);
      expect(() => deriveShutdownBudget({ ...inputs, progressDeadline: seconds(minimum - 1) })).toThrow(/progressDeadline/);
    }));
  });
});
