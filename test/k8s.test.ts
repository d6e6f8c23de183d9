/**
 * deploy/k8s is checked without a cluster: `kubectl kustomize` renders it, and tools/k8s-validate decodes every
 * object strictly into the Kubernetes API's own Go types and checks what a reviewer would (bounded, non-root,
 * read-only, probed containers; no Secret values; autoscalers at 2 to 10 replicas on 70 % CPU).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { environmentVariables } from '../lib/config';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  env?: EnvVar[];
  envFrom?: { secretRef?: { name: string }; configMapRef?: { name: string } }[];
  [field: string]: unknown;
}
interface KubeObject {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: { maxReplicas?: number; template?: { spec: { containers: Container[] } } };
}

const root = fileURLToPath(new URL('..', import.meta.url));
/** Outside the clone, beside the binaries scripts/provision.ts caches, so a fresh CI clone reuses it. */
const validator = join(homedir(), '.cache', 'ai-assistant-core', 'bin', 'k8s-validate');
const secretName = 'ai-assistant-secrets';
/** Read by the processes but not through lib/config.ts: Node's home, pointed at a writable directory. */
const processVariables = ['HOME'];
/** Variables config/model.yaml interpolates (`${OPENAI_API_KEY}`): the model providers' keys. */
const modelVariables = [...readFileSync(join(root, 'config', 'model.yaml'), 'utf8').matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!);

let rendered: string;
let objects: KubeObject[];

function validate(manifests: string): { status: number | null; output: string } {
  const run = spawnSync(validator, { input: manifests, encoding: 'utf8' });
  return { status: run.status, output: run.stdout + run.stderr };
}

/** The rendered objects with one changed, as multi-document YAML. */
function renderedWith(kind: string, name: string, change: (object: KubeObject) => void): string {
  const changed = structuredClone(objects);
  const target = changed.find((o) => o.kind === kind && o.metadata.name === name);
  expect(target, `${kind}/${name}`).toBeDefined();
  change(target!);
  return changed.map((o) => stringify(o)).join('---\n');
}

function containersOf(name: string): Container[] {
  const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name);
  return deployment?.spec?.template?.spec.containers ?? [];
}

beforeAll(() => {
  // On every run: once Go's build cache is warm (the first build takes minutes) this is under a second, and a
  // validator built from older sources never passes judgement on newer manifests.
  execFileSync('go', ['build', '-o', validator, '.'], { cwd: join(root, 'tools', 'k8s-validate'), encoding: 'utf8' });
  rendered = execFileSync('kubectl', ['kustomize', join(root, 'deploy', 'k8s')], { encoding: 'utf8' });
  objects = parseAllDocuments(rendered).map((doc) => doc.toJS() as KubeObject);
}, 900_000);

describe('deploy/k8s', () => {
  it('when the base is rendered then every object decodes strictly and the validator finds no problem', () => {
    const { status, output } = validate(rendered);
    expect(output).toMatch(/no problems/);
    expect(status).toBe(0);
    expect(objects.map((o) => o.kind)).toEqual(
      expect.arrayContaining(['ConfigMap', 'Service', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'NetworkPolicy']),
    );
  });

  it('when a container carries a misspelt field then the validator rejects the manifest, naming the field', () => {
    const manifests = renderedWith('Deployment', 'ai-assistant-api', (deployment) => {
      const container = deployment.spec!.template!.spec.containers[0]!;
      container.resourcez = container.resources;
      delete container.resources;
    });
    const { status, output } = validate(manifests);
    expect(status).toBe(1);
    expect(output).toMatch(/Deployment\/ai-assistant-api: .*unknown field "[\w.[\]]*resourcez"/);
  });

  it('when an autoscaler stops at 3 replicas then the validator rejects it, naming maxReplicas', () => {
    const manifests = renderedWith('HorizontalPodAutoscaler', 'ai-assistant-worker', (autoscaler) => {
      autoscaler.spec!.maxReplicas = 3;
    });
    const { status, output } = validate(manifests);
    expect(status).toBe(1);
    expect(output).toMatch(/HorizontalPodAutoscaler\/ai-assistant-worker: maxReplicas is 3, want 10/);
  });

  it('when the base is rendered then no Secret ships and the API takes its secrets by reference', () => {
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    const [api] = containersOf('ai-assistant-api');
    const referenced = [
      ...(api?.env ?? []).map((v) => v.valueFrom?.secretKeyRef?.name),
      ...(api?.envFrom ?? []).map((source) => source.secretRef?.name),
    ];
    expect(referenced).toContain(secretName);
    const fromSecret = (api?.env ?? []).filter((v) => v.valueFrom?.secretKeyRef?.name === secretName).map((v) => v.name);
    expect(fromSecret).toEqual(expect.arrayContaining(['ENCRYPTION_KEYS', 'AUTH_JWT_SECRET', 'REDIS_URL', 'S3_SECRET_ACCESS_KEY']));
  });

  it('when the deployments are configured then they use only variables the processes read', () => {
    const configMap = objects.find((o) => o.kind === 'ConfigMap');
    const containers = [...containersOf('ai-assistant-api'), ...containersOf('ai-assistant-worker')];
    expect(containers).toHaveLength(2);
    const names = [...Object.keys(configMap?.data ?? {}), ...containers.flatMap((c) => (c.env ?? []).map((v) => v.name))];
    expect(names).toContain('TEMPORAL_ADDRESS');
    const unknown = names.filter((n) => !(n in environmentVariables) && !modelVariables.includes(n) && !processVariables.includes(n));
    expect(unknown).toEqual([]);
  });
});
