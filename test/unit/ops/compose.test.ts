/**
 * Docker cannot run in CI, so the compose stack is checked statically: the services, mounts and
 * ports agree with each other and with the files in ops/, Prometheus scrapes the agent where it
 * listens, Grafana's provisioning points at that Prometheus and loads the dashboard, and every
 * metric the dashboard queries is one the server really exports.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/observability/metrics.js';

/**
 * Metrics the dashboard may query before the server exports them, in one place. Empty: everything
 * the dashboard shows is exported. Add an entry only together with the code that will export it.
 */
const DECLARED_UPCOMING_METRICS: readonly string[] = [];

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const readRepoFile = (path: string) => readFileSync(join(repoRoot, path), 'utf8');
const readYaml = <T extends z.ZodType>(path: string, schema: T): z.infer<T> => schema.parse(parse(readRepoFile(path)));

const serviceSchema = z.object({
  image: z.string().optional(),
  build: z.unknown().optional(),
  ports: z.array(z.string()).default([]),
  volumes: z.array(z.string()).default([]),
  depends_on: z.union([z.array(z.string()), z.record(z.string(), z.unknown())]).optional(),
  environment: z.record(z.string(), z.string()).default({}),
});
const composeSchema = z.object({
  services: z.record(z.string(), serviceSchema),
  volumes: z.record(z.string(), z.unknown().nullable()).default({}),
});
const prometheusSchema = z.object({
  global: z.object({ scrape_interval: z.string() }),
  scrape_configs: z.array(
    z.object({
      job_name: z.string(),
      metrics_path: z.string().default('/metrics'),
      static_configs: z.array(z.object({ targets: z.array(z.string()) })),
    }),
  ),
});
const datasourcesSchema = z.object({
  apiVersion: z.literal(1),
  datasources: z.array(z.object({ name: z.string(), uid: z.string(), type: z.string(), url: z.string(), jsonData: z.object({ timeInterval: z.string() }) })),
});
const dashboardProvidersSchema = z.object({
  apiVersion: z.literal(1),
  providers: z.array(z.object({ name: z.string(), type: z.literal('file'), options: z.object({ path: z.string() }) })),
});
const datasourceRef = z.object({ type: z.literal('prometheus'), uid: z.string() });
const dashboardSchema = z.object({
  uid: z.string(),
  title: z.string(),
  panels: z.array(
    z.object({
      id: z.number().int(),
      type: z.string(),
      title: z.string(),
      datasource: datasourceRef,
      gridPos: z.object({ x: z.number(), y: z.number(), w: z.number(), h: z.number() }),
      targets: z.array(z.object({ refId: z.string(), expr: z.string().min(1), datasource: datasourceRef })).min(1),
    }),
  ),
});

/** A parsed "host:container[:mode]" volume entry; `source` is a named volume or a ./path. */
interface Mount {
  source: string;
  target: string;
  bind: boolean;
}
const parseMount = (entry: string): Mount => {
  const [source = '', target = ''] = entry.split(':');
  return { source, target, bind: source.startsWith('./') || source.startsWith('/') };
};
/** "127.0.0.1:9090:9090" or "8080:8080" → its host binding, host port and container port. */
const parsePort = (entry: string) => {
  const parts = entry.split(':');
  const container = Number(parts.at(-1));
  const host = Number(parts.at(-2));
  return { address: parts.length === 3 ? parts[0] : '0.0.0.0', host, container };
};

/**
 * Metric names in a PromQL expression: identifiers that are not functions or aggregations (those
 * are followed by "("), not label names (inside {…}, by/without/on/ignoring/group_x (…)), not
 * range durations or Grafana variables. Histogram series suffixes map to the family name.
 */
function metricNamesInPromql(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const keywords = new Set(['bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan', 'Inf', 'NaN']);
  const names = [...stripped.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()/g)]
    .map((match) => match[1] ?? '')
    .filter((name) => !keywords.has(name))
    .map((name) => name.replace(/_(?:bucket|sum|count)$/, ''));
  return [...new Set(names)];
}

