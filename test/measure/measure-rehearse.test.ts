// measure --rehearse, where the truth is known: per provider profile, the delays the meter's
// headers show match the lags and registration delays the rehearsal drew (its own record, never
// the manifest) within the resolution the measurement states; a meter whose clock is 2 s off
// fails the same comparison. Small time scale, one rollout per profile.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { METER_SERVER_FILE } from '../../src/lag-meter';
import { lagMeterManifest } from '../../src/measure/meter-manifest';
import { measureRehearsal, RehearsalMeasureOutcome } from '../../src/measure/rehearsal';
import { LbProfileId } from '../../src/rehearse/lb-profiles';

/** The meter's wait per profile: at least the real service's preStop wait, beyond the profile's largest lag. */
const WAIT: { [id in LbProfileId]: number } = { 'alibaba-alb': 25, 'tencent-clb': 20, 'aws-alb': 75, 'gke-ingress': 75 };

function run(provider: LbProfileId, meterFile?: string): Promise<RehearsalMeasureOutcome> {
  return measureRehearsal({
    inputs: [{ file: 'meter.k8s.yaml', text: lagMeterManifest({ provider, waitSeconds: WAIT[provider] }) }],
    provider,
    timeScale: 0.1,
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
  test('measured D and registration per pod match what the rehearsal drew, within the stated resolution', async () => {
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
    for (const e of dereg) expect({ pod: e.pod, within: Math.abs(e.error) <= resolution, error: e.error }).toMatchObject({ within: true });
    expect(reg.length).toBeGreaterThanOrEqual(2);
    for (const e of reg) expect({ pod: e.pod, within: Math.abs(e.error) <= resolution, error: e.error }).toMatchObject({ within: true });
  });
});

test('a meter whose clock is 2 s off fails the comparison', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-wrong-meter-'));
  try {
    const source = fs.readFileSync(METER_SERVER_FILE, 'utf8');
    const wrong = source.replace('(t - prestopAt).toFixed(1)', '(t - prestopAt + 2000 * 0.1).toFixed(1)');
    expect(wrong).not.toBe(source);
    const file = path.join(dir, 'meter-server.js');
    fs.writeFileSync(file, wrong); // 2 model s at time scale 0.1
    const outcome = await run('tencent-clb', file);
    const resolution = outcome.report.deregistration.resolutionSeconds!;
    const { dereg } = errors(outcome);
    expect(dereg.length).toBeGreaterThanOrEqual(2);
    expect(dereg.every((e) => Math.abs(e.error) > resolution)).toBe(true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
