import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import jsonpatch, { type Operation } from 'fast-json-patch';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { startMockServer, type RunningMockServer } from '../mock-server/http-server.ts';
import { SCENARIO_NAMES } from '../loadtests/scenarios.ts';
import { parseGatewayConfig } from '../src/gateway/config.ts';
import { startGateway, type RunningGateway } from '../src/gateway/gateway.ts';
import { checkExpression, exportedSeries } from '../test/support/promql-refs.ts';
import { GATEWAY_PORT, kubernetesFiles, PRE_STOP_SECONDS, SCALE_QUERY } from './kubernetes.ts';

const DIR = join(import.meta.dirname, 'kubernetes');
const havePromtool = spawnSync('promtool', ['--version']).status === 0;
if (process.env.CI === 'true' && !havePromtool) throw new Error('CI=true but no promtool: .ci/run must install Debian prometheus');
/** A rendered resource as parsed YAML: its spec is walked by path in the assertions, so it stays untyped there. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string>; stringData?: Record<string, string> };
type Kustomization = { namespace?: string; resources: string[]; patches?: { target: { kind: string; name: string }; patch: string }[]; images?: { name: string; newName: string; newTag: string }[] };

/**
 * What `kustomize build <dir>` makes of the features these kustomizations use (resources,
 * namespace, images, JSON 6902 patches with a target): kustomize itself cannot be installed
 * here, so the test applies them with fast-json-patch, as kustomize applies 6902 patches.
 */
function build(dir: string): Doc[] {
  const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
  let docs: Doc[] = [];
  for (const r of k.resources) {
    const path = join(dir, r);
    if (statSync(path).isDirectory()) docs.push(...build(path));
    else docs.push(...parseAllDocuments(readFileSync(path, 'utf8')).map((d) => d.toJS() as Doc));
  }
  for (const p of k.patches ?? []) {
    const i = docs.findIndex((d) => d.kind === p.target.kind && d.metadata.name === p.target.name);
    expect(i, `${dir}: patch target ${p.target.kind}/${p.target.name}`).toBeGreaterThanOrEqual(0);
    docs[i] = jsonpatch.applyPatch(structuredClone(docs[i]!), parse(p.patch) as Operation[], true).newDocument;
  }
  for (const image of k.images ?? []) {
    for (const d of docs) for (const c of d.spec?.template?.spec?.containers ?? []) if (c.image.split(':')[0] === image.name) c.image = `${image.newName}:${image.newTag}`;
  }
  if (k.namespace) docs = docs.map((d) => ({ ...d, metadata: { ...d.metadata, namespace: k.namespace } }));
  return docs;
}

/** k6-operator's TestRun CRD (../shared/data): kept outside the project, as its README asks. */
function testRunCrdPath(): string | undefined {
  const candidates = [process.env.RATELAB_SHARED_DATA, join(import.meta.dirname, '..', '..', 'shared', 'data'), '/work/shared/data'].filter((p): p is string => Boolean(p));
  return candidates.map((d) => join(d, 'k6-operator-testrun-crd.yaml')).find((f) => existsSync(f));
}

/**
 * A structural schema as the API server applies it: an object with `properties` keeps no
 * other field (it prunes them; kubectl's strict validation refuses them), unless it says
 * x-kubernetes-preserve-unknown-fields. Ajv then refuses a misspelt field too.
 */
function strict(schema: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith('x-kubernetes-')) continue;
    if (k === 'properties' && v && typeof v === 'object') out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, strict(s as Record<string, unknown>)]));
    else if ((k === 'items' || k === 'additionalProperties') && v && typeof v === 'object') out[k] = strict(v as Record<string, unknown>);
    else if (k === 'format' && v === 'int-or-string') continue;
    else out[k] = v;
  }
  if (schema.properties && !schema['x-kubernetes-preserve-unknown-fields'] && schema.additionalProperties === undefined) out.additionalProperties = false;
  if (schema['x-kubernetes-int-or-string']) return { anyOf: [{ type: 'integer' }, { type: 'string' }] };
  return out;
}

