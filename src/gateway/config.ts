import { z } from 'zod';
import { TRACE_DEFAULTS } from './trace-line.ts';
import { readConfigFile } from '../core/config-file.ts';
import { ConfigError, duration, intAtLeast, parseOrThrow } from '../core/validation.ts';
import { uniqueNames } from './clients.ts';
import { limiterConfigSchema } from '../limiter/config.ts';
import { modelOverrideSchema } from '../openai/catalogue-schema.ts';
import { PRIORITY_NAMES } from '../limiter/types.ts';

const priority = z.enum(PRIORITY_NAMES, {
  error: `one of ${PRIORITY_NAMES.join(', ')}`,
});
const name = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/i, { error: 'a name of letters, digits, _ . - (at most 63)' });
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, { error: 'an environment variable name like UPSTREAM_API_KEY' });

const upstreamSchema = z
  .object({
    /** Label in metrics and logs (never the key). */
    name,
    /** The provider's base URL in the SDK's sense, e.g. https://api.openai.com/v1. */
    baseURL: z.url({ error: 'a base URL like http://127.0.0.1:4010/v1' }),
    /** Environment variable holding this upstream's key; keys never go in config files. Default UPSTREAM_API_KEY. */
    apiKeyEnv: envName.default('UPSTREAM_API_KEY'),
    /** This upstream's limiter; default: the top-level `limiter`. */
    limiter: limiterConfigSchema.optional(),
  })
  .strict();

const clientSchema = z
  .object({
    name,
    /** The client's bearer key, or `keyEnv` to read it from the environment. */
    key: z.string().min(8, { error: 'a key of at least 8 characters' }).optional(),
    keyEnv: envName.optional(),
    /** The limiter priority of this client's requests. Default normal. */
    priority: priority.default('normal'),
    /** Images this client may ask for per `period`; absent = no quota. */
    quota: z.object({ images: intAtLeast(1), period: duration.default(86_400_000) }).strict().optional(),
  })
  .strict()
  .refine((c) => (c.key === undefined) !== (c.keyEnv === undefined), { error: 'an object with exactly one of `key` and `keyEnv`' });

const jobsSchema = z
  .object({
    /** How long finished jobs (results, errors) stay readable. */
    resultTtl: duration.default(3_600_000),
    /**
     * Runs the provider fails (5xx, 429, unreachable) before a job goes to the dead-letter
     * queue. Runs the gateway turns away (queue full, deadline, circuit open, spend budget,
     * shutdown) and failures during an outage (every upstream's circuit open) do not count:
     * the job waits for their retry-after and runs again.
     */
    maxAttempts: intAtLeast(1).default(3),
    /** First pause after a provider failure, doubled each time; a longer retry-after from the provider wins. Also the wait after a refusal that gives no retry-after. */
    backoff: duration.default(2_000),
    /**
     * How long a job may wait for its run, from submission: its deadline in the limiter's
     * queue (far beyond a held connection's queue.maxWait) and across refusals. A job not run
     * by then fails with `job_deadline_exceeded` and is dead-lettered.
     */
    maxWait: duration.default(86_400_000),
    /** Jobs one gateway hands to its limiters at once, in priority then submission order; the rest wait in the job queue. */
    concurrency: intAtLeast(1).default(64),
    /** BullMQ's lock: a job whose gateway died is taken over after this long. */
    lockDuration: duration.default(30_000),
    /** SSE subscribers across all jobs, beyond which /events answers 503. */
    maxSubscribers: intAtLeast(1).default(1_000),
    /** BullMQ key prefix, so several gateways (or test runs) can share one Redis. On a Redis Cluster it is a hash tag, `{ratelab}`, so a queue's keys share a slot. */
    prefix: z.string().min(1).default('ratelab'),
  })
  .strict();

