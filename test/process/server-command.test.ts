import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseCommandLine, parseSignal, renderServerCommand, serverCommandSpec, mentionsAddress } from '../../src/process/server-command';

describe('parseCommandLine', () => {
  test('splits words like a shell, keeping quotes together and $VARS literal', () => {
    expect(parseCommandLine('python3 -m http.server --bind {host} {port}')).toEqual(['python3', '-m', 'http.server', '--bind', '{host}', '{port}']);
    expect(parseCommandLine('sh -c \'exec nginx -g "daemon off;"\' x')).toEqual(['sh', '-c', 'exec nginx -g "daemon off;"', 'x']);
    expect(parseCommandLine('node server.js $PORT')).toEqual(['node', 'server.js', '$PORT']);
  });

  test('refuses shell operators and empty lines, saying how to wrap them', () => {
    expect(() => parseCommandLine('nginx; rm -rf /tmp/x')).toThrow(/shell operator ;.*sh -c/);
    expect(() => parseCommandLine('a | b')).toThrow(/shell operator \|/);
    expect(() => parseCommandLine('   ')).toThrow(/empty/);
  });
});

describe('renderServerCommand', () => {
  test('fills placeholders in argv and templates and exports HOST/PORT', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-sc-'));
    const template = path.join(dir, 'nginx.conf.tmpl');
    fs.writeFileSync(template, 'listen {host}:{port}; pid {dir}/nginx.pid;');
    const podDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-pod-'));
    const spec = serverCommandSpec('nginx -c {dir}/nginx.conf', [template]);
    expect(mentionsAddress(spec)).toBe(true);
    const rendered = renderServerCommand(spec, { host: '127.0.0.9', port: 8081, dir: podDir });
    expect(rendered.argv).toEqual(['nginx', '-c', `${podDir}/nginx.conf`]);
    expect(rendered.env).toMatchObject({ HOST: '127.0.0.9', PORT: '8081', GWS_DIR: podDir });
    expect(fs.readFileSync(path.join(podDir, 'nginx.conf'), 'utf8')).toBe(`listen 127.0.0.9:8081; pid ${podDir}/nginx.pid;`);
    expect(mentionsAddress(serverCommandSpec(['node', 'app.js']))).toBe(false);
  });

  test('a missing template is an error naming it', () => {
    expect(() => serverCommandSpec('nginx', ['/nonexistent/x.tmpl'])).toThrow('/nonexistent/x.tmpl');
  });
});

describe('parseSignal', () => {
  test('accepts names with or without SIG, any case, and numbers', () => {
    expect(parseSignal('TERM')).toBe('SIGTERM');
    expect(parseSignal('sigquit')).toBe('SIGQUIT');
    expect(parseSignal('SIGWINCH')).toBe('SIGWINCH');
    expect(parseSignal(String(os.constants.signals.SIGINT))).toBe('SIGINT');
  });
  test('refuses unknown and uncatchable signals', () => {
    expect(() => parseSignal('SIGFOO')).toThrow(/unknown signal/);
    expect(() => parseSignal('KILL')).toThrow(/cannot be caught/);
  });
});
