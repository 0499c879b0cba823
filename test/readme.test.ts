// The README's TypeScript snippets are code: they are extracted in order, type-checked against
// src/ as if `cdk8s-graceful-web-service` were installed, run, synthesized, validated like every
// other output, and each Deployment is checked to start with its image under the security
// context it got.
import * as fs from 'fs';
import { createRequire } from 'module';
import * as os from 'os';
import * as path from 'path';
import * as cdk8s from 'cdk8s';
import * as ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { baseProps, KubeObject, synth, validateObjects } from './util';

const ROOT = path.join(__dirname, '..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const PACKAGE = 'cdk8s-graceful-web-service';

/** What an image needs to start; every image a README snippet uses must be listed here. */
interface ImageFacts {
  /** The image's process runs as UID 0 (e.g. an nginx master binding port 80). */
  readonly runsAsRoot: boolean;
  /** The port it listens on. */
  readonly listens: number;
  /** Directories it writes to at start (a read-only root filesystem must have them mounted). */
  readonly writes: string[];
  /** It has /bin/sh, which the exec preStop wait needs. */
  readonly hasShell: boolean;
}

const IMAGES: { [image: string]: ImageFacts } = {
  // Alibaba's demo nginx: stock nginx config, master runs as root on port 80; proxy/client temp
  // files under /var/cache/nginx and the pid file under /var/run.
  'registry.cn-hangzhou.aliyuncs.com/acs-sample/nginxdemos:latest': {
    runsAsRoot: true, listens: 80, writes: ['/var/cache/nginx', '/var/run'], hasShell: true,
  },
  // nginx's unprivileged image: UID 101, port 8080, pid and temp paths moved to /tmp.
  'nginxinc/nginx-unprivileged:1.27-alpine': { runsAsRoot: false, listens: 8080, writes: ['/tmp'], hasShell: true },
};

/** Throws unless every Deployment's pods would start with its image. */
function checkPodsStart(objects: KubeObject[]): void {
  for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
    const pod = deployment.spec.template.spec;
    for (const c of pod.containers) {
      const where = `Deployment ${deployment.metadata.name}, image ${c.image}`;
      const facts = IMAGES[c.image];
      if (facts === undefined) {
        throw new Error(`${where}: unknown image; add what it needs to IMAGES in test/readme.test.ts`);
      }
      const nonRoot = c.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot ?? false;
      if (facts.runsAsRoot && (nonRoot || pod.securityContext?.runAsNonRoot === true)) {
        throw new Error(`${where}: the image runs as root, but runAsNonRoot is set: the kubelet refuses to start it (use runAsRoot: true)`);
      }
      if (c.securityContext?.readOnlyRootFilesystem === true) {
        const mounts: string[] = (c.volumeMounts ?? []).map((m: any) => m.mountPath);
        for (const dir of facts.writes) {
          if (!mounts.some((m) => dir === m || dir.startsWith(m.endsWith('/') ? m : `${m}/`))) {
            throw new Error(`${where}: the image writes to ${dir}, but the root filesystem is read-only and nothing writable is mounted there`);
          }
        }
      }
      if (!(c.ports ?? []).some((p: any) => p.containerPort === facts.listens)) {
        throw new Error(`${where}: the image listens on ${facts.listens}, the container port is ${JSON.stringify(c.ports)}`);
      }
      for (const probe of [c.readinessProbe, c.startupProbe].filter((p) => p?.httpGet)) {
        if (probe.httpGet.port !== facts.listens) {
          throw new Error(`${where}: a probe checks port ${probe.httpGet.port}, the image listens on ${facts.listens}`);
        }
      }
      if (c.lifecycle?.preStop?.exec?.command?.[0] === '/bin/sh' && !facts.hasShell) {
        throw new Error(`${where}: the preStop wait needs /bin/sh, which the image lacks (use PreStopAction.SLEEP_ACTION)`);
      }
    }
  }
}

/** The ```ts blocks of the README, in order. */
function snippets(): string[] {
  return [...README.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/**
 * One module from all snippets: their imports merged at the top (a later snippet may import
 * what an earlier one did), the package name pointing at src/.
 */
function combine(blocks: string[]): string {
  const imports = new Map<string, Set<string>>();
  const bodies: string[] = [];
  for (const [i, block] of blocks.entries()) {
    const body: string[] = [`// --- README snippet ${i + 1}`];
    for (const line of block.split('\n')) {
      const m = /^import \{([^}]+)\} from '([^']+)';$/.exec(line);
      if (m) {
        const names = imports.get(m[2]) ?? new Set<string>();
        m[1].split(',').map((n) => n.trim()).filter((n) => n).forEach((n) => names.add(n));
        imports.set(m[2], names);
      } else {
        body.push(line);
      }
    }
    bodies.push(body.join('\n'));
  }
  const header = [...imports].map(([module, names]) => {
    const from = module === PACKAGE ? path.join(ROOT, 'src', 'index') : module;
    return `import { ${[...names].join(', ')} } from '${from}';`;
  });
  return [...header, ...bodies].join('\n');
}

/**
 * Type-check a module strictly. It exists only in memory, at a path inside test/ so that imports
 * resolve against the checkout's node_modules: nothing is written into the tree (a file there was
 * once packed into the npm tarball).
 */
