/**
 * The Kubernetes manifests (deploy/kubernetes/), as data rendered from the sources that
 * already exist: the alert rules (alerts/rules.ts), the dashboards (dashboards/json), the
 * scenarios (loadtests/scenarios.ts), the metric catalogue, the gateway's config schema and
 * its CLI defaults. `npm run deploy` writes them; deploy/kubernetes.test.ts proves them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ratelabRules } from '../alerts/rules.ts';
import { DASHBOARDS } from '../dashboards/index.ts';
import { DEFAULT_CAPACITY, SCENARIO_NAMES } from '../loadtests/scenarios.ts';
import type { GatewayConfigInput } from '../src/gateway/config.ts';
import { LIMITER_METRICS } from '../src/metrics/catalogue.ts';
// Types only (dev dependencies): the compiler refuses a misspelt field of any core, KEDA or Prometheus Operator resource.
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import type { IPrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import type { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';

const root = join(import.meta.dirname, '..');
const VERSION = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

/** The CLI's own ports (`ratelab gateway`, `ratelab mock`). */
export const GATEWAY_PORT = 4020;
export const MOCK_PORT = 4010;
/** Seconds between SIGTERM's preStop and the process's own SIGTERM: the Service's endpoints drop the pod meanwhile. */
export const PRE_STOP_SECONDS = 10;
/** How long in-flight requests get on SIGTERM (the gateway's shutdownGrace): an image takes 30–90 s at the provider. */
export const SHUTDOWN_GRACE_SECONDS = 120;
/** Queued tasks per replica KEDA aims at. */
export const QUEUE_PER_REPLICA = 20;

/** k6-operator's TestRun has no typed model on npm: its CRD's schema checks it (deploy/kubernetes.test.ts). */
interface TestRun {
  apiVersion: 'k6.io/v1alpha1';
  kind: 'TestRun';
  metadata: { name: string; labels: Record<string, string> };
  spec: Record<string, unknown>;
}

type Resource = IConfigMap | ISecret | IService | IDeployment | IPodDisruptionBudget | IScaledObject | IServiceMonitor | IPrometheusRule | TestRun;

const labels = (name: string) => ({ 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'ratelab', 'app.kubernetes.io/version': VERSION });
const selector = (name: string) => ({ 'app.kubernetes.io/name': name });

/** The same hardening on every container: the image's non-root user, nothing written outside /tmp. */
const containerSecurity: ISecurityContext = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };
const podSecurity: IPodSecurityContext = { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } };

/** The gateway's config in the pod: the real API, jobs and limits in Redis, a drain that outlasts an image. */
export const GATEWAY_CONFIG: GatewayConfigInput = {
  upstreams: [{ name: 'openai', baseURL: 'https://api.openai.com/v1', apiKeyEnv: 'UPSTREAM_API_KEY' }],
  // Your services, each with its key in the ratelab-client Secret (add more, with priorities and quotas).
  clients: [{ name: 'app', keyEnv: 'CLIENT_API_KEY', priority: 'normal' }],
  limiter: { queue: { maxWait: '2m' } },
  shutdownGrace: `${SHUTDOWN_GRACE_SECONDS}s`,
};

/** The dev overlay's: the mock in the cluster, at the tier its key names. */
export const DEV_GATEWAY_CONFIG: GatewayConfigInput = {
  ...GATEWAY_CONFIG,
  upstreams: [{ name: 'mock', baseURL: `http://ratelab-mock:${MOCK_PORT}/v1`, apiKeyEnv: 'UPSTREAM_API_KEY' }],
};

const configMap = (name: string, data: Record<string, string>, extra: Record<string, string> = {}): IConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels: { ...labels(name), ...extra } },
  data,
});

