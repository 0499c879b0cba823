/**
 * A real server's command line, as the user gives it to `drain-test` and `rehearse --app-command`.
 *
 * The same server runs once (drain test) or once per pod (rehearsal), each time on an address, a
 * port and a scratch directory chosen by the CLI. The user writes those as placeholders:
 *
 * - `{host}`: the loopback address to listen on (a pod's stand-in IP, e.g. 127.0.0.12)
 * - `{port}`: the port to listen on
 * - `{dir}`:  a private, empty scratch directory (pid files, temp paths, rendered config files)
 * - `{name}`: the pod's name in a rehearsal (empty in a drain test)
 *
 * The command line is split like a POSIX shell would split words (quotes and backslashes), but it
 * is never run through a shell: operators such as `|`, `;`, `&&` or `>` are refused. The same values
 * are in the environment as `HOST`, `PORT` (what many frameworks read) and `GWS_HOST`, `GWS_PORT`,
 * `GWS_DIR`. Template files (for example an nginx.conf) are rendered with the same placeholders into
 * `{dir}`, named after the template without a trailing `.tmpl`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseShellWords } from 'shell-quote';

/** Where one instance of the server must listen, and its private directory. */
export interface ServerPlacement {
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  /** The pod's name (rehearsal). */
  readonly name?: string;
}

/** A server command with placeholders, plus template files rendered next to it. */
export interface ServerCommandSpec {
  /** argv with `{host}`, `{port}`, `{dir}` placeholders. */
  readonly argv: readonly string[];
  /** Template files (paths on the host) rendered into `{dir}` before each start. */
  readonly templates: readonly string[];
}

/** A rendered command, ready for `spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env } })`. */
export interface RenderedServerCommand {
  readonly argv: string[];
  readonly env: { [name: string]: string };
  /** Files written into the placement's directory. */
  readonly files: string[];
}

export class ServerCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerCommandError';
  }
}

const PLACEHOLDER = /\{(host|port|dir|name)\}/g;

/**
 * Splits a command line into words, shell-style, without expanding anything: `$VAR` stays literal
 * (the server gets the placeholders' values in its environment instead) and operators are refused.
 */
export function parseCommandLine(line: string): string[] {
  // Keep `$NAME` literal: shell-quote would expand it from the env callback.
  const entries = parseShellWords(line, (name: string) => `$${name}`);
  const words: string[] = [];
  for (const entry of entries) {
    if (typeof entry === 'string') {
      words.push(entry);
      continue;
    }
    if ('comment' in entry) break;
    const what = 'op' in entry ? (entry.op === 'glob' ? `the glob ${(entry as { pattern: string }).pattern}` : `the shell operator ${entry.op}`) : JSON.stringify(entry);
    throw new ServerCommandError(
      `the command line contains ${what}; it is not run through a shell. `
      + 'Write a single command, or wrap it explicitly: sh -c \'...\'',
    );
  }
  if (words.length === 0) throw new ServerCommandError('the command line is empty');
  return words;
}

/** A spec from a command line (or an argv that is already split) and template files. */
export function serverCommandSpec(command: string | readonly string[], templates: readonly string[] = []): ServerCommandSpec {
  const argv = typeof command === 'string' ? parseCommandLine(command) : [...command];
  if (argv.length === 0 || argv[0] === '') throw new ServerCommandError('the command is empty');
  for (const template of templates) {
    if (!fs.existsSync(template) || !fs.statSync(template).isFile()) {
      throw new ServerCommandError(`template file ${template} does not exist`);
    }
  }
  return { argv, templates: [...templates] };
}

/** Whether the spec mentions `{host}` or `{port}` anywhere (otherwise it must read HOST/PORT). */
export function mentionsAddress(spec: ServerCommandSpec): boolean {
  return [...spec.argv, ...spec.templates.map((t) => fs.readFileSync(t, 'utf8'))]
    .some((text) => /\{(host|port)\}/.test(text));
}

/** Replaces the placeholders in one string. */
export function substitute(text: string, placement: ServerPlacement): string {
  return text.replace(PLACEHOLDER, (_match, name: string) => {
    if (name === 'host') return placement.host;
    if (name === 'port') return String(placement.port);
    if (name === 'name') return placement.name ?? '';
    return placement.dir;
  });
}

/** The rendered file name of a template: its base name without a trailing `.tmpl`. */
export function renderedTemplateName(template: string): string {
  return path.basename(template).replace(/\.tmpl$/, '');
}

/**
 * Renders the command and its templates for one placement (writing the templates into
 * `placement.dir`, which must exist).
 */
export function renderServerCommand(spec: ServerCommandSpec, placement: ServerPlacement): RenderedServerCommand {
  const files: string[] = [];
  for (const template of spec.templates) {
    const target = path.join(placement.dir, renderedTemplateName(template));
    fs.writeFileSync(target, substitute(fs.readFileSync(template, 'utf8'), placement));
    files.push(target);
  }
  return {
    argv: spec.argv.map((word) => substitute(word, placement)),
    env: {
      HOST: placement.host,
      PORT: String(placement.port),
      GWS_HOST: placement.host,
      GWS_PORT: String(placement.port),
      GWS_DIR: placement.dir,
    },
    files,
  };
}

/**
 * A signal name as the user writes it (`TERM`, `SIGTERM`, `sigquit`, `15`) to Node's name
 * (`SIGTERM`). Refuses signals this OS does not know and SIGKILL/SIGSTOP (they cannot be a stop
 * signal that an app handles).
 */
export function parseSignal(text: string): NodeJS.Signals {
  const signals = os.constants.signals as Record<string, number>;
  const trimmed = text.trim();
  let name: string | undefined;
  if (/^\d+$/.test(trimmed)) {
    name = Object.keys(signals).find((key) => signals[key] === Number(trimmed));
  } else {
    const upper = trimmed.toUpperCase();
    name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    if (!(name in signals)) name = undefined;
  }
  if (name === undefined) {
    throw new ServerCommandError(`unknown signal ${JSON.stringify(text)}; use a name such as SIGTERM, SIGQUIT, SIGINT or SIGWINCH`);
  }
  if (name === 'SIGKILL' || name === 'SIGSTOP') {
    throw new ServerCommandError(`${name} cannot be caught, so it cannot be a graceful stop signal`);
  }
  return name as NodeJS.Signals;
}
