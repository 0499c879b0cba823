// The same kind, namespace and name twice in one app, across charts, fails at synth and names both
// construct paths; within one chart the construct already refuses a name twice as it is built.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject, App, Chart } from 'cdk8s';
import { GracefulWebService } from '../src';
import { baseProps } from './util';

let outdir: string;
beforeEach(() => { outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-app-names-')); });
afterEach(() => fs.rmSync(outdir, { recursive: true, force: true }));

function twoCharts(shopNamespace?: string, adminNamespace?: string): App {
  const app = new App({ outdir });
  new GracefulWebService(new Chart(app, 'shop', { namespace: shopNamespace }), 'api', baseProps({ name: 'api' }));
  new GracefulWebService(new Chart(app, 'admin', { namespace: adminNamespace }), 'api', baseProps({ name: 'api' }));
  return app;
}

describe('app-wide names', () => {
  test('two charts, both in namespace prod, each with a service named api: synth fails naming both paths', () => {
    const app = twoCharts('prod', 'prod');
    let message = '';
    try {
      app.synth();
    } catch (e) {
      message = (e as Error).message;
    }
    for (const kind of ['Deployment', 'Service', 'Ingress', 'PodDisruptionBudget']) {
      expect(message).toContain(
        `${kind} "api" in namespace "prod" is emitted twice in one app: by shop/api/${kind} (chart shop) and by admin/api/${kind} (chart admin)`);
    }
    expect(message.match(/emitted twice/g)).toHaveLength(4);
    expect(fs.readdirSync(outdir)).toEqual([]);
  });

  test('charts without a namespace clash too: both land in the namespace kubectl applies to', () => {
    expect(() => twoCharts().synthYaml()).toThrow('Service "api" with no namespace (both land in the namespace kubectl applies to) is emitted twice in one app');
  });

  test('different namespaces are fine, and the manifests are written', () => {
    const app = twoCharts('prod', 'staging');
    app.synth();
    expect(fs.readdirSync(outdir).sort()).toEqual(['admin.k8s.yaml', 'shop.k8s.yaml']);
  });

  test('a clash with a plain object of another chart is caught; two plain objects are not this library\'s business', () => {
    const app = new App({ outdir });
    new GracefulWebService(new Chart(app, 'shop', { namespace: 'prod' }), 'api', baseProps({ name: 'api' }));
    const other = new Chart(app, 'legacy', { namespace: 'prod' });
    new ApiObject(other, 'svc', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api' } });
    new ApiObject(other, 'a', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'same' } });
    new ApiObject(new Chart(app, 'third', { namespace: 'prod' }), 'b', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'same' } });
    expect(() => app.synthYaml()).toThrow(/Service "api" in namespace "prod" is emitted twice in one app: by shop\/api\/Service \(chart shop\) and by legacy\/svc \(chart legacy\)/);
    expect(() => app.synthYaml()).not.toThrow(/ConfigMap/);
  });

  test('within one chart the construct refuses the name at once', () => {
    const chart = new Chart(new App({ outdir }), 'shop');
    new GracefulWebService(chart, 'api', baseProps({ name: 'api' }));
    expect(() => new GracefulWebService(chart, 'api2', baseProps({ name: 'api' }))).toThrow('name "api" is already used by shop/api in chart shop');
  });
});
