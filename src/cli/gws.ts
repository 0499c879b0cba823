#!/usr/bin/env node
import * as fs from 'node:fs';
import { Command } from 'commander';
import { configureCheckCommand } from './check-command';
import { configureDrainTestCommand } from './drain-test-command';
import { configureLagMeterCommand } from './lag-meter-command';
import { configureMeasureCommand } from './measure-command';
import { configureProbeCommand } from './probe-command';
import { invokedName, PACKAGE_NAME, packageVersion } from './program-name';
import { configureRehearseCommand } from './rehearse-command';
import { configureDemoAppCommand } from '../demo-app/demo-app';

/** Where the CLI writes; tests substitute their own. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** `err` is a terminal (live status lines instead of a log). */
  readonly errIsTty?: boolean;
  readonly errColumns?: () => number | undefined;
}

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  errIsTty: process.stderr.isTTY === true,
  errColumns: () => process.stderr.columns,
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

/** The `gws` program. Actions set `process.exitCode` (1 = some request failed) rather than exiting. */
export function buildProgram(io: CliIo = defaultIo): Command {
  const program = new Command(PACKAGE_NAME) // the main bin; `gws` is its installed alias
    .description('Rehearse and verify graceful rolling updates of web services behind a cloud load balancer')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError()
    .exitOverride() // throw instead of exiting, inherited by the subcommands below
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  configureProbeCommand(program.command('probe'), { ...io, abortOnSignals });
  configureRehearseCommand(program.command('rehearse'), { ...io, abortOnSignals });
  configureDemoAppCommand(program.command('demo-app'));
  configureDrainTestCommand(program.command('drain-test'));
  configureCheckCommand(program.command('check'), { ...io, readStdin: () => fs.readFileSync(0, 'utf8') });
  configureLagMeterCommand(program.command('lag-meter'), io);
  configureMeasureCommand(program.command('measure'), { ...io, abortOnSignals });
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
    io.err(`${invokedName(argv[1])}: ${err.message}\n`);
    process.exitCode = err.message === 'interrupted' ? 130 : 2;
  }
}

if (require.main === module) {
  void main(process.argv);
}
