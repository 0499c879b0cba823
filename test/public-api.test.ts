// The package root exports the public API only; internal helpers stay in their modules.
import * as fs from 'fs';
import * as path from 'path';
import * as api from '../src';

describe('the package root', () => {
  test('exports the public classes and enums, and nothing that is not a class or an enum', () => {
    expect(Object.keys(api)).toEqual(expect.arrayContaining([
      'AlibabaAlb', 'GracefulWebService', 'LoadBalancer', 'PreStopAction', 'ShutdownBudget', 'TencentClb', 'TencentIngressClassMode',
    ]));
    for (const [name, value] of Object.entries(api)) {
      const isClass = typeof value === 'function' && /^class\b/.test(Function.prototype.toString.call(value));
      const isEnum = typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string');
      expect({ name, publicKind: isClass || isEnum }).toEqual({ name, publicKind: true });
    }
  });

  test('internal helpers are not among them', () => {
    for (const internal of ['addNativePreStopSleep', 'execPreStopLifecycle', 'resolveHealthCheck', 'secondsToHealthy', 'deriveShutdownBudget']) {
      expect(api).not.toHaveProperty(internal);
    }
  });

  test('the CLI bin is our package name, with gws only as an alias of the same file', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
    expect(pkg.bin).toEqual({ 'cdk8s-graceful-web-service': 'lib/cli/gws.js', 'gws': 'lib/cli/gws.js' });
    expect(pkg.name).toBe('cdk8s-graceful-web-service');
    expect(pkg.engines).toEqual({ node: '>=20' });
  });
});
