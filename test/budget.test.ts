import { Duration } from 'cdk8s';
import * as fc from 'fast-check';
import { ShutdownBudget, ShutdownBudgetOptions } from '../src';

const seconds = (n: number) => Duration.seconds(n);

describe('ShutdownBudget: the model\'s documented numbers', () => {
  test('Alibaba ALB defaults: preStop 10, grace 45', () => {
    const budget = ShutdownBudget.derive({ defaultDeregistrationDelay: seconds(10) });
    expect(budget.preStopSleepSeconds).toBe(10);
    expect(budget.terminationGracePeriodSeconds).toBe(45);
    expect(budget.preStopSleep.toSeconds()).toBe(10);
    expect(budget.terminationGracePeriod.toSeconds()).toBe(45);
  });

  test('Tencent CLB defaults: preStop 5, grace 40; a 50 s drain gives 5 / 60', () => {
    expect(ShutdownBudget.derive({ defaultDeregistrationDelay: seconds(5) }).terminationGracePeriodSeconds).toBe(40);
    const meeting = ShutdownBudget.derive({ defaultDeregistrationDelay: seconds(5), drainTimeout: seconds(50) });
    expect(meeting.preStopSleepSeconds).toBe(5);
    expect(meeting.terminationGracePeriodSeconds).toBe(60);
  });

  test('an app that does not drain on SIGTERM waits out the drain in preStop', () => {
    const budget = ShutdownBudget.derive({ defaultDeregistrationDelay: seconds(10), drainsOnStopSignal: false });
    expect(budget.preStopSleepSeconds).toBe(40);
    expect(budget.terminationGracePeriodSeconds).toBe(45);
  });

  test('a declared deregistrationDelay wins over the load balancer default', () => {
    const budget = ShutdownBudget.derive({ defaultDeregistrationDelay: seconds(10), deregistrationDelay: seconds(20) });
    expect(budget.deregistrationDelaySeconds).toBe(20);
    expect(budget.terminationGracePeriodSeconds).toBe(55);
  });

  test('a zero deregistration delay needs no wait', () => {
    const budget = ShutdownBudget.derive({ deregistrationDelay: seconds(0) });
    expect(budget.preStopSleepSeconds).toBe(0);
    expect(budget.terminationGracePeriodSeconds).toBe(35);
  });

  test('fractional durations round up to whole seconds', () => {
    const budget = ShutdownBudget.derive({
      deregistrationDelay: Duration.millis(2500),
      drainTimeout: Duration.millis(100),
      safetyMargin: Duration.millis(1),
    });
    expect(budget.deregistrationDelaySeconds).toBe(3);
    expect(budget.drainTimeoutSeconds).toBe(1);
    expect(budget.safetyMarginSeconds).toBe(1);
    expect(budget.terminationGracePeriodSeconds).toBe(5);
  });

  test('a custom preStop command is counted before the wait', () => {
    const budget = ShutdownBudget.derive({ deregistrationDelay: seconds(10), preStopCommandDuration: seconds(3) });
    expect(budget.preStopSleepSeconds).toBe(10);
    expect(budget.preStopTotalSeconds).toBe(13);
    expect(budget.terminationGracePeriodSeconds).toBe(48);
    expect(budget.minimumTerminationGracePeriodSeconds).toBe(43);
  });
});

describe('ShutdownBudget: explicit grace period', () => {
  test('accepted when it covers D + S, and never adjusted', () => {
    const budget = ShutdownBudget.derive({ defaultDeregistrationDelay: seconds(10), terminationGracePeriod: seconds(40) });
    expect(budget.terminationGracePeriodSeconds).toBe(40);
    expect(budget.terminationGracePeriodIsExplicit).toBe(true);
  });

  test('refused below D + S, naming the prop and the numbers', () => {
    expect(() => ShutdownBudget.derive({ defaultDeregistrationDelay: seconds(10), terminationGracePeriod: seconds(39) }))
      .toThrow('terminationGracePeriod (39s) must be at least deregistrationDelay (10s) + drainTimeout (30s) = 40s');
  });

  test('refused below D + S for an abrupt app too', () => {
    expect(() => ShutdownBudget.derive({
      deregistrationDelay: seconds(5), drainTimeout: seconds(20), drainsOnStopSignal: false, terminationGracePeriod: seconds(24),
    })).toThrow(/terminationGracePeriod \(24s\).*= 25s/);
  });

  test('the preStop command counts against it', () => {
    expect(() => ShutdownBudget.derive({
      deregistrationDelay: seconds(10), preStopCommandDuration: seconds(5), terminationGracePeriod: seconds(44),
    })).toThrow('preStopCommandDuration (5s) + deregistrationDelay (10s) + drainTimeout (30s) = 45s');
  });
});

describe('ShutdownBudget: refused inputs', () => {
  test.each([
    ['drainTimeout', { deregistrationDelay: seconds(1), drainTimeout: Duration.seconds(Infinity) }],
    ['safetyMargin', { deregistrationDelay: seconds(1), safetyMargin: Duration.seconds(NaN) }],
    ['shutdown.deregistrationDelay', { deregistrationDelay: Duration.minutes(Infinity) }],
    ['terminationGracePeriod', { deregistrationDelay: seconds(1), terminationGracePeriod: Duration.seconds(NaN) }],
  ] as Array<[string, ShutdownBudgetOptions]>)('a non-finite %s', (prop, options) => {
    expect(() => ShutdownBudget.derive(options)).toThrow(new RegExp(`${prop.replace('.', '\\.')} must be a finite duration`));
  });

  test('negative durations cannot even be created', () => {
    // cdk8s refuses them at Duration creation, before they can reach a budget.
    expect(() => ShutdownBudget.derive({ deregistrationDelay: seconds(1), drainTimeout: seconds(-5) }))
      .toThrow(/cannot be negative/);
  });

  test('a negative duration that gets through is still refused, by name', () => {
    const forged = Object.create(Duration.prototype, { toMilliseconds: { value: () => -1000 } });
    expect(() => ShutdownBudget.derive({ deregistrationDelay: seconds(1), safetyMargin: forged }))
      .toThrow('shutdown.safetyMargin must not be negative, got -1000 ms');
  });

  test('no deregistration delay at all', () => {
    expect(() => ShutdownBudget.derive({})).toThrow(/shutdown\.deregistrationDelay is required/);
  });
});