let testRunValidator: ((doc: unknown) => string[]) | undefined;
function validateTestRun(doc: Doc): string[] {
  if (!testRunValidator) {
    const crd = parse(readFileSync(testRunCrdPath()!, 'utf8')) as { spec: { versions: { name: string; schema: { openAPIV3Schema: Record<string, unknown> } }[] } };
    const schema = strict(crd.spec.versions.find((v) => v.name === 'v1alpha1')!.schema.openAPIV3Schema);
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const check = ajv.compile(schema);
    testRunValidator = (d) => (check(d) ? [] : (check.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));
  }
  // metadata is the API server's to check, not the CRD's.
  return testRunValidator({ ...doc, metadata: {} });
}

/** Each resource against its schema: kubernetes-models for core types, KEDA and Prometheus Operator; the CRD for TestRun. */
function validate(doc: Doc): string[] {
  const models: Record<string, new (d: never) => { validate(): void }> = {
    'v1/ConfigMap': ConfigMap,
    'v1/Secret': Secret,
    'v1/Service': Service,
    'apps/v1/Deployment': Deployment,
    'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
    'keda.sh/v1alpha1/ScaledObject': ScaledObject,
    'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
    'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
  };
  const key = `${doc.apiVersion}/${doc.kind}`;
  if (key === 'k6.io/v1alpha1/TestRun') return validateTestRun(doc);
  const Model = models[key];
  if (!Model) return [`${key}: no schema to validate it against`];
  try {
    new Model(doc as never).validate();
    return [];
  } catch (error) {
    return [`${doc.kind}/${doc.metadata.name}: ${(error as Error).message}`];
  }
}

