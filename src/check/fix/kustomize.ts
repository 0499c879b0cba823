/**
 * `check --fix --fix-format kustomize`: the fixes as strategic-merge patches, one per object that
 * changes, with a kustomization.yaml over the input and a Helm post-renderer script. For input that
 * is generated (Helm, Kustomize, cdk8s) and must not be edited in place.
 */
import { stringify } from 'yaml';
import { KubeObject, loadManifests, ManifestInput } from '../../manifests/topology';

/** One file to write into the output directory. */
export interface OutputFile {
  readonly name: string;
  readonly text: string;
  /** Whether to make it executable (the post-renderer). */
  readonly executable?: boolean;
}

/** Lists merged by name in built-in kinds (a strategic-merge patch names the element it changes). */
const MERGED_BY_NAME = new Set(['containers', 'initContainers', 'ephemeralContainers', 'volumes', 'env']);

function isMapping(value: unknown): value is KubeObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What turns `a` into `b` as a strategic-merge patch (`null` removes a field), or undefined when equal. */
export function strategicMergeDiff(a: unknown, b: unknown, key = ''): unknown {
  if (isMapping(a) && isMapping(b)) {
    const out: KubeObject = {};
    for (const [k, v] of Object.entries(b)) {
      const d = k in a ? strategicMergeDiff(a[k], v, k) : v;
      if (d !== undefined) out[k] = d;
    }
    for (const k of Object.keys(a)) if (!(k in b)) out[k] = null;
    return Object.keys(out).length > 0 ? out : undefined;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (JSON.stringify(a) === JSON.stringify(b)) return undefined;
    const named = (list: unknown[]) => list.every((e) => isMapping(e) && typeof e.name === 'string');
    if (MERGED_BY_NAME.has(key) && named(a) && named(b) && a.length === b.length) {
      const changed = b.map((e: KubeObject, i) => {
        const d = strategicMergeDiff(a[i], e, '');
        return d === undefined ? undefined : { name: e.name, ...(d as KubeObject) };
      }).filter((e) => e !== undefined);
      if (b.every((e: KubeObject, i) => e.name === (a[i] as KubeObject).name)) return changed;
    }
    return b;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? undefined : b;
}

function fileName(object: KubeObject, used: Set<string>): string {
  const parts = [object.kind, object.metadata?.namespace, object.metadata?.name].filter((p) => typeof p === 'string' && p !== '');
  const stem = parts.join('-').toLowerCase().replace(/[^a-z0-9.-]+/g, '-');
  let name = `${stem}.yaml`;
  for (let n = 2; used.has(name); n++) name = `${stem}-${n}.yaml`;
  used.add(name);
  return name;
}

/** The rendered input, the kustomization that patches it, and the post-renderer for Helm. */
export const RENDERED = 'rendered.yaml';

const POST_RENDERER = `#!/bin/sh
# Helm post-renderer: reads the rendered chart on stdin, writes it patched to stdout.
# Written by cdk8s-graceful-web-service check --fix --fix-format kustomize.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
cat > "$dir/${RENDERED}"
exec kubectl kustomize "$dir"
`;

/** The output files for the fixed inputs (`before` and `after` list the same objects in the same order). */
export function kustomizeOutput(before: readonly ManifestInput[], after: readonly ManifestInput[]): OutputFile[] {
  const original = loadManifests(before);
  const key = (o: KubeObject) => `${o.apiVersion}\u0000${o.kind}\u0000${o.metadata?.namespace ?? ''}\u0000${o.metadata?.name}`;
  const fixedByKey = new Map(loadManifests(after).map((o) => [key(o.object), o.object]));
  const used = new Set<string>();
  const patches: OutputFile[] = [];
  const added: OutputFile[] = [];
  const originalKeys = new Set(original.map((o) => key(o.object)));
  for (const [k, object] of fixedByKey) {
    if (!originalKeys.has(k)) added.push({ name: fileName(object, used), text: `# Added by check --fix\n${stringify(object, { lineWidth: 0 })}` });
  }
  original.forEach((o) => {
    const fixed = fixedByKey.get(key(o.object));
    if (fixed === undefined) return;
    const diff = strategicMergeDiff(o.object, fixed);
    if (diff === undefined) return;
    const meta: KubeObject = { name: o.object.metadata?.name };
    if (typeof o.object.metadata?.namespace === 'string') meta.namespace = o.object.metadata.namespace;
    const { metadata, ...rest } = diff as KubeObject;
    const patch = { apiVersion: o.object.apiVersion, kind: o.object.kind, metadata: { ...meta, ...(metadata ?? {}) }, ...rest };
    patches.push({ name: fileName(o.object, used), text: `# ${o.source.file}:${o.source.line}\n${stringify(patch, { lineWidth: 0 })}` });
  });
  const rendered = before.map((input) => input.text.replace(/\s*$/, '\n')).join('---\n');
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [RENDERED, ...added.map((a) => a.name)],
    patches: patches.map((p) => ({ path: p.name })),
  };
  return [
    ...patches,
    ...added,
    { name: 'kustomization.yaml', text: `# Generated by cdk8s-graceful-web-service check --fix --fix-format kustomize.\n${stringify(kustomization)}` },
    { name: RENDERED, text: rendered },
    { name: 'post-renderer.sh', text: POST_RENDERER, executable: true },
  ];
}
