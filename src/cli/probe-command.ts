import * as fs from 'node:fs';
import { Command, Option } from 'commander';
import { positive, positiveInt } from './cli-args';
import { ARRIVALS, Arrivals, formatProgress, formatSummary, ProbeOptions, runProbe } from '../probe/probe';

/** What the probe command needs from the program: where to write, and an abort on Ctrl-C. */
export interface ProbeCommandIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly abortOnSignals: () => { signal: AbortSignal; dispose: () => void };
}

/** The probe command's options as commander parses them. Add a field here with each new flag. */
export interface ProbeCliOptions {
  rate: number;
  arrivals: Arrivals;
  concurrency?: number;
  host?: string;
  timeout: number;
  duration?: number;
  out?: string;
  quiet?: boolean;
  json?: boolean;
  cacert?: string;
  insecure?: boolean;
}

/** The library options for a command line: one place maps flags to `ProbeOptions`. */
export function probeOptions(url: string, opts: ProbeCliOptions): ProbeOptions {
  let ca: Buffer | undefined;
  if (opts.cacert !== undefined) {
    try {
      ca = fs.readFileSync(opts.cacert);
    } catch (e) {
      throw new Error(`--cacert ${opts.cacert}: ${(e as Error).message}`);
    }
  }
  return {
    url,
    rate: opts.rate,
    arrivals: opts.arrivals,
    concurrency: opts.concurrency,
    host: opts.host,
    timeoutMs: opts.timeout * 1000,
    durationMs: opts.duration !== undefined ? opts.duration * 1000 : undefined,
    out: opts.out,
    ca,
    insecure: opts.insecure,
  };
}

/** `probe <url>`: steady load with per-request records; exits 1 if any request failed. */
export function configureProbeCommand(command: Command, io: ProbeCommandIo): Command {
  return command
    .description('Send requests at a fixed rate over keep-alive connections and record every outcome; exits 1 if any request failed')
    .argument('<url>', 'http:// or https:// URL to request')
    .option('-r, --rate <n>', 'requests per second', positive, 10)
    .addOption(new Option('--arrivals <spacing>', 'fixed: exactly 1/rate apart; poisson: independent arrivals at the same mean rate').choices([...ARRIVALS]).default('fixed'))
    .option('-c, --concurrency <n>', 'max requests in flight (= keep-alive connections); default: rate x timeout', positiveInt)
    .option('-H, --host <host>', 'Host header to send (with https://, also the TLS server name the certificate must match)')
    .option('-t, --timeout <seconds>', 'per-request timeout', positive, 10)
    .option('-d, --duration <seconds>', 'stop after this long (default: until Ctrl-C)', positive)
    .option('-o, --out <file>', 'write every request to a .jsonl or .csv file')
    .option('--cacert <file>', 'https: trust the CA certificate(s) in this PEM file instead of the system\'s')
    .option('-k, --insecure', 'https: do not verify the server\'s certificate (self-signed test endpoints)')
    .option('-q, --quiet', 'no per-second progress lines')
    .option('--json', 'print the summary as JSON')
    .action(async (url: string, opts: ProbeCliOptions) => {
      const options = probeOptions(url, opts);
      const { signal, dispose } = io.abortOnSignals();
      try {
        const { summary, tlsError } = await runProbe({
          ...options,
          signal,
          onProgress: opts.quiet ? undefined : (p) => io.err(formatProgress(p) + '\n'),
        });
        io.out(opts.json ? JSON.stringify(summary, null, 2) + '\n' : formatSummary(summary) + '\n');
        if (tlsError !== undefined) {
          io.err(`TLS failed (${tlsError}): trust the server's CA with --cacert <file>, or skip verification with --insecure\n`);
        }
        process.exitCode = summary.failed > 0 ? 1 : 0;
      } finally {
        dispose();
      }
    });
}
