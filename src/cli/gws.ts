#!/usr/bin/env node
import * as fs from 'node:fs';
import { Command, Option } from 'commander';
import { configureCheckCommand } from './check-command';
import { positive, positiveInt } from './cli-args';
import { configureDrainTestCommand } from './drain-test-command';
import { configureRehearseCommand } from './rehearse-command';
import { configureDemoAppCommand } from '../demo-app/demo-app';
import { ARRIVALS, Arrivals, formatProgress, formatSummary, runProbe } from '../probe/probe';

/** Where the CLI writes; tests substitute their own. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/**
 * Abort on SIGINT/SIGTERM so that the running probe/rehearsal stops and cleans up; a second signal
 * exits at once (child processes are still killed by the process-exit hook).
 */
function abortOnSignals(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) process.exit(sig === 'SIGINT' ? 130 : 143);
    ac.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: ac.signal,
    dispose: () => {
      process.removeListener('SIGINT', handler);
      process.removeListener('SIGTERM', handler);
    },
  };
}

interface ProbeCliOptions {
  rate: number;
  arrivals: Arrivals;
  concurrency?: number;
  host?: string;
  timeout: number;
  duration?: number;
  out?: string;
  quiet?: boolean;
  json?: boolean;
}

/** The `gws` program. Actions set `process.exitCode` (1 = some request failed) rather than exiting. */
export function buildProgram(io: CliIo = defaultIo): Command {
  const program = new Command('cdk8s-graceful-web-service') // the main bin; `gws` is its installed alias
    .description('Rehearse and verify graceful rolling updates of web services behind a cloud load balancer')
    .showHelpAfterError()
    .exitOverride() // throw instead of exiting, inherited by the subcommands below
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  program.command('probe')
    .description('Send requests at a fixed rate over keep-alive connections and record every outcome; exits 1 if any request failed')
    .argument('<url>', 'http:// URL to request')
    .option('-r, --rate <n>', 'requests per second', positive, 10)
    .addOption(new Option('--arrivals <spacing>', 'fixed: exactly 1/rate apart; poisson: independent arrivals at the same mean rate').choices([...ARRIVALS]).default('fixed'))
    .option('-c, --concurrency <n>', 'max requests in flight (= keep-alive connections); default: rate x timeout', positiveInt)
    .option('-H, --host <host>', 'Host header to send')
    .option('-t, --timeout <seconds>', 'per-request timeout', positive, 10)
    .option('-d, --duration <seconds>', 'stop after this long (default: until Ctrl-C)', positive)
    .option('-o, --out <file>', 'write every request to a .jsonl or .csv file')
    .option('-q, --quiet', 'no per-second progress lines')
    .option('--json', 'print the summary as JSON')
    .action(async (url: string, opts: ProbeCliOptions) => {
      const { signal, dispose } = abortOnSignals();
      try {
        const { summary } = await runProbe({
          url,
          rate: opts.rate,
          arrivals: opts.arrivals,
          concurrency: opts.concurrency,
          host: opts.host,
          timeoutMs: opts.timeout * 1000,
          durationMs: opts.duration !== undefined ? opts.duration * 1000 : undefined,
          out: opts.out,
          signal,
          onProgress: opts.quiet ? undefined : (p) => io.err(formatProgress(p) + '\n'),
        });
        io.out(opts.json ? JSON.stringify(summary, null, 2) + '\n' : formatSummary(summary) + '\n');
        process.exitCode = summary.failed > 0 ? 1 : 0;
      } finally {
        dispose();
      }
    });

  configureRehearseCommand(program.command('rehearse'), { ...io, abortOnSignals });
  configureDemoAppCommand(program.command('demo-app'));
  configureDrainTestCommand(program.command('drain-test'));
  configureCheckCommand(program.command('check'), { ...io, readStdin: () => fs.readFileSync(0, 'utf8') });
  return program;
}

/** Entry point: exit 2 on usage or runtime errors, 130 when interrupted. */
export async function main(argv: string[], io: CliIo = defaultIo): Promise<void> {
  try {
    await buildProgram(io).parseAsync(argv);
  } catch (e) {
    const err = e as Error & { code?: string; exitCode?: number };
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) {
      // commander already printed the message; help/version exit 0.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    io.err(`gws: ${err.message}\n`);
    process.exitCode = err.message === 'interrupted' ? 130 : 2;
  }
}

if (require.main === module) {
  void main(process.argv);
}