export const gatewayConfigSchema = z
  .object({
    /** Default for every upstream that has no `limiter` of its own. */
    limiter: limiterConfigSchema.default(limiterConfigSchema.parse({})),
    /** Providers in order of preference; the first is the default. Default: `--upstream` with UPSTREAM_API_KEY. */
    upstreams: z.array(upstreamSchema).min(1, { error: 'a list of at least one upstream' }).optional(),
    /** The gateway's own clients. Default: only the dev key sk-ratelab-dev (dev mode). */
    clients: z.array(clientSchema).min(1, { error: 'a list of at least one client' }).optional(),
    jobs: jobsSchema.prefault({}),
    /** With REDIS_URL: the limiter store shared by replicas. */
    redis: z
      .object({
        /** A crashed replica's concurrency slots come back after this long (wall-clock). */
        leaseTtl: duration.default(15_000),
      })
      .strict()
      .prefault({}),
    /** Result cache TTL (0 = off, the default: cache hits are not capacity). */
    cacheTtl: duration.default(0),
    /**
     * `forward` (default): check only what the limiter prices (model, n, size, quality,
     * stream, input images) and forward every other field, known or not, for the provider
     * to judge — a field the SDK adds next month must not be refused here. `strict`: check
     * everything as the provider does, unknown fields included.
     */
    validation: z.enum(['forward', 'strict'], { error: 'one of "forward", "strict"' }).default('forward'),
    models: z
      .object({
        /** Models clients may ask for. Default `active`: the catalogue's active models. */
        serve: z.union([z.literal('active'), z.array(z.string().min(1)).min(1)]).default('active'),
        /** Catalogue facts to change or add, by model id (same shape as a profile's `models`; `like:` for a new model). */
        catalogue: z.record(z.string().min(1), modelOverrideSchema).default({}),
      })
      .strict()
      .prefault({}),
    /**
     * On SIGTERM, how long requests in flight get to finish before they are cut (wall-clock;
     * a running job's lock then lets another replica take it over). An image takes 30–90 s at
     * the provider: a Kubernetes pod's terminationGracePeriodSeconds must cover this plus its
     * preStop. Default 30 s.
     */
    shutdownGrace: duration.default(30_000),
    /** Largest JSON body (generations, JSON edits with data URLs). Multipart edits are spooled, bounded by OpenAI's upload limits. */
    maxBodyBytes: intAtLeast(1024).default(64 * 1024 * 1024),
    /** One JSON line per images request (schemas/trace-line.schema.json), for `ratelab calibrate` and `replay`. Default off. */
    trace: z
      .object({
        path: z.string({ error: 'a file path' }).min(1, { error: 'a file path' }),
        /** Bytes after which the file is rotated to `<path>.1`. */
        maxBytes: intAtLeast(1024).default(TRACE_DEFAULTS.maxBytes),
        /** Rotated files kept. */
        keep: intAtLeast(0).default(TRACE_DEFAULTS.keep),
      })
      .strict()
      .optional(),
    /**
     * OpenTelemetry spans (README, "Traces"): OTLP/HTTP to `endpoint`. The standard OTEL_*
     * variables also apply (OTEL_EXPORTER_OTLP_ENDPOINT turns tracing on without this entry);
     * what is set here wins. Default off. Not the `trace` entry: that is the request log.
     */
    otel: z
      .object({
        endpoint: z.url({ error: 'an OTLP/HTTP base URL like http://127.0.0.1:4318' }).optional(),
        /** Share of new traces kept (a sampled caller's trace is always continued). Default: OTEL_TRACES_SAMPLER(_ARG), else all. */
        sampleRatio: z.number({ error: 'a number from 0 to 1' }).min(0, { error: 'a number from 0 to 1' }).max(1, { error: 'a number from 0 to 1' }).optional(),
        serviceName: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    /** Where multipart uploads wait while they are parsed and sent upstream (and resent on a retry). */
    spool: z
      .object({
        /** An upload up to this many bytes stays in memory (default 32 MiB). */
        memoryPerRequest: intAtLeast(0).default(32 * 1024 * 1024),
        /** Bytes all uploads together may hold in memory (default 256 MiB); past it uploads go to a temporary file. */
        memoryTotal: intAtLeast(0).default(256 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type UpstreamConfig = z.output<typeof upstreamSchema>;
export type ClientConfig = z.output<typeof clientSchema>;
export type JobsConfig = z.output<typeof jobsSchema>;

const GATEWAY_KEYS = ['limiter', 'upstreams', 'clients', 'jobs', 'redis', 'cacheTtl', 'validation', 'models', 'shutdownGrace', 'maxBodyBytes', 'spool', 'trace', 'otel'];

/**
 * A gateway config file, or a plain limiter config (what `--config limiter.yaml` took
 * before gateways had more to configure): a file with none of the gateway's keys is a
 * limiter config.
 */
export function parseGatewayConfig(input: unknown = {}): GatewayConfig {
  const value = input ?? {};
  const isGateway = typeof value === 'object' && Object.keys(value).some((k) => GATEWAY_KEYS.includes(k));
  const config = parseOrThrow(gatewayConfigSchema, isGateway ? value : { limiter: value }, 'gateway config');
  // Checked here rather than in the schema: zod's message would print the entries, keys included.
  if (config.clients) {
    uniqueNames(config.clients);
    const keys = new Map<string, number>();
    for (const [index, c] of config.clients.entries()) {
      if (c.key === undefined) continue;
      const first = keys.get(c.key);
      if (first !== undefined) throw new ConfigError(`Expected every client to have its own key, got the same key at clients.${first} (\`${config.clients[first]!.name}\`) and clients.${index} (\`${c.name}\`)`);
      keys.set(c.key, index);
    }
  }
  return config;
}

export function loadGatewayConfig(path: string): GatewayConfig {
  return parseGatewayConfig(readConfigFile(path, 'gateway config'));
}
