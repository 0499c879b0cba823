import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Testing } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { container, KubeObject, only, validateObjects } from './util';
import { AlibabaAlbTeaChart } from '../examples/alibaba-alb-tea';
import { TencentClbMeetingChart } from '../examples/tencent-clb-meeting';

describe('examples', () => {
  test('alibaba-alb-tea: the vendor\'s tea service with the documented 10 / 45', () => {
    const chart = new AlibabaAlbTeaChart(Testing.app(), 'alibaba-alb-tea');
    const objects = Testing.synth(chart) as KubeObject[];
    validateObjects(objects);
    const deployment = only(objects, 'Deployment');
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBe(45);
    expect(container(objects).lifecycle.preStop.exec.command).toEqual(['/bin/sh', '-c', 'sleep 10']);
    expect(only(objects, 'Ingress').spec.rules[0].host).toBe('demo.ingress.top');
    expect(objects).toMatchSnapshot();
  });

  test('tencent-clb-meeting: a 50 s drain gives Tencent\'s 5 / 60', () => {
    const chart = new TencentClbMeetingChart(Testing.app(), 'tencent-clb-meeting');
    const objects = Testing.synth(chart) as KubeObject[];
    validateObjects(objects);
    expect(only(objects, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(60);
    expect(container(objects).lifecycle.preStop.exec.command).toEqual(['/bin/sh', '-c', 'sleep 5']);
    expect(objects).toMatchSnapshot();
  });

  // The images must start under the security context the manifests give them.
  test('the root nginx image is allowed to run as root, with a read-only root filesystem and writable nginx dirs', () => {
    const objects = Testing.synth(new AlibabaAlbTeaChart(Testing.app(), 'tea')) as KubeObject[];
    const pod = only(objects, 'Deployment').spec.template.spec;
    expect(pod.securityContext.runAsNonRoot).toBe(false);
    expect(container(objects).securityContext).toMatchObject({ runAsNonRoot: false, readOnlyRootFilesystem: true });
    expect(container(objects).volumeMounts.map((m: any) => m.mountPath).sort()).toEqual(['/var/cache/nginx', '/var/run']);
  });

  test('the unprivileged nginx image keeps the non-root defaults and gets a writable /tmp', () => {
    const objects = Testing.synth(new TencentClbMeetingChart(Testing.app(), 'meeting')) as KubeObject[];
    expect(container(objects).image).toBe('nginxinc/nginx-unprivileged:1.27-alpine');
    expect(container(objects).ports).toEqual([{ containerPort: 8080 }]);
    expect(container(objects).securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true });
    expect(container(objects).volumeMounts.map((m: any) => m.mountPath)).toEqual(['/tmp']);
  });

  test('the final YAML files parse back to the same valid objects', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-examples-'));
    try {
      const app = new App({ outdir });
      new AlibabaAlbTeaChart(app, 'alibaba-alb-tea');
      new TencentClbMeetingChart(app, 'tencent-clb-meeting');
      app.synth();
      for (const name of ['alibaba-alb-tea', 'tencent-clb-meeting']) {
        const text = fs.readFileSync(path.join(outdir, `${name}.k8s.yaml`), 'utf8');
        const docs = parseAllDocuments(text).map((d) => d.toJS() as KubeObject);
        expect(docs.map((d) => d.kind)).toEqual(['Deployment', 'Service', 'Ingress', 'PodDisruptionBudget']);
        validateObjects(docs);
      }
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