function gatewayDeployment(): IDeployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'ratelab-gateway', labels: labels('ratelab-gateway') },
    spec: {
      // KEDA's floor (minReplicaCount): each `kubectl apply` sets this, then the autoscaler takes over.
      replicas: 2,
      selector: { matchLabels: selector('ratelab-gateway') },
      // A new pod is ready before an old one drains: no moment with fewer replicas than asked.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: labels('ratelab-gateway') },
        spec: {
          // preStop, then the gateway's own drain, then a margin for its last span export and Redis goodbye.
          terminationGracePeriodSeconds: PRE_STOP_SECONDS + SHUTDOWN_GRACE_SECONDS + 10,
          securityContext: podSecurity,
          containers: [
            {
              name: 'gateway',
              image: `ratelab:${VERSION}`,
              args: ['gateway', '--host', '0.0.0.0', '--port', String(GATEWAY_PORT), '--config', '/etc/ratelab/gateway.yaml'],
              ports: [{ name: 'http', containerPort: GATEWAY_PORT }],
              env: [
                { name: 'UPSTREAM_API_KEY', valueFrom: { secretKeyRef: { name: 'ratelab-upstream', key: 'api-key' } } },
                { name: 'CLIENT_API_KEY', valueFrom: { secretKeyRef: { name: 'ratelab-client', key: 'api-key' } } },
                // redis://…, or a Redis Cluster as redis+cluster://node-0:6379,node-1:6379
                { name: 'REDIS_URL', valueFrom: { secretKeyRef: { name: 'ratelab-redis', key: 'url' } } },
                { name: 'LOG_LEVEL', value: 'info' },
              ],
              // Ready only with Redis reachable and not draining; alive as long as it answers at all.
              readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
              livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
              lifecycle: { preStop: { exec: { command: ['sleep', String(PRE_STOP_SECONDS)] } } },
              resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi' } },
              securityContext: containerSecurity,
              volumeMounts: [
                { name: 'config', mountPath: '/etc/ratelab', readOnly: true },
                // Multipart uploads past the memory budget are spooled here.
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            { name: 'config', configMap: { name: 'ratelab-gateway' } },
            { name: 'tmp', emptyDir: { sizeLimit: '2Gi' } },
          ],
        },
      },
    },
  };
}

const service = (name: string, port: number, portName = 'http'): IService => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, labels: labels(name) },
  spec: { selector: selector(name), ports: [{ name: portName, port, targetPort: portName }] },
});

/**
 * The PromQL KEDA scales on: tasks waiting in the limiters, unless the account's budget is
 * spent. With the Redis store every replica shares the account's budget and concurrency,
 * so a queue that waits on the provider is not helped by more gateways; a queue that grows
 * while budget remains is the gateways' own (jobs.concurrency, uploads, streams).
 */
export const SCALE_QUERY = `sum(${LIMITER_METRICS.queueDepth.name}) unless on() (min(${LIMITER_METRICS.budgetRemaining.name}) < 1)`;

function scaledObject(): IScaledObject {
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name: 'ratelab-gateway', labels: labels('ratelab-gateway') },
    spec: {
      scaleTargetRef: { name: 'ratelab-gateway' },
      minReplicaCount: 2,
      maxReplicaCount: 8,
      pollingInterval: 15,
      cooldownPeriod: 300,
      advanced: { horizontalPodAutoscalerConfig: { behavior: { scaleDown: { stabilizationWindowSeconds: 300 } } } },
      triggers: [
        {
          type: 'prometheus',
          metadata: {
            serverAddress: 'http://prometheus-operated.monitoring.svc:9090',
            query: SCALE_QUERY,
            threshold: String(QUEUE_PER_REPLICA),
            ignoreNullValues: 'true',
          },
        },
        { type: 'cpu', metricType: 'Utilization', metadata: { value: '70' } },
      ],
    },
  };
}

const pdb = (): IPodDisruptionBudget => ({
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name: 'ratelab-gateway', labels: labels('ratelab-gateway') },
  spec: { minAvailable: 1, selector: { matchLabels: selector('ratelab-gateway') } },
});

const serviceMonitor = (): IServiceMonitor => ({
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'ServiceMonitor',
  metadata: { name: 'ratelab-gateway', labels: labels('ratelab-gateway') },
  spec: { selector: { matchLabels: selector('ratelab-gateway') }, endpoints: [{ port: 'http', path: '/metrics', interval: '15s' }] },
});

/** alerts/rules.ts at scale 1: the same groups as alerts/ratelab.rules.yml. */
const prometheusRule = (): IPrometheusRule => ({
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: { name: 'ratelab', labels: labels('ratelab') },
  spec: ratelabRules(1),
});

