// What a running rehearsal shows: one clock (model seconds since the first rollout; `setup` before
// it), a status snapshot with a time-left estimate, and on a terminal one live line instead of the log.
import * as path from 'node:path';
import { main } from '../../src/cli/gws';
import { PodState } from '../../src/rehearse/simulated-cluster';
import { formatClock, formatStatusLine, rehearsalStatus, StatusLine } from '../../src/rehearse/status';

const fixtures = path.join(__dirname, 'fixtures');

function pod(name: string, revision: number, state: Partial<Pick<PodState, 'available' | 'deleting' | 'gone'>> = {}): PodState {
  return Object.assign(new PodState(name, revision, '127.0.0.1', 0), state);
}

describe('status', () => {
  test('one clock: model seconds from the first rollout, setup before it, same width', () => {
    expect(formatClock(undefined)).toBe('     setup');
    expect(formatClock(0.07)).toBe('t=   0.07s');
    expect(formatClock(123.456)).toBe('t= 123.46s');
    expect(formatClock(undefined)).toHaveLength(formatClock(3).length);
  });

  test('the snapshot counts pods by revision and estimates the time left from the pace so far', () => {
    const pods = [
      pod('a', 0, { deleting: true }), pod('b', 0), pod('c', 0),
      pod('d', 1, { available: true }), pod('e', 1),
    ];
    const base = { pods, revision: 1, rollouts: 2, replicas: 3, sent: 500, failed: 2, graceSeconds: 45, settleSeconds: 2, scale: 0.1 };
    const s = rehearsalStatus({ ...base, rollout: 1, rolloutSeconds: 20, modelSeconds: 20 });
    expect(s).toMatchObject({ newAvailable: 1, newPods: 2, oldServing: 2, terminating: 1 });
    // 20 s per new pod: 2 more in this rollout (40), one more rollout (3 x 20 + 45), the last grace (45) and settle (2), at 0.1.
    expect(s.wallSecondsLeft).toBeCloseTo((40 + 105 + 45 + 2) * 0.1, 6);
    expect(formatStatusLine(s)).toBe('t=20.0s | rollout 1/2: 1/3 new pods available | pods 2 old, 2 new, 1 terminating | requests 500, failed 2 | about 20 s left');
    const early = rehearsalStatus({ ...base, pods: [pod('b', 0), pod('e', 1)], rollout: 1, rolloutSeconds: 1, modelSeconds: 1 });
    expect(formatStatusLine(early)).toContain('time left: estimating');
    const warmup = rehearsalStatus({ ...base, pods: [pod('a', 0), pod('b', 0)], revision: 0, rollout: 0 });
    expect(formatStatusLine(warmup)).toBe('setup | warmup | pods 2 old, 0 new, 0 terminating | requests 500, failed 2');
  });

  test('the live line rewrites itself in place, fits the terminal, and clears', () => {
    const written: string[] = [];
    const line = new StatusLine((t) => void written.push(t), () => 20);
    line.update('short');
    line.update('a line much longer than twenty columns');
    line.clear();
    line.clear();
    expect(written).toEqual(['\r\x1b[2Kshort', '\r\x1b[2Ka line much longer…', '\r\x1b[2K']);
  });
});

describe('rehearse output', () => {
  async function rehearse(errIsTty: boolean): Promise<{ code: number | undefined; err: string; out: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const saved = process.exitCode;
    process.exitCode = undefined;
    try {
      await main(['node', 'gws', 'rehearse', path.join(fixtures, 'alb-derived.k8s.yaml'), '--lb', 'alibaba-alb', '--lag', '1',
        '--time-scale', '0.1', '--rate', '20', '--seed', '3', '--app-latency', '5'],
      { out: (t) => void out.push(t), err: (t) => void err.push(t), errIsTty, errColumns: () => 200 });
      return { code: process.exitCode, err: err.join(''), out: out.join('') };
    } finally {
      process.exitCode = saved;
    }
  }

  test('a pipe gets the plain log on one clock; a terminal one live status line; both the same summary', async () => {
    const piped = await rehearse(false);
    expect([0, 1]).toContain(piped.code); // the run ran (a request failing on a loaded machine is not what this tests)
    const lines = piped.err.split('\n');
    expect(lines.some((l) => /^ {5}setup \S+-r0-1 +started pid/.test(l))).toBe(true);
    expect(lines.some((l) => /^t= +0\.\d\ds rollout 1: revision 1$/.test(l))).toBe(true);
    expect(lines.some((l) => /^t= +\d+\.\d\ds requests: \d+ sent, \d+ failed in the last second/.test(l))).toBe(true);
    expect(piped.err).not.toMatch(/\[ *\d+s\]|t= +- +s|\r/);

    const terminal = await rehearse(true);
    expect([0, 1]).toContain(terminal.code);
    expect(terminal.err).toMatch(/\r\x1b\[2Kt=[\d.]+s \| rollout 1\/1: \d\/3 new pods available \| pods \d old, \d new, \d terminating \| requests \d+, failed \d+/);
    expect(terminal.err).not.toMatch(/started pid|rollout 1: revision/);
    expect(terminal.err.endsWith('\r\x1b[2K')).toBe(true); // cleared before the summary
    expect(terminal.out).toMatch(/failed: +\d+\n/);
  });
});
