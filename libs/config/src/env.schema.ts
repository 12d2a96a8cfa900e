import { z } from 'zod';

/**
 * The environment variables of the bridge, in the order of the README's reference table. Every
 * field carries `.describe()` (and `.meta({ defaultLabel })` where the default is computed), from
 * which `render-config-reference.ts` generates the table. Empty values count as unset.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Metadata keys used on env fields besides `description`. */
export interface EnvFieldMeta {
  /** Shown in the Default column when the default is computed at start-up. */
  defaultLabel?: string;
  /** Shown in the Type column when the schema's own type says too little (a parsed list). */
  typeLabel?: string;
  /** The value is a secret: never shown in any message. */
  secret?: boolean;
  /** The value is a URL that may hold credentials: shown only through `redactUrl`. */
  redactUrl?: boolean;
}

const meta = (m: EnvFieldMeta) => m as Record<string, unknown>;

function envInt(min: number, max = Number.MAX_SAFE_INTEGER) {
  return z
    .string()
    .trim()
    .regex(/^[+-]?\d+$/, { error: 'must be an integer' })
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

function envBool() {
  return z.stringbool({ error: 'must be true or false (also accepted: 1/0, yes/no, on/off)' });
}

function urlWithProtocols(protocols: readonly string[], error: string) {
  return z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          const u = new URL(v);
          return protocols.includes(u.protocol) && u.hostname !== '';
        } catch {
          return false;
        }
      },
      { error },
    );
}

/** `host:port,host:port,...` (IPv6 hosts in brackets): the seed nodes of a Cluster, or the Sentinels. */
function envHostPortList() {
  return z
    .string()
    .trim()
    .transform((v, ctx) => {
      const nodes: { host: string; port: number }[] = [];
      for (const [i, raw] of v.split(',').entries()) {
        const entry = raw.trim();
        const m = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(entry);
        const port = m ? Number(m[2]) : 0;
        if (!m || port < 1 || port > 65535) {
          ctx.addIssue({ code: 'custom', message: `entry ${i + 1} ${JSON.stringify(entry)} is not host:port (e.g. redis-1.example:6379)` });
          continue;
        }
        nodes.push({ host: m[1].replace(/^\[(.*)\]$/, '$1'), port });
      }
      return nodes;
    });
}

const REGION = z
  .string()
  .trim()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, { error: 'must be an AWS region such as us-east-1' });