function typeCheck(source: string): string[] {
  const file = path.join(ROOT, 'test', '.readme-snippets.ts');
  const options: ts.CompilerOptions = {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (f) => (f === file ? source : readFile(f));
  host.fileExists = (f) => f === file || fileExists(f);
  host.getSourceFile = (f, lang, ...rest) => (f === file ? ts.createSourceFile(f, source, lang) : getSourceFile(f, lang, ...rest));
  const program = ts.createProgram([file], options, host);
  if (fs.existsSync(file)) throw new Error(`${file} exists; the type check must not read or write the tree`);
  const problems = ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? `${path.relative(ROOT, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : '';
    return where + ts.flattenDiagnosticMessageText(d.messageText, '\n');
  });
  return problems;
}

describe('README commands', () => {
  test('npx only ever names our own package: npx fetches and runs whatever package owns any other name', () => {
    // Commands: at the start of a line (code blocks) or of an inline code span.
    const named = [...README.matchAll(/(?:^|`)npx\s+(?:--?[\w-]+\s+)*([^\s`'"]+)/gm)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((name) => name !== PACKAGE && name !== '...')).toEqual([]);
  });
});

describe('README structure', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const readmeToc = require('../build-tools/readme-toc.js') as {
    toc(text: string): string; current(text: string): string; slug(text: string, seen: Map<string, number>): string;
  };

  test('the table of contents lists every ## and ### heading, with working anchors', () => {
    expect(readmeToc.current(README)).toBe(README);
    expect(readmeToc.toc(README)).toContain('- [Quick start](#quick-start)');
  });

  test('the table check fails on a heading the table does not list', () => {
    const stale = README.replace('## Development', '## Development\n\n### A section added later');
    expect(readmeToc.current(stale)).not.toBe(stale);
  });

  test('anchors follow GitHub: punctuation dropped, repeats numbered', () => {
    const seen = new Map<string, number>();
    expect(readmeToc.slug('Prove it: `probe` and `rehearse`', seen)).toBe('prove-it-probe-and-rehearse');
    expect(readmeToc.slug("Coming from the vendors' docs", seen)).toBe('coming-from-the-vendors-docs');
    expect(readmeToc.slug("Coming from the vendors' docs", seen)).toBe('coming-from-the-vendors-docs-1');
  });

  test('every in-page link points at a heading', () => {
    const seen = new Map<string, number>();
    const anchors = new Set<string>();
    let fenced = false;
    for (const line of README.split('\n')) {
      if (/^\s*```/.test(line)) fenced = !fenced;
      const m = /^#{1,6} (.+?)\s*$/.exec(line);
      if (!fenced && m) anchors.add(readmeToc.slug(m[1], seen));
    }
    const links = [...README.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(10);
    expect(links.filter((a) => !anchors.has(a))).toEqual([]);
  });
});

describe('README TypeScript snippets', () => {
  const blocks = snippets();
  const source = combine(blocks);

  test('there are snippets, and each uses the published package name (no relative imports)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const block of blocks) {
      expect(block).not.toMatch(/from '\.\.?\//);
    }
  });

  test('they type-check in order, strictly, against the library', () => {
    expect(typeCheck(source)).toEqual([]);
  });

  test('the type check fails on a type error, and writes nothing into the tree', () => {
    const before = fs.readdirSync(path.join(ROOT, 'test'));
    expect(typeCheck(`${source}\nconst wrong: number = 'eight';\n`).join('\n')).toMatch(/'string' is not assignable to type 'number'/);
    expect(fs.readdirSync(path.join(ROOT, 'test'))).toEqual(before);
  });

  test('they run and synthesize valid objects whose pods start with their images', () => {
    const apps: cdk8s.App[] = [];
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-readme-'));
    class RecordingApp extends cdk8s.App {
      constructor(props: cdk8s.AppProps = {}) {
        super({ outdir, ...props });
        apps.push(this);
      }
    }
    const modules: { [name: string]: unknown } = { cdk8s: { ...cdk8s, App: RecordingApp } };
    const load = createRequire(__filename);
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
    const logged: string[] = [];
    const quietConsole = { ...console, log: (...args: unknown[]) => logged.push(args.join(' ')) };
    try {
      new Function('require', 'console', 'exports', js)((name: string) => modules[name] ?? load(name), quietConsole, {});
      expect(apps).toHaveLength(1);
      const objects = parseAllDocuments(apps[0].synthYaml()).map((d) => d.toJS() as KubeObject);
      expect(objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name)).toEqual(['tea', 'meeting', 'checkout', 'storefront', 'payments', 'catalog']);
      validateObjects(objects);
      checkPodsStart(objects);
      // The first snippet prints the timeline the README shows above it.
      expect(logged.join('\n')).toContain('t=20s  SIGQUIT: app stops accepting and drains in-flight requests (drainTimeout 30s)');
      expect(logged.join('\n')).toContain('t=55s  SIGKILL if still running (terminationGracePeriodSeconds, safetyMargin 5s)');
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('the pod check fails for what the README used to show: a root image under the non-root default', () => {
    const image = 'registry.cn-hangzhou.aliyuncs.com/acs-sample/nginxdemos:latest';
    expect(() => checkPodsStart(synth(baseProps({ image, writablePaths: ['/var/cache/nginx', '/var/run'] })).objects))
      .toThrow(/runs as root, but runAsNonRoot is set/);
    expect(() => checkPodsStart(synth(baseProps({ image, runAsRoot: true })).objects))
      .toThrow(/writes to \/var\/cache\/nginx, but the root filesystem is read-only/);
    expect(() => checkPodsStart(synth(baseProps({ image: 'nginxinc/nginx-unprivileged:1.27-alpine', writablePaths: ['/tmp'] })).objects))
      .toThrow(/listens on 8080/);
    expect(() => checkPodsStart(synth(baseProps({ image: 'example/unknown:1' })).objects)).toThrow(/unknown image/);
  });
});
