// The CLI names itself as invoked (`gws:` only when run as `gws`) and prints its version.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../../src/cli/gws';
import { invokedName, PACKAGE_NAME, packageVersion } from '../../src/cli/program-name';

async function run(argv: string[]): Promise<{ code: number | undefined; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    await main(argv, { out: (t) => void out.push(t), err: (t) => void err.push(t) });
    return { code: process.exitCode, out: out.join(''), err: err.join('') };
  } finally {
    process.exitCode = saved;
  }
}

describe('program name and version', () => {
  test('--version and -V print the version of package.json and exit 0', async () => {
    const version = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version;
    expect(packageVersion()).toBe(version);
    for (const flag of ['--version', '-V']) {
      const r = await run(['node', '/usr/bin/cdk8s-graceful-web-service', flag]);
      expect(r).toEqual({ code: 0, out: `${version}\n`, err: '' });
    }
  });

  test('errors start with the name the CLI was invoked by; the package name otherwise', async () => {
    expect(invokedName('/x/node_modules/.bin/gws')).toBe('gws');
    expect(invokedName('/x/node_modules/.bin/cdk8s-graceful-web-service')).toBe(PACKAGE_NAME);
    expect(invokedName('/repo/lib/cli/gws.js')).toBe(PACKAGE_NAME);
    expect(invokedName(undefined)).toBe(PACKAGE_NAME);
    const missing = path.join(__dirname, 'no-such-file.yaml');
    const long = await run(['node', '/usr/local/bin/cdk8s-graceful-web-service', 'check', missing]);
    expect(long.code).toBe(2);
    expect(long.err).toMatch(/^cdk8s-graceful-web-service: .*no-such-file\.yaml: no such file or directory/);
    const short = await run(['node', '/usr/local/bin/gws', 'check', missing]);
    expect(short.err).toMatch(/^gws: /);
  });
});