export const envSchema = z.object({
  PORT: envInt(0, 65535).default(3000).describe('HTTP port of /health, /health/ready, /metrics and Bull Board (0 = any free port).'),
  REDIS_URL: urlWithProtocols(['redis:', 'rediss:'], 'not a redis:// or rediss:// URL')
    .default('redis://127.0.0.1:6379')
    .describe('Redis holding the BullMQ queues: `redis://[user:password@]host:port[/db]`, `rediss://` for TLS. Shown only redacted.')
    .meta(meta({ redactUrl: true })),
  BULLMQ_PREFIX: z
    .string()
    .trim()
    .min(1)
    .default('bull')
    .describe(
      'BullMQ key prefix; must match the prefix your consumers use. With `REDIS_CLUSTER_NODES` it must hold a hash tag, e.g. `{bridge}`, so every key of the bridge hashes to one slot.',
    ),
  REDIS_CLUSTER_NODES: envHostPortList()
    .optional()
    .describe(
      'Redis Cluster mode (e.g. ElastiCache cluster mode): seed nodes `host:port,host:port,...` (the configuration endpoint alone is enough); the rest is discovered. Instead of `REDIS_URL`.',
    )
    .meta(meta({ defaultLabel: 'unset (no cluster)', typeLabel: 'host:port list' })),
  REDIS_SENTINELS: envHostPortList()
    .optional()
    .describe(
      'Sentinel mode: the Sentinels `host:port,host:port,...`; the bridge follows the primary they name. Needs `REDIS_SENTINEL_NAME`. Instead of `REDIS_URL`.',
    )
    .meta(meta({ defaultLabel: 'unset (no Sentinel)', typeLabel: 'host:port list' })),
  REDIS_SENTINEL_NAME: z
    .string()
    .trim()
    .min(1)
    .optional()
    .describe('Sentinel mode: the master group name (`sentinel monitor <name> ...`).'),
  REDIS_USERNAME: z
    .string()
    .trim()
    .min(1)
    .optional()
    .describe('Cluster and Sentinel modes: ACL user of the Redis data nodes (with `REDIS_URL`, put credentials in the URL).'),
  REDIS_PASSWORD: z
    .string()
    .min(1)
    .optional()
    .describe('Cluster and Sentinel modes: password (AUTH token) of the Redis data nodes. Secret: never logged.')
    .meta(meta({ defaultLabel: 'unset (no AUTH)', secret: true })),
  REDIS_TLS: envBool()
    .default(false)
    .describe(
      'Cluster and Sentinel modes: TLS to the Redis data nodes (with `REDIS_URL`, use `rediss://`). A private CA: `NODE_EXTRA_CA_CERTS=/path/ca.pem`.',
    ),
  REDIS_SENTINEL_USERNAME: z.string().trim().min(1).optional().describe('Sentinel mode: ACL user of the Sentinels themselves.'),
  REDIS_SENTINEL_PASSWORD: z
    .string()
    .min(1)
    .optional()
    .describe('Sentinel mode: password of the Sentinels themselves (`requirepass` in sentinel.conf). Secret: never logged.')
    .meta(meta({ defaultLabel: 'unset (no AUTH)', secret: true })),
  REDIS_SENTINEL_TLS: envBool().default(false).describe('Sentinel mode: TLS to the Sentinels themselves.'),
  AWS_REGION: REGION.optional()
    .describe('Region of the Step Functions activities.')
    .meta(meta({ defaultLabel: '`AWS_DEFAULT_REGION`, else `us-east-1`' })),
  AWS_DEFAULT_REGION: REGION.optional().describe('Used when `AWS_REGION` is unset.'),
  AWS_ENDPOINT_URL_SFN: urlWithProtocols(['http:', 'https:'], 'not an http:// or https:// URL')
    .optional()
    .describe(
      'Step Functions endpoint override (e.g. the local emulator). Read by the AWS SDK itself; shown here for logs and /health/ready.',
    )
    .meta(meta({ defaultLabel: 'AWS endpoint of the region', redactUrl: true })),
  WORKER_NAME: z
    .string()
    .trim()
    .min(1)
    .max(80)
    .optional()
    .describe('`workerName` sent with every GetActivityTask (1..80 characters).')
    .meta(meta({ defaultLabel: '`<hostname>-<pid>`, hostname cut to fit 80 characters' })),
  BRIDGE_CONFIG: z
    .string()
    .trim()
    .min(1)
    .optional()
    .describe('Path of the bindings file, YAML or JSON (by extension, else by content). Relative paths resolve from the working directory.')
    .meta(meta({ defaultLabel: 'required unless `BRIDGE_BINDINGS` is set' })),
  BRIDGE_BINDINGS: z.string().optional().describe('The bindings document inline (YAML or JSON), used only when `BRIDGE_CONFIG` is unset.'),
  RELAY_CONCURRENCY: envInt(1, 1000)
    .default(32)
    .describe('Results relayed at once per bridge process (SendTaskSuccess/Failure calls in flight).'),
  RELAY_ATTEMPTS: envInt(1, 1000)
    .default(10)
    .describe('Attempts of a relay on transient AWS errors before it is given up (Step Functions then times the task out).'),
  RELAY_BACKOFF_MS: envInt(0).default(1000).describe("Base delay (ms) of the relay's exponential backoff."),
  HEARTBEAT_DEFAULT_SECONDS: envInt(1, 86400)
    .default(20)
    .describe("Heartbeat interval (s) of a binding without `heartbeatSeconds`. Keep it below the Task state's `HeartbeatSeconds`."),
  HEARTBEAT_RATE_PER_SECOND: envInt(1, 10000)
    .default(100)
    .describe('Global budget of SendTaskHeartbeat calls per second, shared by all replicas.'),
  HEARTBEAT_PROGRESS_MIN_INTERVAL_MS: envInt(0)
    .default(5000)
    .describe("Minimum time (ms) between two heartbeats caused by a consumer's `job.updateProgress()` for one task."),
  ENQUEUE_RETRY_FOR_MS: envInt(0)
    .default(30000)
    .describe(
      'How long (ms) enqueueing a received task is retried (e.g. Redis down) before SendTaskFailure `Bridge.EnqueueFailed`; at shutdown, until 2 s before the drain ends.',
    ),
  SHUTDOWN_DRAIN_TIMEOUT_MS: envInt(0)
    .default(70000)
    .describe(
      "On SIGTERM, how long (ms) to wait for parked polls (up to 60 s each) to return and be enqueued. Set the orchestrator's grace period above it.",
    ),
  BULL_BOARD_ENABLED: envBool().default(true).describe('Serve Bull Board (every binding queue).'),
  BULL_BOARD_BASE_PATH: z
    .string()
    .trim()
    .regex(/^(\/[A-Za-z0-9._~-]+)+$/, { error: 'must be a path such as /queues (leading slash, no trailing slash)' })
    .refine((v) => !/^\/(health|metrics)(\/|$)/.test(v), { error: 'must not overlap /health or /metrics' })
    .default('/queues')
    .describe('URL path of Bull Board.'),
  BULL_BOARD_USER: z
    .string()
    .trim()
    .min(1)
    .refine((v) => !v.includes(':'), { error: 'must not contain ":" (basic auth)' })
    .default('admin')
    .describe('Basic-auth user of Bull Board (used only when a password is set).'),
  BULL_BOARD_PASSWORD: z
    .string()
    .optional()
    .describe('Basic-auth password of Bull Board; without it the board is open. Secret: never logged.')
    .meta(meta({ defaultLabel: 'unset (no auth)', secret: true })),
  LOG_LEVEL: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(LOG_LEVELS))
    .default('info')
    .describe(`Log level: ${LOG_LEVELS.join(', ')}. Logs are JSON lines (pino); \`debug\` and \`trace\` also log every HTTP request.`),
  LOG_PAYLOADS: envBool().default(false).describe('Log task input and output (debug only; they may hold personal data).'),
});

export type EnvKey = keyof typeof envSchema.shape;
export type ParsedEnv = z.output<typeof envSchema>;

export const ENV_KEYS = Object.keys(envSchema.shape) as EnvKey[];

export function envFieldMeta(key: EnvKey): EnvFieldMeta & { description?: string } {
  return (envSchema.shape[key].meta() ?? {}) as EnvFieldMeta & { description?: string };
}
