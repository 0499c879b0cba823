/** Command-line wiring of `drain-test` (the test itself is src/drain-test/). */
import * as path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { nonNegativeInt, positive, positiveInt } from './cli-args';
import { DOWNLOAD_FILE, DrainTestError, DrainTestResult, formatDrainTestSummary, MIB, runDrainTest } from '../drain-test/drain-test';
import { parseSignal, serverCommandSpec } from '../process/server-command';

/**
 * The server templates shipped with the package (nginx, Apache httpd, a Python app, gunicorn, Node),
 * the ones the README and docs/benchmarks.md use: `assets/servers/` at the package root, two levels
 * above this file both in src/cli/ and in the compiled lib/cli/.
 */
export const SERVER_TEMPLATES_DIR = path.join(__dirname, '..', '..', 'assets', 'servers');

function signalArg(v: string): NodeJS.Signals {
  try {
    return parseSignal(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function loopbackHost(v: string): string {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v)) throw new InvalidArgumentError('expected a loopback IPv4 address (127.x.y.z)');
  return v;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface DrainTestCliOptions {
  appCommand: string;
  appTemplate: string[];
  stopSignal: NodeJS.Signals;
  host: string;
  port?: number;
  path: string;
  downloadPath?: string;
  downloadSize: number;
  downloadSeconds: number;
  slowPath?: string;
  clients: number;
  idle: number;
  stopAfter: number;
  startTimeout: number;
  killAfter: number;
  longestRequest?: number;
  json?: boolean;
  quiet?: boolean;
}

/** `drain-test`: exits 0 when the app drains on the signal, 1 when it does not, 2 when the test cannot run. */
export function configureDrainTestCommand(cmd: Command): Command {
  // Handled when the flag is parsed, as --version is, so that it needs no --app-command.
  cmd.on('option:templates-dir', () => {
    const io = cmd.configureOutput() as { writeOut?: (t: string) => void };
    (io.writeOut ?? ((t: string) => process.stdout.write(t)))(`${SERVER_TEMPLATES_DIR}\n`);
    throw new CommanderError(0, 'commander.templatesDir', SERVER_TEMPLATES_DIR);
  });
  return cmd
    .description('Start a real server, put requests in flight, send it the stop signal and observe whether it drains; '
      + 'prints the verdict and the shutdown props to paste. Exits 0 if it drains, 1 if not, 2 if the test cannot run')
    .requiredOption('--app-command <command line>', 'the server command; placeholders {host} {port} {dir} (also $HOST $PORT $GWS_DIR in its environment); not run through a shell')
    .option('--app-template <file>', 'a file rendered with the same placeholders into {dir} (name without .tmpl), repeatable', collect, [])
    .addOption(new Option('--stop-signal <signal>', "the signal the container runtime sends: the image's STOPSIGNAL").argParser(signalArg).default('SIGTERM'))
    .option('--host <address>', 'loopback address the server listens on', loopbackHost, '127.0.0.1')
    .option('--port <n>', 'port the server listens on (default: a free port)', positiveInt)
    .option('--path <path>', 'path to see whether the server answers, also used on idle and new connections', '/')
    .option('--download-path <path>', `in-flight downloads: a path serving {dir}/${DOWNLOAD_FILE}, which the test creates (default /${DOWNLOAD_FILE} unless --slow-path is given)`)
    .option('--download-size <MiB>', 'size of the download file', positive, 64)
    .option('--download-seconds <s>', 'each download is read slowly over this long', positive, 4)
    .option('--slow-path <path>', 'in-flight requests to a path your server takes a while to answer (2 s or more), e.g. /slow')
    .option('--clients <n>', 'in-flight requests per kind (downloads, slow path)', positiveInt, 2)
    .option('--idle <n>', 'idle keep-alive connections', nonNegativeInt, 2)
    .option('--stop-after <s>', 'seconds between starting the in-flight requests and the stop signal', positive, 1)
    .option('--start-timeout <s>', 'seconds to wait until the server answers', positive, 30)
    .option('--kill-after <s>', 'seconds after the signal before the server counts as ignoring it and is killed', positive, 60)
    .option('--longest-request <s>', 'your slowest real request, to size the suggested drainTimeout (default: the test\'s own requests)', positive)
    .option('--json', 'print the result as JSON on stdout')
    .option('-q, --quiet', 'no progress lines on stderr')
    .option('--templates-dir', 'print the folder of the server templates shipped with this package (nginx.conf.tmpl, apache2.conf.tmpl, ...) and exit')
    .action(async (opts: DrainTestCliOptions, command: Command) => {
      const io = command.configureOutput() as { writeOut?: (t: string) => void; writeErr?: (t: string) => void };
      const out = io.writeOut ?? ((t: string) => process.stdout.write(t));
      const err = io.writeErr ?? ((t: string) => process.stderr.write(t));
      const server = serverCommandSpec(opts.appCommand, opts.appTemplate);
      const downloadPath = opts.downloadPath ?? (opts.slowPath === undefined ? `/${DOWNLOAD_FILE}` : undefined);
      const ac = new AbortController();
      const onSignal = () => ac.abort();
      process.once('SIGINT', onSignal);
      try {
        let result: DrainTestResult;
        try {
          result = await runDrainTest({
            server,
            stopSignal: opts.stopSignal,
            host: opts.host,
            port: opts.port,
            path: opts.path,
            download: downloadPath !== undefined
              ? { path: downloadPath, bytes: Math.round(opts.downloadSize * MIB), seconds: opts.downloadSeconds }
              : undefined,
            slowPath: opts.slowPath,
            clients: opts.clients,
            idle: opts.idle,
            stopAfterSeconds: opts.stopAfter,
            startTimeoutSeconds: opts.startTimeout,
            killAfterSeconds: opts.killAfter,
            longestRequestSeconds: opts.longestRequest,
            log: opts.quiet || opts.json ? undefined : (line) => err(`drain-test: ${line}\n`),
            signal: ac.signal,
          });
        } catch (e) {
          if (e instanceof DrainTestError && e.message === 'interrupted') throw e;
          if (e instanceof DrainTestError) throw new Error(`drain-test: ${e.message}`);
          throw e;
        }
        out(opts.json ? JSON.stringify(result, null, 2) + '\n' : formatDrainTestSummary(result) + '\n');
        process.exitCode = result.verdict === 'drains' ? 0 : 1;
      } finally {
        process.removeListener('SIGINT', onSignal);
      }
    });
}