const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
const find = (docs: Doc[], kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name)!;
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  const base = build(join(DIR, 'base'));
  const dev = build(join(DIR, 'overlays', 'dev'));
  const prod = build(join(DIR, 'overlays', 'prod'));
  const testRuns = SCENARIO_NAMES.map((n) => parse(readFileSync(join(DIR, 'loadtests', `${n}.yaml`), 'utf8')) as Doc);

  if (process.env.CI === 'true' && !testRunCrdPath()) throw new Error('CI=true but no ../shared/data/k6-operator-testrun-crd.yaml to validate TestRuns against');

  it('the committed files are what deploy/kubernetes.ts renders (run `npm run deploy`)', () => {
    const files = kubernetesFiles();
    expect(walk(DIR).map((f) => relative(DIR, f)).sort()).toEqual(Object.keys(files).sort());
    for (const [path, text] of Object.entries(files)) expect(readFileSync(join(DIR, path), 'utf8'), path).toBe(text);
  });

  it('every resource of base, dev and prod, and every TestRun, validates against its schema', () => {
    const problems = [...base, ...dev, ...prod, ...testRuns].flatMap(validate);
    expect(problems).toEqual([]);
  });

  it.skipIf(!testRunCrdPath())("the validation is real: a misspelt or mistyped field is refused", () => {
    const deployment = structuredClone(find(base, 'Deployment', 'ratelab-gateway'));
    deployment.spec.replicas = 'two';
    expect(validate(deployment).join()).toContain('must be integer');
    const run = structuredClone(testRuns[0]!);
    run.spec.paralelism = 2;
    expect(validate(run).join()).toContain('must NOT have additional properties');
  });

  it('overlays: dev adds the mock, Redis and dev secrets in ratelab-dev; prod uses your registry, three replicas and zone spread', () => {
    expect(new Set(dev.map((d) => d.metadata.namespace))).toEqual(new Set(['ratelab-dev']));
    expect(dev.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(expect.arrayContaining(['Deployment/ratelab-mock', 'Service/ratelab-mock', 'Deployment/ratelab-redis', 'Service/ratelab-redis', 'Secret/ratelab-upstream', 'Secret/ratelab-redis', 'Secret/ratelab-client']));
    expect(parseGatewayConfig(parse(find(dev, 'ConfigMap', 'ratelab-gateway').data!['gateway.yaml']!)).upstreams![0]!.baseURL).toBe('http://ratelab-mock:4010/v1');
    const gw = find(prod, 'Deployment', 'ratelab-gateway');
    expect(gw.metadata.namespace).toBe('ratelab');
    expect(gw.spec.replicas).toBe(3);
    expect(gw.spec.template.spec.containers[0].image).toMatch(/^registry\.example\.com\/ratelab:\d+\.\d+\.\d+$/);
    expect(gw.spec.template.spec.topologySpreadConstraints[0].topologyKey).toBe('topology.kubernetes.io/zone');
    expect(find(prod, 'PodDisruptionBudget', 'ratelab-gateway').spec.minAvailable).toBe(2);
    // Prod brings no secrets of its own: they are yours to create (README).
    expect(prod.filter((d) => d.kind === 'Secret')).toEqual([]);
  });

  it('names line up: selectors, ports, the ConfigMap, the secrets every pod reads, the autoscaler and monitor targets', () => {
    for (const docs of [dev, prod]) {
      const gw = find(docs, 'Deployment', 'ratelab-gateway');
      const pod = gw.spec.template;
      const svc = find(docs, 'Service', 'ratelab-gateway');
      expect(matches(gw.spec.selector.matchLabels, pod.metadata.labels)).toBe(true);
      expect(matches(svc.spec.selector, pod.metadata.labels)).toBe(true);
      expect(matches(find(docs, 'PodDisruptionBudget', 'ratelab-gateway').spec.selector.matchLabels, pod.metadata.labels)).toBe(true);
      const monitor = find(docs, 'ServiceMonitor', 'ratelab-gateway');
      expect(matches(monitor.spec.selector.matchLabels, svc.metadata.labels)).toBe(true);
      expect(svc.spec.ports.map((p: { name: string }) => p.name)).toContain(monitor.spec.endpoints[0].port);
      expect(pod.spec.containers[0].ports.map((p: { name: string }) => p.name)).toContain(svc.spec.ports[0].targetPort);
      const scaler = find(docs, 'ScaledObject', 'ratelab-gateway');
      expect(scaler.spec.scaleTargetRef.name).toBe(gw.metadata.name);
      // An apply resets replicas to the manifest's: at the autoscaler's floor, never below it.
      expect(gw.spec.replicas).toBe(scaler.spec.minReplicaCount);
      expect(find(docs, 'ConfigMap', pod.spec.volumes[0].configMap.name)).toBeDefined();
    }
    // In dev every secret a pod reads exists, with the key it reads.
    const refs = dev.flatMap((d) => d.spec?.template?.spec?.containers ?? []).flatMap((c: { env?: { valueFrom?: { secretKeyRef?: { name: string; key: string } } }[] }) => c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef] : []));
    expect(refs.length).toBeGreaterThan(0);
    for (const r of refs) expect(find(dev, 'Secret', r.name).stringData![r.key], `${r.name}.${r.key}`).toBeDefined();
  });

  it('the gateway drains within its grace period: preStop plus the config\'s shutdownGrace fit in terminationGracePeriodSeconds', () => {
    const pod = find(base, 'Deployment', 'ratelab-gateway').spec.template.spec;
    const config = parseGatewayConfig(parse(find(base, 'ConfigMap', 'ratelab-gateway').data!['gateway.yaml']!));
    expect(pod.containers[0].lifecycle.preStop.exec.command).toEqual(['sleep', String(PRE_STOP_SECONDS)]);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(PRE_STOP_SECONDS + config.shutdownGrace / 1000);
    // Longer than an image takes at the provider (30–90 s, REFERENCE.md): a rollout cuts no image short.
    expect(config.shutdownGrace).toBeGreaterThanOrEqual(90_000);
  });

  it('PromQL in the rules and the autoscaler names only exported metrics and labels; the rules are alerts/ratelab.rules.yml', () => {
    const rules = find(base, 'PrometheusRule', 'ratelab').spec as { groups: { rules: { record?: string; expr: string }[] }[] };
    expect(rules).toEqual(parse(readFileSync(join(import.meta.dirname, '..', 'alerts', 'ratelab.rules.yml'), 'utf8')));
    const recorded = new Set(rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))));
    const series = exportedSeries();
    const scaler = find(base, 'ScaledObject', 'ratelab-gateway').spec.triggers.find((t: { type: string }) => t.type === 'prometheus');
    expect(scaler.metadata.query).toBe(SCALE_QUERY);
    const exprs = [scaler.metadata.query as string, ...rules.groups.flatMap((g) => g.rules.map((r) => r.expr))];
    expect(exprs.flatMap((e) => checkExpression(e, series, recorded))).toEqual([]);
  });

  it.runIf(havePromtool)('the autoscaler\'s query, run by promtool: the queue per replica while budget remains, nothing while it is spent', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ratelab-keda-'));
    writeFileSync(join(dir, 'rules.yml'), stringify({ groups: [{ name: 'keda', rules: [{ record: 'keda_input', expr: SCALE_QUERY }] }] }));
    // Two replicas, 30 + 20 tasks queued; the ipm budget has 5 images left, then none (tpm plenty throughout).
    const series = (labels: string, values: string) => ({ series: labels, values });
    const input = [
      series('ratelab_limiter_queue_depth{instance="a",upstream="openai",priority="normal"}', '30x4'),
      series('ratelab_limiter_queue_depth{instance="b",upstream="openai",priority="normal"}', '20x4'),
      series('ratelab_limiter_budget_remaining{instance="a",upstream="openai",dimension="ipm"}', '5 5 0 0 0'),
      series('ratelab_limiter_budget_remaining{instance="a",upstream="openai",dimension="tpm"}', '90000x4'),
    ];
    writeFileSync(
      join(dir, 'test.yml'),
      stringify({
        rule_files: ['rules.yml'],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: input,
            promql_expr_test: [
              { expr: 'keda_input', eval_time: '1m', exp_samples: [{ labels: 'keda_input', value: 50 }] },
              { expr: 'keda_input', eval_time: '3m', exp_samples: [] },
            ],
          },
        ],
      }),
    );
    const r = spawnSync('promtool', ['test', 'rules', join(dir, 'test.yml')], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('dashboards ship as ConfigMaps for Grafana\'s sidecar, byte for byte the committed JSON', () => {
    const maps = base.filter((d) => d.kind === 'ConfigMap' && d.metadata.labels?.grafana_dashboard === '1');
    const files = readdirSync(join(import.meta.dirname, '..', 'dashboards', 'json')).sort();
    expect(maps.flatMap((m) => Object.keys(m.data!)).sort()).toEqual(files);
    for (const m of maps) for (const [file, json] of Object.entries(m.data!)) expect(json).toBe(readFileSync(join(import.meta.dirname, '..', 'dashboards', 'json', file), 'utf8'));
  });

  it('a TestRun per scenario, fed by `k6 archive` and aimed at the gateway Service', () => {
    expect(testRuns.map((t) => t.metadata.name)).toEqual(SCENARIO_NAMES.map((n) => `ratelab-${n}`));
    for (const [i, t] of testRuns.entries()) {
      expect(t.spec.script.configMap).toEqual({ name: `ratelab-k6-${SCENARIO_NAMES[i]}`, file: `${SCENARIO_NAMES[i]}.tar` });
      expect(t.spec.parallelism).toBeGreaterThanOrEqual(2);
      const env = Object.fromEntries((t.spec.runner.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
      expect(env.BASE_URL).toBe(`http://ratelab-gateway:${GATEWAY_PORT}`);
      expect(env.K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM).toBe('true');
      expect(t.spec.arguments).toContain('--out experimental-prometheus-rw');
    }
  });

  describe('the probes and the scrape path answer on a gateway run with the shipped config', () => {
    let mock: RunningMockServer;
    let gateway: RunningGateway;
    beforeAll(async () => {
      mock = await startMockServer({ profile: 'openai', timeScale: 0.01, seed: 3 });
      const config = parseGatewayConfig(parse(find(dev, 'ConfigMap', 'ratelab-gateway').data!['gateway.yaml']!));
      config.upstreams = config.upstreams!.map((u) => ({ ...u, baseURL: mock.baseURL }));
      gateway = await startGateway({ config, port: 0, env: { UPSTREAM_API_KEY: 'sk-tier3-probe', CLIENT_API_KEY: 'sk-client-probe' }, timeScale: 0.01, logLevel: 'warn' });
    });
    afterAll(async () => {
      await gateway?.close(1000);
      await mock?.close();
    });

    it('readiness, liveness and /metrics', async () => {
      const pod = find(base, 'Deployment', 'ratelab-gateway').spec.template.spec.containers[0];
      const path = (p: string) => fetch(`${gateway.url}${p}`);
      expect((await path(pod.readinessProbe.httpGet.path)).status).toBe(200);
      expect((await path(pod.livenessProbe.httpGet.path)).status).toBe(200);
      const metrics = await path(find(base, 'ServiceMonitor', 'ratelab-gateway').spec.endpoints[0].path);
      expect(await metrics.text()).toContain('ratelab_limiter_queue_depth');
    });
  });
});
