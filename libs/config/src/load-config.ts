import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError } from './config.error';
import type { BindingConfig, BridgeConfig } from './config.types';
import { ENV_KEYS, envFieldMeta, envSchema, type EnvKey, type ParsedEnv } from './env.schema';
import { formatIssues, issueMessage, showValue } from './format-issues';
import { parseBindingsFile } from './parse-bindings-file';
import { redactUrl } from './redact-url';
import { resolveRedisTarget, type RedisTarget } from './redis-target';

const WORKER_NAME_MAX = 80;
const FALLBACK_HEARTBEAT_SECONDS = 20;

/**
 * Reads the bridge's configuration from `env` (default `process.env`) and the bindings document it
 * points to, validates all of it, and returns the typed config. Throws one `ConfigError` listing
 * every problem found (env and bindings together); never prints a secret.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  const issues: string[] = [];

  const picked = pickEnv(env);
  const parsedEnv = envSchema.safeParse(picked, { reportInput: true, error: issueMessage });
  if (!parsedEnv.success) {
    issues.push(...formatIssues(parsedEnv.error.issues, { show: showEnvValue }));
  }
  const envValues: Partial<ParsedEnv> = parsedEnv.success ? parsedEnv.data : {};
  const redis = resolveRedisTarget(new Set(Object.keys(picked) as EnvKey[]), envValues);
  issues.push(...redis.issues);

  const heartbeatSeconds = envValues.HEARTBEAT_DEFAULT_SECONDS ?? FALLBACK_HEARTBEAT_SECONDS;
  const source = readBindingsSource(env);
  let bindings: BindingConfig[] = [];
  if ('problem' in source) {
    issues.push(source.problem);
  } else {
    try {
      bindings = parseBindingsFile(source.text, source.name, { heartbeatSeconds });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      issues.push(...err.issues);
    }
  }

  if (issues.length > 0 || !parsedEnv.success || !redis.target) {
    const where = 'name' in source ? `, bindings from ${source.name}` : '';
    throw new ConfigError(scrubSecrets(issues, env), `Invalid configuration${where}`);
  }
  return toBridgeConfig(parsedEnv.data, redis.target, bindings);
}

/** `<hostname>-<pid>`, the hostname cut so that the whole fits Step Functions' 80 characters. */
export function defaultWorkerName(hostname: string = os.hostname(), pid: number = process.pid): string {
  const suffix = `-${pid}`;
  const host = hostname.slice(0, Math.max(0, WORKER_NAME_MAX - suffix.length)) || 'bridge';
  return `${host}${suffix}`.slice(0, WORKER_NAME_MAX);
}

/** Only the keys the schema knows; blank values count as unset. */
function pickEnv(env: NodeJS.ProcessEnv): Partial<Record<EnvKey, string>> {
  const picked: Partial<Record<EnvKey, string>> = {};
  for (const key of ENV_KEYS) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') picked[key] = value;
  }
  // AWS_DEFAULT_REGION is only a fallback: do not validate it when AWS_REGION is set.
  if (picked.AWS_REGION !== undefined) delete picked.AWS_DEFAULT_REGION;
  return picked;
}

function showEnvValue(key: string, value: unknown): string | null {
  if (!(ENV_KEYS as string[]).includes(key)) return showValue(value);
  const meta = envFieldMeta(key as EnvKey);
  if (meta.secret) return null;
  if (meta.redactUrl && typeof value === 'string') return showValue(redactUrl(value));
  return showValue(value);
}

type BindingsSource = { name: string; text: string } | { problem: string };

function readBindingsSource(env: NodeJS.ProcessEnv): BindingsSource {
  const file = env.BRIDGE_CONFIG?.trim();
  if (file) {
    const resolved = path.resolve(file);
    const shown = resolved === file ? file : `${file} (${resolved})`;
    try {
      return { name: file, text: fs.readFileSync(resolved, 'utf8') };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { problem: `BRIDGE_CONFIG: file not found: ${shown}` };
      if (code === 'EISDIR') return { problem: `BRIDGE_CONFIG: is a directory, not a file: ${shown}` };
      if (code === 'EACCES') return { problem: `BRIDGE_CONFIG: permission denied: ${shown}` };
      return { problem: `BRIDGE_CONFIG: cannot read ${shown}: ${code ?? (err as Error).message}` };
    }
  }
  const inline = env.BRIDGE_BINDINGS;
  if (inline !== undefined && inline.trim() !== '') return { name: 'BRIDGE_BINDINGS', text: inline };
  return {
    problem: 'BRIDGE_CONFIG: not set; point it at a bindings file (YAML or JSON), or put the bindings inline in BRIDGE_BINDINGS',
  };
}

/** Belt and braces: replace any secret value that might have slipped into a message. */
function scrubSecrets(issues: string[], env: NodeJS.ProcessEnv): string[] {
  const secrets = new Set<string>();
  const add = (s: string | undefined) => {
    if (s && s.length >= 4) secrets.add(s);
  };
  for (const key of ENV_KEYS.filter((k) => envFieldMeta(k).secret)) {
    add(env[key]);
    add(env[key]?.trim());
  }
  const redis = env.REDIS_URL;
  if (redis) {
    try {
      const u = new URL(redis.trim());
      add(u.password);
      add(safeDecode(u.password));
      if (!u.password) add(safeDecode(u.username));
    } catch {
      /* unparseable: only its redacted form is ever shown */
    }
  }
  return issues.map((issue) => {
    let out = issue;
    for (const s of secrets) out = out.split(s).join('***');
    return out;
  });
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function toBridgeConfig(e: ParsedEnv, target: RedisTarget, bindings: BindingConfig[]): BridgeConfig {
  const aws: BridgeConfig['aws'] = { region: e.AWS_REGION ?? e.AWS_DEFAULT_REGION ?? 'us-east-1' };
  if (e.AWS_ENDPOINT_URL_SFN !== undefined) aws.endpoint = e.AWS_ENDPOINT_URL_SFN;
  const board: BridgeConfig['board'] = {
    enabled: e.BULL_BOARD_ENABLED,
    basePath: e.BULL_BOARD_BASE_PATH,
    user: e.BULL_BOARD_USER,
  };
  if (e.BULL_BOARD_PASSWORD !== undefined) board.password = e.BULL_BOARD_PASSWORD;
  return {
    port: e.PORT,
    redis: { ...target, prefix: e.BULLMQ_PREFIX },
    aws,
    workerName: e.WORKER_NAME ?? defaultWorkerName(),
    relay: {
      concurrency: e.RELAY_CONCURRENCY,
      attempts: e.RELAY_ATTEMPTS,
      backoffMs: e.RELAY_BACKOFF_MS,
    },
    heartbeat: {
      defaultSeconds: e.HEARTBEAT_DEFAULT_SECONDS,
      ratePerSecond: e.HEARTBEAT_RATE_PER_SECOND,
      progressMinIntervalMs: e.HEARTBEAT_PROGRESS_MIN_INTERVAL_MS,
    },
    enqueue: { retryForMs: e.ENQUEUE_RETRY_FOR_MS },
    shutdown: { drainTimeoutMs: e.SHUTDOWN_DRAIN_TIMEOUT_MS },
    board,
    log: { level: e.LOG_LEVEL, payloads: e.LOG_PAYLOADS },
    bindings,
  };
}
