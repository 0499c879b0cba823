// measure --rehearse, where the truth is known: per provider profile, the delays the meter's
// headers show match the lags and registration delays the rehearsal drew (its own record, never
// the manifest) within the resolution the measurement states; a meter whose clock is 2 s off
// fails the same comparison. One rollout per profile.
//
// The rehearsal runs in scaled real time, so a scheduling delay of the machine (CI runs this beside
// other test files on 2 cores) becomes model time divided by the scale: at 0.1, a 40 ms stall
// showed as 0.4 model s and pushed a pod past the resolution. At 0.25 the same stall is 0.16 s, and
// the comparison allows 25 ms of real timer slack (0.1 model s) on top of the stated resolution,
// which keeps a 2 s clock error far outside (the last test).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { METER_SERVER_FILE } from '../../src/lag-meter';
import { lagMeterManifest } from '../../src/measure/meter-manifest';
import { measureRehearsal, RehearsalMeasureOutcome } from '../../src/measure/rehearsal';
import { LbProfileId } from '../../src/rehearse/lb-profiles';

/** The meter's wait per profile: at least the real service's preStop wait, beyond the profile's largest lag. */
const WAIT: { [id in LbProfileId]: number } = { 'alibaba-alb': 25, 'tencent-clb': 20, 'aws-alb': 75, 'gke-ingress': 75 };
const TIME_SCALE = 0.25;
/** 25 ms of real time, in model seconds. */
const SLACK = 0.025 / TIME_SCALE;

function run(provider: LbProfileId, meterFile?: string): Promise<RehearsalMeasureOutcome> {
  return measureRehearsal({
    inputs: [{ file: 'meter.k8s.yaml', text: lagMeterManifest({ provider, waitSeconds: WAIT[provider] }) }],
    provider,
    timeScale: TIME_SCALE,
    rate: 30,
    rollouts: 1,
    seed: 7,
    minTerminations: 2,
    meterFile,
  });
}

/** Per pod, measured minus true (model s), for every pod the rehearsal deleted / registered while loaded. */
function errors(outcome: RehearsalMeasureOutcome) {
  const dereg = outcome.report.deregistration.pods.map((p) => {
    const truth = outcome.truth.find((t) => t.pod === p.pod);
    return { pod: p.pod, error: p.seconds - truth!.deregistrationLag! };
  });
  const reg = outcome.report.registration.pods.map((p) => {
    const truth = outcome.truth.find((t) => t.pod === p.pod);
    return { pod: p.pod, error: p.seconds - truth!.registrationDelay! };
  });
  return { dereg, reg };
}

describe.each(['alibaba-alb', 'tencent-clb', 'aws-alb', 'gke-ingress'] as LbProfileId[])('%s', (provider) => {
  test('measured D and registration per pod match what the rehearsal drew, within the stated resolution (and timer slack)', async () => {
    const outcome = await run(provider);
    expect(outcome.unmeasured).toBeUndefined();
    expect(outcome.summary.failed).toBe(0);
    const resolution = outcome.report.deregistration.resolutionSeconds!;
    expect(resolution).toBeGreaterThan(0);
    expect(resolution).toBeLessThan(1); // so that a 2 s error cannot hide in it
    // Every pod the rehearsal deleted was seen terminating, and only those.
    const deleted = outcome.truth.filter((t) => t.deregistrationLag !== undefined).map((t) => t.pod).sort();
    expect(outcome.report.deregistration.pods.map((p) => p.pod).sort()).toEqual(deleted);
    expect(deleted.length).toBeGreaterThanOrEqual(2);
    const { dereg, reg } = errors(outcome);
    const bound = resolution + SLACK;
    for (const e of dereg) expect({ pod: e.pod, error: Math.abs(e.error) <= bound ? 'within' : e.error }).toEqual({ pod: e.pod, error: 'within' });
    expect(reg.length).toBeGreaterThanOrEqual(2);
    for (const e of reg) expect({ pod: e.pod, error: Math.abs(e.error) <= bound ? 'within' : e.error }).toEqual({ pod: e.pod, error: 'within' });
  }, 300_000); // aws-alb's 75 s wait: 80 s of real time beside other work
});

test('a meter whose clock is 2 s off fails the comparison', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-wrong-meter-'));
  try {
    const source = fs.readFileSync(METER_SERVER_FILE, 'utf8');
    const wrong = source.replace('(t - prestopAt).toFixed(1)', `(t - prestopAt + 2000 * ${TIME_SCALE}).toFixed(1)`);
    expect(wrong).not.toBe(source);
    const file = path.join(dir, 'meter-server.js');
    fs.writeFileSync(file, wrong); // 2 model s at the time scale
    const outcome = await run('tencent-clb', file);
    const resolution = outcome.report.deregistration.resolutionSeconds!;
    const { dereg } = errors(outcome);
    expect(dereg.length).toBeGreaterThanOrEqual(2);
    expect(dereg.every((e) => Math.abs(e.error) > resolution + SLACK)).toBe(true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