describe('ShutdownBudget: describe()', () => {
  test('shows the ALB timeline in order', () => {
    const text = ShutdownBudget.derive({ defaultDeregistrationDelay: seconds(10) }).describe();
    expect(text).toMatchInlineSnapshot(`
"Shutdown timeline (D=10s, S=30s, app drains on the stop signal):
  t=0s   pod deleted; LB deregistration starts; preStop starts: sleep 10
  t=10s  LB sends no new requests (deregistrationDelay)
  t=10s  stop signal (the image's STOPSIGNAL, SIGTERM if none): app stops accepting and drains in-flight requests (drainTimeout 30s)
  t=40s  app has exited at the latest
  t=45s  SIGKILL if still running (terminationGracePeriodSeconds, safetyMargin 5s)
Launch timeline (no readiness gate, progressDeadlineSeconds 600):
  t=0s  new pod started
  t=0s  containers pass the readiness probe; the LB starts registering the pod
  t=0s  minReadySeconds 0 elapsed (registration 0s): pod available
  t=0s  the rollout may now delete an old pod (maxUnavailable 0)"
`);
  });

  test('an abrupt app drains before its stop signal; an explicit grace is labelled', () => {
    const text = ShutdownBudget.derive({
      deregistrationDelay: seconds(5), drainsOnStopSignal: false, terminationGracePeriod: seconds(50),
    }).describe();
    expect(text).toContain('app stops abruptly on the stop signal');
    expect(text).toContain("t=35s  stop signal (the image's STOPSIGNAL, SIGTERM if none): nothing left in flight");
    expect(text).toContain('t=50s  SIGKILL if still running (explicit terminationGracePeriod)');
  });

  test('no wait means no preStop hook', () => {
    expect(ShutdownBudget.derive({ deregistrationDelay: seconds(0) }).describe()).toContain('no preStop hook');
  });
});

// Property-based tests of the arithmetic: the invariants hold for every input, not just the examples.
describe('ShutdownBudget: properties', () => {
  const secondsArb = fc.integer({ min: 0, max: 3600 });
  const millisArb = fc.integer({ min: 0, max: 3_600_000 });
  const inputs = fc.record({
    d: secondsArb, s: secondsArb, m: secondsArb, c: fc.integer({ min: 0, max: 600 }), drains: fc.boolean(),
  });
  const derive = (i: { d: number; s: number; m: number; c: number; drains: boolean }) => ShutdownBudget.derive({
    deregistrationDelay: seconds(i.d),
    drainTimeout: seconds(i.s),
    safetyMargin: seconds(i.m),
    preStopCommandDuration: seconds(i.c),
    drainsOnStopSignal: i.drains,
  });

  test('the exact formulas of the model', () => {
    fc.assert(fc.property(inputs, (i) => {
      const b = derive(i);
      expect(b.preStopSleepSeconds).toBe(i.drains ? i.d : i.d + i.s);
      expect(b.preStopTotalSeconds).toBe(i.c + (i.drains ? i.d : i.d + i.s));
      expect(b.terminationGracePeriodSeconds).toBe(i.c + i.d + i.s + i.m);
    }));
  });

  test('integer seconds, G >= P, G >= D + S, P >= D', () => {
    fc.assert(fc.property(inputs, (i) => {
      const b = derive(i);
      for (const v of [b.preStopSleepSeconds, b.preStopTotalSeconds, b.terminationGracePeriodSeconds]) {
        expect(Number.isInteger(v)).toBe(true);
      }
      expect(b.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(b.preStopTotalSeconds);
      expect(b.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(i.d + i.s);
      expect(b.preStopSleepSeconds).toBeGreaterThanOrEqual(i.d);
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
      const b = ShutdownBudget.derive({
        deregistrationDelay: Duration.millis(d), drainTimeout: Duration.millis(s), safetyMargin: Duration.millis(m),
      });
      expect(b.deregistrationDelaySeconds).toBe(Math.ceil(d / 1000));
      expect(b.drainTimeoutSeconds).toBe(Math.ceil(s / 1000));
      expect(b.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(d + s + m);
    }));
  });

  test('an explicit grace period is accepted exactly when it covers C + D + S', () => {
    fc.assert(fc.property(inputs, secondsArb, (i, g) => {
      const make = () => ShutdownBudget.derive({
        deregistrationDelay: seconds(i.d),
        drainTimeout: seconds(i.s),
        preStopCommandDuration: seconds(i.c),
        drainsOnStopSignal: i.drains,
        terminationGracePeriod: seconds(g),
      });
      if (g >= i.c + i.d + i.s) {
        expect(make().terminationGracePeriodSeconds).toBe(g);
      } else {
        expect(make).toThrow(/terminationGracePeriod/);
      }
    }));
  });
});