const compose = readYaml('docker-compose.yml', composeSchema);
const service = (name: string) => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no "${name}" service`);
  return found;
};
const dependsOn = (name: string) => {
  const value = service(name).depends_on ?? [];
  return Array.isArray(value) ? value : Object.keys(value);
};
/** The host path (relative to the repo) mounted at `target` in `serviceName`. */
const bindSourceFor = (serviceName: string, target: string): string => {
  const mount = service(serviceName).volumes.map(parseMount).find((m) => m.target === target);
  if (!mount?.bind) throw new Error(`${serviceName} has no bind mount at ${target}`);
  return mount.source;
};
/** Maps a path inside the container back to the repo through the service's bind mounts. */
const hostPathFor = (serviceName: string, containerPath: string): string | undefined => {
  for (const mount of service(serviceName).volumes.map(parseMount)) {
    if (!mount.bind) continue;
    if (containerPath === mount.target) return mount.source;
    if (containerPath.startsWith(`${mount.target}/`)) return posix.join(mount.source, containerPath.slice(mount.target.length + 1));
  }
  return undefined;
};

describe('docker-compose.yml', () => {
  it('runs the agent next to Prometheus and Grafana from their official, pinned images', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['agent', 'grafana', 'prometheus']);
    expect(service('agent').build).toBe('.');
    expect(service('prometheus').image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    expect(service('grafana').image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
  });

  it('starts each service after what it reads from, and depends only on declared services', () => {
    expect(dependsOn('prometheus')).toContain('agent');
    expect(dependsOn('grafana')).toContain('prometheus');
    for (const name of Object.keys(compose.services)) {
      for (const dependency of dependsOn(name)) expect(Object.keys(compose.services), `${name} → ${dependency}`).toContain(dependency);
    }
  });

  it('mounts only files that exist and volumes that are declared', () => {
    for (const [name, definition] of Object.entries(compose.services)) {
      for (const mount of definition.volumes.map(parseMount)) {
        if (mount.bind) expect(existsSync(join(repoRoot, mount.source)), `${name}: ${mount.source}`).toBe(true);
        else expect(Object.keys(compose.volumes), `${name}: volume ${mount.source}`).toContain(mount.source);
      }
    }
  });

  it('publishes distinct host ports, and keeps Prometheus and Grafana on loopback', () => {
    const published = Object.values(compose.services).flatMap((s) => s.ports.map(parsePort));
    expect(new Set(published.map((p) => p.host)).size).toBe(published.length);
    expect(service('prometheus').ports.map(parsePort)).toEqual([{ address: '127.0.0.1', host: 9090, container: 9090 }]);
    expect(service('grafana').ports.map(parsePort)).toEqual([{ address: '127.0.0.1', host: 3000, container: 3000 }]);
  });
});

describe('Prometheus', () => {
  // The official image reads this path unless its command is overridden (it is not).
  const configPath = bindSourceFor('prometheus', '/etc/prometheus/prometheus.yml');
  const config = readYaml(configPath, prometheusSchema);

  it('scrapes /metrics on the agent service at the port the agent listens on', () => {
    const targets = config.scrape_configs.flatMap((job) => job.static_configs.flatMap((c) => c.targets));
    expect(targets).toEqual(['agent:8080']);
    expect(config.scrape_configs[0]?.metrics_path).toBe('/metrics');
    const agentContainerPorts = service('agent').ports.map((p) => parsePort(p).container);
    expect(agentContainerPorts).toContain(8080);
    // The image's own PORT and EXPOSE agree with the port scraped.
    expect(readRepoFile('Dockerfile')).toMatch(/^ENV .*\bPORT=8080\b/m);
    expect(readRepoFile('Dockerfile')).toMatch(/^EXPOSE 8080$/m);
  });
});

describe('Grafana provisioning and the dashboard', () => {
  const provisioningDir = bindSourceFor('grafana', '/etc/grafana/provisioning');
  const yamlFilesIn = (dir: string) =>
    readdirSync(join(repoRoot, dir))
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => posix.join(dir, f));
  const datasources = yamlFilesIn(posix.join(provisioningDir, 'datasources')).flatMap((f) => readYaml(f, datasourcesSchema).datasources);
  const providers = yamlFilesIn(posix.join(provisioningDir, 'dashboards')).flatMap((f) => readYaml(f, dashboardProvidersSchema).providers);
  const dashboardFiles = providers.flatMap((provider) => {
    const hostDir = hostPathFor('grafana', provider.options.path);
    if (!hostDir) throw new Error(`provider ${provider.name} reads ${provider.options.path}, which grafana does not mount`);
    return readdirSync(join(repoRoot, hostDir))
      .filter((f) => f.endsWith('.json'))
      .map((f) => posix.join(hostDir, f));
  });
  const dashboard = dashboardSchema.parse(JSON.parse(readRepoFile('ops/grafana/dashboards/voice-agent.json')));
  const expressions = dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ panel: panel.title, expr: target.expr })));

  it('points the datasource at the compose Prometheus, with its scrape interval', () => {
    expect(datasources).toHaveLength(1);
    const [datasource] = datasources;
    expect(datasource?.type).toBe('prometheus');
    const url = new URL(datasource?.url ?? '');
    expect(url.hostname).toBe('prometheus');
    expect(service('prometheus').ports.map((p) => parsePort(p).container)).toContain(Number(url.port));
    const scrapeInterval = readYaml(bindSourceFor('prometheus', '/etc/prometheus/prometheus.yml'), prometheusSchema).global.scrape_interval;
    expect(datasource?.jsonData.timeInterval).toBe(scrapeInterval);
  });

  it('loads ops/grafana/dashboards/voice-agent.json through a mounted provider path, and makes it the home dashboard', () => {
    expect(dashboardFiles).toContain('ops/grafana/dashboards/voice-agent.json');
    const home = service('grafana').environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
    const homeOnHost = hostPathFor('grafana', home);
    expect(homeOnHost && statSync(join(repoRoot, homeOnHost)).isFile()).toBe(true);
  });

  it('has unique panel ids on the 24-column grid, all on the provisioned datasource', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const uids = new Set(dashboard.panels.flatMap((p) => [p.datasource.uid, ...p.targets.map((t) => t.datasource.uid)]));
    expect([...uids]).toEqual(datasources.map((d) => d.uid));
    for (const { title, gridPos } of dashboard.panels) expect(gridPos.x + gridPos.w, title).toBeLessThanOrEqual(24);
  });

  describe('queried metrics', () => {
    let metrics: Metrics;
    let exported: Set<string>;

    beforeAll(async () => {
      // Built exactly as the server builds it (src/app.ts), default process metrics included.
      metrics = new Metrics({ defaultMetrics: true });
      exported = new Set((await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name));
    });
    afterAll(() => metrics.registry.clear());

    it('extracts metric names from PromQL', () => {
      expect(
        metricNamesInPromql('histogram_quantile(0.95, sum by (le, stage) (rate(voice_stage_latency_seconds_bucket{stage!="stt"}[$__rate_interval])))'),
      ).toEqual(['voice_stage_latency_seconds']);
      expect(metricNamesInPromql('sum(rate(a_total[5m])) / scalar(sum(rate(b_count[1h] offset 1h))) * 60 > bool 1')).toEqual(['a_total', 'b']);
      expect(metricNamesInPromql('sum(x) by (reason) or vector(0)')).toEqual(['x']);
    });

    it('queries only metrics the server exports (or the declared upcoming ones), at least one per query', () => {
      for (const upcoming of DECLARED_UPCOMING_METRICS) expect(exported, `${upcoming} is exported now: drop it from the list`).not.toContain(upcoming);
      const known = new Set<string>([...exported, ...DECLARED_UPCOMING_METRICS]);
      for (const { panel, expr } of expressions) {
        const names = metricNamesInPromql(expr);
        expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
        for (const name of names) expect(known.has(name), `${panel}: unknown metric ${name} in ${expr}`).toBe(true);
      }
    });

    it('shows calls, TTFA and stage-latency quantiles, barge-ins, fallbacks, errors, tool calls and cost per minute', () => {
      const queried = new Set(expressions.flatMap(({ expr }) => metricNamesInPromql(expr)));
      for (const name of [
        'voice_calls_active',
        'voice_calls_total',
        'voice_ttfa_seconds',
        'voice_stage_latency_seconds',
        'voice_barge_ins_total',
        'voice_fallbacks_total',
        'voice_stage_errors_total',
        'voice_protocol_errors_total',
        'voice_tool_calls_total',
        'voice_call_cost_usd_total',
        'voice_call_minutes_total',
      ]) {
        expect(queried, name).toContain(name);
      }
      const all = expressions.map((e) => e.expr).join('\n');
      for (const [phi, histogram, by] of [
        ['0.5', 'voice_ttfa_seconds', 'le'],
        ['0.95', 'voice_ttfa_seconds', 'le'],
        ['0.5', 'voice_stage_latency_seconds', 'le, stage'],
        ['0.95', 'voice_stage_latency_seconds', 'le, stage'],
      ] as const) {
        expect(all).toContain(`histogram_quantile(${phi}, sum by (${by}) (rate(${histogram}_bucket[`);
      }
      expect(all).toMatch(/voice_call_cost_usd_total\[[^\]]+\]\)\) \/ sum\(increase\(voice_call_minutes_total/);
    });
  });
});

describe('Dockerfile', () => {
  // One instruction per entry, line continuations joined.
  const instructions = readRepoFile('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const stages = instructions.filter((line) => line.startsWith('FROM '));
  const runtime = instructions.slice(instructions.lastIndexOf(stages.at(-1) ?? ''));
  const systemPackages = readRepoFile('scripts/system-packages.txt')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));

  it('is multi-stage on a Node LTS (even-numbered, >= 20) slim image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) {
      const major = Number(/^FROM node:(\d+)-[a-z]+-slim\b/.exec(stage)?.[1]);
      expect(major, stage).toBeGreaterThanOrEqual(20);
      expect(major % 2, stage).toBe(0);
    }
  });

  it('installs the runtime system packages from scripts/system-packages.txt, with the same filter as the README', () => {
    const filter = "$(grep -Ev '^\\s*(#|$)' scripts/system-packages.txt)";
    expect(readRepoFile('README.md')).toContain(filter);
    expect(runtime).toContain('COPY scripts/system-packages.txt ./scripts/');
    const install = runtime.find((line) => line.startsWith('RUN ') && line.includes('apt-get install'));
    expect(install).toContain(filter);
    // The list is the single source: no package from it is named in the Dockerfile itself.
    for (const name of systemPackages) expect(install?.split(/\s+/), name).not.toContain(name);
  });
});
