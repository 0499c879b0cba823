/** The drain test's human summary. */
import { DrainTestResult, describeExit, round } from './model';

/** The human summary. */
export function formatDrainTestSummary(r: DrainTestResult): string {
  const lines: string[] = [];
  lines.push(`Drain test: ${r.command.join(' ')}`);
  lines.push(`  started           answered after ${r.startupSeconds} s on ${r.host}:${r.port}`);
  lines.push(`  stop signal       ${r.stopSignal}, sent to pid ${r.pid} with ${r.inFlight.length} request(s) in flight`);
  const completed = r.inFlight.filter((i) => i.outcome === 'completed');
  const lastDone = completed.length > 0 ? Math.max(...completed.map((i) => i.endedAtSeconds)) : undefined;
  const bad = r.inFlight.filter((i) => i.outcome !== 'completed');
  lines.push(`  in-flight         ${completed.length} of ${r.inFlight.length} completed${lastDone !== undefined ? ` (last at ${lastDone} s)` : ''}`
    + (bad.length > 0 ? `; ${bad.length} ${bad.map((b) => `${b.outcome} at ${b.endedAtSeconds} s${b.error !== undefined ? ` (${b.error})` : ''}`).slice(0, 3).join(', ')}` : ''));
  if (completed.length > 0) {
    const closed = completed.filter((c) => c.connectionClosedAtSeconds !== undefined);
    lines.push(`  their connections ${closed.length === completed.length
      ? `closed by the server after the response (last at ${Math.max(...closed.map((c) => c.connectionClosedAtSeconds!))} s)`
      : `${completed.length - closed.length} of ${completed.length} kept open after the response until the exit`}`);
  }
  const kept = r.idle.filter((i) => i.outcome !== 'not-kept-alive');
  if (r.idle.length === 0) {
    lines.push('  idle keep-alive   none opened');
  } else if (kept.length === 0) {
    lines.push('  idle keep-alive   none: the server closes every connection after its response');
  } else {
    const parts = kept.map((i) => (i.outcome === 'open-at-exit' ? 'open until the process exited'
      : `${i.outcome === 'reset' ? 'reset (RST)' : 'closed (FIN)'} at ${i.closedAtSeconds} s`));
    lines.push(`  idle keep-alive   ${summarizeList(parts)}`);
  }
  const n = r.newConnections;
  const newParts: string[] = [];
  if (n.answered > 0) newParts.push(`${n.answered} answered (last at ${n.lastAnsweredAtSeconds} s)`);
  if (n.refused > 0) newParts.push(`${n.refused} refused (from ${n.firstRefusedAtSeconds} s)`);
  if (n.dropped > 0) newParts.push(`${n.dropped} accepted but dropped unanswered`);
  lines.push(`  new connections   ${newParts.length > 0 ? newParts.join(', ') : 'none tried'}`);
  lines.push(`  process           ${r.exitedByItself ? `exited at ${r.exitSeconds} s (${describeExit({ code: r.exitCode, signal: r.exitSignal as NodeJS.Signals | null })})`
    : `ignored ${r.stopSignal}: still running at ${r.exitSeconds} s, killed`}`);
  lines.push('');
  const verdictText = r.verdict === 'drains'
    ? `DRAINS on ${r.stopSignal}: in-flight requests completed and the process exited ${r.drainSeconds} s after the signal`
    : r.verdict === 'cuts'
      ? `DOES NOT DRAIN on ${r.stopSignal}: in-flight requests were cut; the process exited ${r.exitSeconds} s after the signal`
      : `DOES NOT DRAIN on ${r.stopSignal}: the process ignored it and was killed after ${r.exitSeconds} s`;
  lines.push(`Verdict: ${verdictText}`);
  lines.push(`Suggested drainTimeout: ${r.suggestedDrainTimeoutSeconds} s (longest request ${r.longestRequestSeconds} s`
    + `${r.verdict === 'drains' ? ` + exit after the last request ${round(Math.max(0, r.exitSeconds - (lastDone ?? 0)))} s` : ''} + 1 s, rounded up; `
    + 'pass --longest-request with your slowest real request)');
  lines.push(`Props to paste (valid only if the container is stopped with ${r.stopSignal}: the image's STOPSIGNAL, SIGTERM if it declares none):`);
  lines.push(`  ${r.props}`);
  for (const note of r.notes) lines.push(`Note: ${note}`);
  return lines.join('\n');
}

function summarizeList(parts: string[]): string {
  const counts = new Map<string, number>();
  for (const p of parts) counts.set(p, (counts.get(p) ?? 0) + 1);
  return [...counts].map(([p, c]) => (c > 1 ? `${c} x ${p}` : p)).join(', ');
}
