// The npm package holds only what it needs: an allowlist (build-tools/package-files.js), checked
// against what `npm pack` would pack now. The consumer smoke test checks the real tarball with it.
import * as fs from 'fs';
import * as path from 'path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { unexpectedFiles, packList, allowedFor } = require('../build-tools/package-files.js');

const ROOT = path.join(__dirname, '..');

describe('package contents', () => {
  test('npm pack would pack nothing outside the allowlist', () => {
    const files: string[] = packList();
    expect(files).toContain('package.json');
    expect(files).toContain('README.md');
    if (fs.existsSync(path.join(ROOT, 'lib', 'index.js'))) {
      // Compiled: the library, its types, the CLI and the jsii assembly are in.
      expect(files).toEqual(expect.arrayContaining(['lib/index.js', 'lib/index.d.ts', 'lib/cli/gws.js', '.jsii']));
    }
    expect(unexpectedFiles(files, allowedFor(ROOT))).toEqual([]);
  });

  test('the server templates that documented commands use are packed (drain-test --templates-dir prints their folder)', () => {
    const templates = ['apache2.conf.tmpl', 'nginx.conf.tmpl', 'node-close.js.tmpl', 'node-default.js.tmpl', 'python_server.py.tmpl', 'wsgi_app.py.tmpl'];
    expect(fs.readdirSync(path.join(ROOT, 'assets', 'servers')).sort()).toEqual(templates);
    const files: string[] = packList();
    expect(files).toEqual(expect.arrayContaining(templates.map((t) => `assets/servers/${t}`)));
  });

  test('the allowlist refuses test output, sources, scratch files and unbundled modules', () => {
    const allowed = allowedFor(ROOT);
    expect([...allowed.bundled]).toEqual(expect.arrayContaining(['commander', 'js-yaml', 'yaml', 'shell-quote']));
    const stray = [
      '.tmp/readme/snippets.ts',
      'test/readme.test.ts',
      'src/index.ts',
      'lib/index.js.map',
      'lib/.tsbuildinfo',
      'coverage/lcov.info',
      'dist/js/cdk8s-graceful-web-service@0.0.0.tgz',
      'node_modules/cdk8s/package.json',
      'tsconfig.dev.json',
    ];
    const fine = ['package.json', 'README.md', 'LICENSE', '.jsii', 'lib/index.js', 'lib/cli/gws.d.ts', 'assets/servers/nginx.conf.tmpl', 'node_modules/commander/index.js'];
    expect(unexpectedFiles([...fine, ...stray], allowed)).toEqual(stray);
  });
});
