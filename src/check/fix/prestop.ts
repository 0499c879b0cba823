/**
 * The preStop wait `check --fix` writes: the forms this library emits (src/prestop.ts), keeping
 * what the container already does. Nothing from the manifest is run: the image name is only read.
 */
import { KubeObject } from '../../manifests/topology';
import { sleepSeconds } from '../prestop-wait';

/** How a missing preStop wait is added (`--prestop-action`), as `PreStopAction` in the library. */
export type FixPreStopAction = 'exec-sleep' | 'sleep-action';

/** An edit below the container, or the reason the wait cannot be written automatically. */
export type PreStopEdit =
  | { readonly path: (string | number)[]; readonly value: unknown }
  | { readonly manual: string };

const SHELLS = /^(\/usr)?(\/bin\/|\/busybox\/)?(sh|bash|ash|dash|zsh)$/;
const SLEEP = /^(\/usr)?(\/bin\/)?sleep$/;
const WRAPPER = /^"\$@"; sleep \S+$/;
const SHELL_SLEEP = /^(\s*(?:exec\s+)?(?:\/usr)?(?:\/bin\/)?sleep\s+)(\S+)(\s*)$/;

/**
 * Images with no shell: distroless (gcr.io/distroless, and images built on it) and Chainguard's
 * (cgr.dev) non-dev images. `/bin/sh -c "sleep N"` fails in them, and a failed hook is no wait.
 */
export function looksShellLess(image: unknown): boolean {
  if (typeof image !== 'string') return false;
  return /(^|[/-])distroless([/:@-]|$)/.test(image) || (/^cgr\.dev\//.test(image) && !/-dev([:@]|$)/.test(image));
}

/** The edit that makes a container's preStop wait `seconds` long, relative to the container. */
export function preStopEdit(container: KubeObject, seconds: number, action: FixPreStopAction): PreStopEdit {
  const preStop = container.lifecycle?.preStop;
  const base = ['lifecycle', 'preStop'];
  if (preStop === undefined || preStop === null) {
    if (action === 'sleep-action') return { path: base, value: { sleep: { seconds } } };
    if (looksShellLess(container.image)) {
      return {
        manual: `image ${container.image} looks shell-less, so /bin/sh -c "sleep ${seconds}" would fail (a failed hook is no wait): `
          + 'on Kubernetes 1.30 or later rerun with --prestop-action sleep-action, else add a sleep binary to the image',
      };
    }
    return { path: base, value: { exec: { command: ['/bin/sh', '-c', `sleep ${seconds}`] } } };
  }
  if (typeof preStop !== 'object') return { manual: 'the preStop hook is not a mapping' };
  if (preStop.sleep !== undefined) return { path: [...base, 'sleep', 'seconds'], value: seconds };
  const command: unknown = preStop.exec?.command;
  if (!Array.isArray(command) || command.length === 0 || !command.every((c) => typeof c === 'string' || typeof c === 'number')) {
    return {
      manual: `the preStop hook is ${preStop.httpGet !== undefined ? 'an HTTP call' : 'not a command'}, and a hook has exactly one action: `
        + `wait ${seconds} s in it (or replace it with a command that calls it and then sleeps)`,
    };
  }
  const argv = command.map(String);
  const path = [...base, 'exec', 'command'];
  // This library's wrapper: "$@"; sleep W with the user's command after it.
  if (argv.length >= 4 && SHELLS.test(argv[0]) && argv[1] === '-c' && WRAPPER.test(argv[2])) {
    return { path, value: [argv[0], '-c', `"$@"; sleep ${seconds}`, ...argv.slice(3)] };
  }
  if (SLEEP.test(argv[0]) && sleepSeconds(argv.slice(1)) !== undefined) return { path, value: [argv[0], String(seconds)] };
  const shellSleep = argv.length === 3 && SHELLS.test(argv[0]) && argv[1] === '-c' ? SHELL_SLEEP.exec(argv[2]) : null;
  if (shellSleep !== null && sleepSeconds([shellSleep[2]]) !== undefined) {
    return { path, value: [argv[0], '-c', `${shellSleep[1]}${seconds}${shellSleep[3]}`] };
  }
  if (looksShellLess(container.image)) {
    return { manual: `image ${container.image} looks shell-less, so the preStop command cannot be wrapped in /bin/sh to wait ${seconds} s after it` };
  }
  // Any other command: run it as it is, then wait (the library's preStopCommand form).
  return { path, value: ['/bin/sh', '-c', `"$@"; sleep ${seconds}`, 'prestop', ...argv] };
}
