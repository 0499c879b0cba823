import { Duration } from 'cdk8s';
import { LoadBalancer } from '../src';
import { deriveShutdownBudget } from '../src/budget';
import { ILoadBalancer } from '../src/load-balancer';
import { LB_PROFILE_IDS, LB_PROFILES, LbProfileId } from '../src/rehearse/lb-profiles';

/**
 * Until a user measures their load balancer, the defaults must cover what the rehearsal's own
 * profiles assume: a wait that only ties the largest lag drops requests (issue 19 item 5).
 */
const PROVIDERS: { readonly [id in LbProfileId]: readonly ILoadBalancer[] } = {
  'alibaba-alb': [LoadBalancer.alibabaAlb(), LoadBalancer.alibabaAlb({ directAccess: true })],
  'tencent-clb': [LoadBalancer.tencentClb(), LoadBalancer.tencentClb({ directAccess: false })],
  'aws-alb': [LoadBalancer.awsAlb()],
  'gke-ingress': [LoadBalancer.gkeIngress()],
};

describe.each(LB_PROFILE_IDS.map((id) => [id]))('the %s defaults against its rehearsal profile', (id) => {
  const lag = LB_PROFILES[id].deregistrationLag;
  const largest = Math.max(lag.typicalSeconds, lag.tailMaxSeconds);

  test.each(PROVIDERS[id].map((lb) => [lb.displayName, lb]))('%s: D covers the largest lag, the wait D + M strictly exceeds it', (_, lb) => {
    const budget = deriveShutdownBudget({ defaultDeregistrationDelay: lb.defaultDeregistrationDelay });
    expect(budget.deregistrationDelaySeconds).toBeGreaterThanOrEqual(largest);
    expect(budget.preStopSleepSeconds).toBeGreaterThan(largest);
    // An app that stops at once waits through the drain too: still beyond the lag.
    const abrupt = deriveShutdownBudget({ defaultDeregistrationDelay: lb.defaultDeregistrationDelay, drainsOnStopSignal: false });
    expect(abrupt.preStopSleepSeconds).toBeGreaterThan(largest);
  });
});

test('every profile has a provider in this table', () => {
  expect(Object.keys(PROVIDERS).sort()).toEqual([...LB_PROFILE_IDS].sort());
});

test('the consistency test can fail: the old GKE default (40 s, wait 50 s) is below the profile\'s 60 s', () => {
  const old = deriveShutdownBudget({ defaultDeregistrationDelay: Duration.seconds(40) });
  expect(old.preStopSleepSeconds).toBe(50);
  expect(old.preStopSleepSeconds).toBeLessThanOrEqual(LB_PROFILES['gke-ingress'].deregistrationLag.tailMaxSeconds);
});
