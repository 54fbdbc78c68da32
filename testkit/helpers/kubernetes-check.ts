/**
 * Checks for rendered Kubernetes objects, without a cluster:
 *   - schema: kubernetes-models' validators (the OpenAPI schemas of the API server), which accept
 *     unknown fields;
 *   - strict: every object is type-checked as an object literal against the same models'
 *     TypeScript interfaces, whose excess-property check rejects any field Kubernetes does not know,
 *     at any depth (a typo like `terminationGracePeriodSecond` passes the schema, not this).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** apiVersion/kind → [model class, module for its type, interface name]. */
const models: Record<string, [new (data: never) => { validate(): void }, string, string]> = {
  'v1/Service': [Service as never, 'kubernetes-models/v1', 'IService'],
  'apps/v1/Deployment': [Deployment as never, 'kubernetes-models/apps/v1', 'IDeployment'],
  'policy/v1/PodDisruptionBudget': [PodDisruptionBudget as never, 'kubernetes-models/policy/v1', 'IPodDisruptionBudget'],
  'autoscaling/v2/HorizontalPodAutoscaler': [HorizontalPodAutoscaler as never, 'kubernetes-models/autoscaling/v2', 'IHorizontalPodAutoscaler'],
  'monitoring.coreos.com/v1/ServiceMonitor': [
    ServiceMonitor as never,
    '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
    'IServiceMonitor',
  ],
};

const keyOf = (o: KubeObject) => `${o.apiVersion}/${o.kind}`;

/** Schema errors per object ("Kind/name: message"); unknown kinds are errors too. */
export function schemaErrors(objects: readonly KubeObject[]): string[] {
  const errors: string[] = [];
  for (const object of objects) {
    const model = models[keyOf(object)];
    if (!model) {
      errors.push(`${keyOf(object)}: no schema known for this kind`);
      continue;
    }
    try {
      new model[0](object as never).validate();
    } catch (error) {
      errors.push(`${object.kind}/${object.metadata.name}: ${(error as Error).message}`);
    }
  }
  return errors;
}

/** Unknown or mistyped fields, found by the TypeScript compiler (one message per problem). */
export function strictFieldErrors(objects: readonly KubeObject[]): string[] {
  const dir = join(repoRoot, 'node_modules', '.cache', 'kubernetes-check');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'objects.ts');
  const used = [...new Set(objects.map(keyOf))].filter((key) => models[key]);
  const imports = used.map((key) => `import type { ${models[key]![2]} } from '${models[key]![1]}';`);
  const consts = objects
    .filter((o) => models[keyOf(o)])
    .map((o, i) => `// ${o.kind}/${o.metadata.name}\nexport const object${i}: ${models[keyOf(o)]![2]} = ${JSON.stringify(o, null, 2)};`);
  writeFileSync(file, [...imports, ...consts].join('\n'));
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    types: [],
  });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
    return `objects.ts:${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}
