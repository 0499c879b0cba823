// probe over HTTPS, against a local TLS server whose certificate a throwaway CA signed (made with
// openssl here): trusted with --cacert, refused without it (with a one-line reason), and accepted
// unverified with --insecure; with -H the TLS server name is that host, as for an LB address.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { TLSSocket } from 'node:tls';
import { main } from '../../src/cli/gws';
import { runProbe } from '../../src/probe/probe';

const OPENSSL = '/usr/bin/openssl';
let dir: string;
let server: https.Server;
let url: string;
const servernames: string[] = [];
const hosts: string[] = [];
let connections = 0;

function openssl(...args: string[]): void {
  execFileSync(OPENSSL, args, { cwd: dir, stdio: 'ignore' });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-probe-tls-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=gws probe test CA');
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=demo.test');
  fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=DNS:demo.test,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');
  server = https.createServer({ key: fs.readFileSync(path.join(dir, 'server.key')), cert: fs.readFileSync(path.join(dir, 'server.pem')) }, (req, res) => {
    servernames.push(String((req.socket as TLSSocket).servername));
    hosts.push(req.headers.host ?? '');
    res.end('ok');
  });
  server.on('secureConnection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  servernames.length = 0;
  hosts.length = 0;
  connections = 0;
});

async function cli(...args: string[]): Promise<{ code: number | undefined; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = process.exitCode;
  try {
    process.exitCode = undefined;
    await main(['node', 'cdk8s-graceful-web-service', 'probe', ...args, '--quiet'], { out: (t) => void out.push(t), err: (t) => void err.push(t) });
    return { code: process.exitCode as number | undefined, out: out.join(''), err: err.join('') };
  } finally {
    process.exitCode = saved;
  }
}

describe('probe over HTTPS', () => {
  test('--cacert trusts the CA: every request succeeds over reused TLS connections', async () => {
    const run = await cli(url, '--cacert', path.join(dir, 'ca.pem'), '--rate', '20', '--duration', '0.5');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/requests: +10 in/);
    expect(run.out).toMatch(/failed: +0\n/);
    expect(hosts).toHaveLength(10);
    expect(connections).toBeLessThan(5); // keep-alive
  });

  test('without --cacert the certificate is refused: exit 1, every request an error, and the reason in one line', async () => {
    const run = await cli(url, '--rate', '20', '--duration', '0.3');
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/failed: +6\n/);
    expect(run.out).toContain('by error:     other=6');
    expect(run.err).toMatch(/^TLS failed \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN): .+\): trust the server's CA with --cacert <file>, or skip verification with --insecure\n$/);
    expect(hosts).toEqual([]); // no request reached the server
  });

  test('--insecure skips verification', async () => {
    const run = await cli(url, '--insecure', '--rate', '20', '--duration', '0.3');
    expect(run.code).toBe(0);
    expect(hosts).toHaveLength(6);
  });

  test('-H sets the Host header and the TLS server name the certificate must match', async () => {
    const { summary } = await runProbe({ url, rate: 20, durationMs: 300, host: 'demo.test', ca: fs.readFileSync(path.join(dir, 'ca.pem')) });
    expect(summary.failed).toBe(0);
    expect(new Set(servernames)).toEqual(new Set(['demo.test']));
    expect(new Set(hosts)).toEqual(new Set(['demo.test']));
    const other = await runProbe({ url, rate: 20, durationMs: 100, host: 'other.test', ca: fs.readFileSync(path.join(dir, 'ca.pem')) });
    expect(other.summary.failed).toBe(other.summary.total);
    expect(other.tlsError).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  test('TLS flags on an http:// URL, and an unreadable --cacert, are usage errors', async () => {
    const http = await cli(url.replace('https:', 'http:'), '--insecure', '--duration', '0.1');
    expect(http.code).toBe(2);
    expect(http.err).toContain('ca and insecure apply to https:// URLs only');
    const missing = await cli(url, '--cacert', path.join(dir, 'nope.pem'), '--duration', '0.1');
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/--cacert .*nope\.pem: ENOENT/);
    const ftp = await cli('ftp://127.0.0.1/', '--duration', '0.1');
    expect(ftp.err).toContain('only http:// and https:// URLs are supported, got ftp://127.0.0.1/');
  });
});