/** Each dashboard's committed JSON in a ConfigMap that Grafana's sidecar picks up by its label. */
const dashboards = (): IConfigMap[] =>
  Object.keys(DASHBOARDS).map((name) => configMap(name.replace(/^ratelab-/, 'ratelab-dashboard-'), { [`${name}.json`]: readFileSync(join(root, 'dashboards', 'json', `${name}.json`), 'utf8') }, { grafana_dashboard: '1' }));

/** A one-replica Deployment of one container with an emptyDir, and its Service: the dev overlay's mock and Redis. */
function singleton(name: string, container: IContainer, o: { port: number; portName?: string; mountPath: string; security?: IPodSecurityContext }): [IDeployment, IService] {
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, labels: labels(name) },
      spec: {
        replicas: 1,
        selector: { matchLabels: selector(name) },
        template: {
          metadata: { labels: labels(name) },
          spec: {
            securityContext: o.security ?? podSecurity,
            containers: [{ ...container, securityContext: containerSecurity, volumeMounts: [{ name: 'scratch', mountPath: o.mountPath }] }],
            volumes: [{ name: 'scratch', emptyDir: {} }],
          },
        },
      },
    },
    service(name, o.port, o.portName),
  ];
}

const mock = (): [IDeployment, IService] =>
  singleton(
    'ratelab-mock',
    {
      name: 'mock',
      image: `ratelab:${VERSION}`,
      args: ['mock', '--host', '0.0.0.0', '--port', String(MOCK_PORT)],
      ports: [{ name: 'http', containerPort: MOCK_PORT }],
      readinessProbe: { httpGet: { path: '/__admin/stats', port: 'http' }, periodSeconds: 5 },
      livenessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 10 },
      resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi' } },
    },
    { port: MOCK_PORT, mountPath: '/tmp' },
  );

/** A single Redis for the dev overlay; prod points REDIS_URL at a managed Redis or a Redis Cluster. */
const redis = (): [IDeployment, IService] =>
  singleton(
    'ratelab-redis',
    {
      name: 'redis',
      image: 'redis:7.4-alpine',
      // Jobs survive a Redis restart only with the append-only file.
      args: ['--appendonly', 'yes', '--maxmemory-policy', 'noeviction'],
      ports: [{ name: 'redis', containerPort: 6379 }],
      readinessProbe: { exec: { command: ['redis-cli', 'ping'] }, periodSeconds: 5 },
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    },
    { port: 6379, portName: 'redis', mountPath: '/data', security: { ...podSecurity, runAsUser: 999, runAsGroup: 999, fsGroup: 999 } },
  );

/** Dev-only secrets: the mock's key (its tier is in the key), a client key, and the in-cluster Redis. */
const devSecrets = (): ISecret[] => [
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ratelab-client' }, type: 'Opaque', stringData: { 'api-key': 'sk-ratelab-dev-client' } },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ratelab-upstream' }, type: 'Opaque', stringData: { 'api-key': 'sk-tier3-ratelab-dev' } },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ratelab-redis' }, type: 'Opaque', stringData: { url: 'redis://ratelab-redis:6379' } },
];

/**
 * A k6-operator TestRun per scenario, fed by `k6 archive`: its pods split the test by
 * execution segments (`parallelism`), and send every sample to Prometheus by remote write
 * with trends as native histograms, so percentiles across pods are exact there too.
 */
function testRun(name: (typeof SCENARIO_NAMES)[number]): TestRun {
  return {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: { name: `ratelab-${name}`, labels: labels(`ratelab-${name}`) },
    spec: {
      parallelism: 2,
      script: { configMap: { name: `ratelab-k6-${name}`, file: `${name}.tar` } },
      arguments: `--out experimental-prometheus-rw --tag testid=ratelab-${name}`,
      runner: {
        image: 'grafana/k6:1.8.0',
        env: [
          { name: 'BASE_URL', value: `http://ratelab-gateway:${GATEWAY_PORT}` },
          { name: 'MOCK_URL', value: `http://ratelab-mock:${MOCK_PORT}` },
          { name: 'TIME_SCALE', value: '1' },
          { name: 'CAPACITY', value: String(DEFAULT_CAPACITY) },
          { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'ratelab-client', key: 'api-key' } } },
          { name: 'SUMMARY_PATH', value: '/tmp/summary.json' },
          { name: 'K6_NO_USAGE_REPORT', value: 'true' },
          { name: 'K6_PROMETHEUS_RW_SERVER_URL', value: 'http://prometheus-operated.monitoring.svc:9090/api/v1/write' },
          { name: 'K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM', value: 'true' },
        ],
        resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { memory: '1Gi' } },
      },
    },
  };
}

/** A kustomize JSON 6902 patch. */
type Patch = { target: { kind: string; name: string }; ops: { op: 'add' | 'replace' | 'remove'; path: string; value?: unknown }[] };

const kustomization = (o: { namespace?: string; resources: string[]; patches?: Patch[]; images?: { name: string; newName: string; newTag: string }[] }) => ({
  apiVersion: 'kustomize.config.k8s.io/v1beta1',
  kind: 'Kustomization',
  ...(o.namespace ? { namespace: o.namespace } : {}),
  resources: o.resources,
  ...(o.images ? { images: o.images } : {}),
  ...(o.patches ? { patches: o.patches.map((p) => ({ target: p.target, patch: stringify(p.ops) })) } : {}),
});

const HEADER = '# Generated by `npm run deploy` from deploy/kubernetes.ts: edit that, not this.\n';
const yamlOf = (docs: object[]): string => HEADER + docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');

/** Every file under deploy/kubernetes/, by path relative to it. */
export function kubernetesFiles(): Record<string, string> {
  const base: Record<string, Resource[]> = {
    'gateway-config.yaml': [configMap('ratelab-gateway', { 'gateway.yaml': stringify(GATEWAY_CONFIG) })],
    'gateway-deployment.yaml': [gatewayDeployment()],
    'gateway-service.yaml': [service('ratelab-gateway', GATEWAY_PORT)],
    'gateway-pdb.yaml': [pdb()],
    'gateway-scaledobject.yaml': [scaledObject()],
    'servicemonitor.yaml': [serviceMonitor()],
    'prometheusrule.yaml': [prometheusRule()],
    'dashboards.yaml': dashboards(),
  };
  const files: Record<string, string> = {};
  for (const [file, docs] of Object.entries(base)) files[`base/${file}`] = yamlOf(docs);
  files['base/kustomization.yaml'] = yamlOf([kustomization({ resources: Object.keys(base) })]);

  files['overlays/dev/mock.yaml'] = yamlOf(mock());
  files['overlays/dev/redis.yaml'] = yamlOf(redis());
  files['overlays/dev/secrets.yaml'] = yamlOf(devSecrets());
  files['overlays/dev/kustomization.yaml'] = yamlOf([
    kustomization({
      namespace: 'ratelab-dev',
      resources: ['../../base', 'mock.yaml', 'redis.yaml', 'secrets.yaml'],
      patches: [{ target: { kind: 'ConfigMap', name: 'ratelab-gateway' }, ops: [{ op: 'replace', path: '/data/gateway.yaml', value: stringify(DEV_GATEWAY_CONFIG) }] }],
    }),
  ]);
  files['overlays/prod/kustomization.yaml'] = yamlOf([
    kustomization({
      namespace: 'ratelab',
      resources: ['../../base'],
      // Your registry: `docker build -t <registry>/ratelab:<version> .` and push.
      images: [{ name: 'ratelab', newName: 'registry.example.com/ratelab', newTag: VERSION }],
      patches: [
        { target: { kind: 'Deployment', name: 'ratelab-gateway' }, ops: [
          { op: 'replace', path: '/spec/replicas', value: 3 },
          { op: 'add', path: '/spec/template/spec/topologySpreadConstraints', value: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector('ratelab-gateway') } }] },
          { op: 'replace', path: '/spec/template/spec/containers/0/resources', value: { requests: { cpu: '1', memory: '512Mi' }, limits: { memory: '2Gi' } } },
        ] },
        { target: { kind: 'PodDisruptionBudget', name: 'ratelab-gateway' }, ops: [{ op: 'replace', path: '/spec/minAvailable', value: 2 }] },
        { target: { kind: 'ScaledObject', name: 'ratelab-gateway' }, ops: [
          { op: 'replace', path: '/spec/minReplicaCount', value: 3 },
          { op: 'replace', path: '/spec/maxReplicaCount', value: 12 },
        ] },
      ],
    }),
  ]);
  for (const name of SCENARIO_NAMES) files[`loadtests/${name}.yaml`] = yamlOf([testRun(name)]);
  return files;
}
