import type { EnvKey, ParsedEnv } from './env.schema';
import { redactUrl } from './redact-url';

/**
 * Which Redis the bridge talks to and how: one node (`REDIS_URL`), a Redis Cluster
 * (`REDIS_CLUSTER_NODES`) or a Sentinel-managed primary (`REDIS_SENTINELS`). The checks that span
 * several env keys live here (one mode only, Sentinel name, hash-tagged prefix in cluster mode,
 * credentials only where they apply); libs/queue turns the target into ioredis clients.
 */

export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** ACL user and password (AUTH); both optional. */
export interface RedisAuth {
  username?: string;
  password?: string;
}

export type RedisTarget =
  | { mode: 'standalone'; url: string }
  | { mode: 'cluster'; nodes: RedisNodeAddress[]; auth: RedisAuth; tls: boolean }
  | {
      mode: 'sentinel';
      sentinels: RedisNodeAddress[];
      /** Master group name. */
      name: string;
      /** Of the data nodes (the primary and its replicas). */
      auth: RedisAuth;
      tls: boolean;
      /** Of the Sentinels themselves. */
      sentinelAuth: RedisAuth;
      sentinelTls: boolean;
    };

const MODE_KEYS = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const satisfies readonly EnvKey[];
const DATA_NODE_KEYS = ['REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_TLS'] as const satisfies readonly EnvKey[];
const SENTINEL_ONLY_KEYS = [
  'REDIS_SENTINEL_NAME',
  'REDIS_SENTINEL_USERNAME',
  'REDIS_SENTINEL_PASSWORD',
  'REDIS_SENTINEL_TLS',
] as const satisfies readonly EnvKey[];

/**
 * The hash tag of a key prefix, as Redis Cluster reads it (the text between the first `{` and the
 * first `}` after it, if not empty), or undefined when the prefix has none.
 */
export function hashTagOf(prefix: string): string | undefined {
  const open = prefix.indexOf('{');
  if (open === -1) return undefined;
  const close = prefix.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return undefined;
  return prefix.slice(open + 1, close);
}

/**
 * The target named by the env keys that were set (`set`) and their parsed values (`e`, possibly
 * partial when other keys failed to parse), with one problem per wrong combination.
 */
export function resolveRedisTarget(set: ReadonlySet<EnvKey>, e: Partial<ParsedEnv>): { target?: RedisTarget; issues: string[] } {
  const issues: string[] = [];
  const modes = MODE_KEYS.filter((k) => set.has(k));
  if (modes.length > 1) {
    issues.push(
      `${modes.join(', ')}: set only one of REDIS_URL (one node), REDIS_CLUSTER_NODES (Redis Cluster), REDIS_SENTINELS (Sentinel)`,
    );
    return { issues }; // which keys belong to the mode depends on the one that is meant
  }
  const mode = set.has('REDIS_CLUSTER_NODES') ? 'cluster' : set.has('REDIS_SENTINELS') ? 'sentinel' : 'standalone';

  if (mode === 'standalone') {
    for (const key of DATA_NODE_KEYS.filter((k) => set.has(k))) {
      issues.push(
        `${key}: only used with REDIS_CLUSTER_NODES or REDIS_SENTINELS; with REDIS_URL put ` +
          (key === 'REDIS_TLS' ? 'rediss:// in the URL' : 'the credentials in the URL (redis://user:password@host:port)'),
      );
    }
  }
  if (mode !== 'sentinel') {
    for (const key of SENTINEL_ONLY_KEYS.filter((k) => set.has(k))) issues.push(`${key}: only used with REDIS_SENTINELS`);
  } else if (!set.has('REDIS_SENTINEL_NAME')) {
    issues.push('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the master group name of `sentinel monitor <name> ...`)');
  }
  if (mode === 'cluster' && e.BULLMQ_PREFIX !== undefined && hashTagOf(e.BULLMQ_PREFIX) === undefined) {
    issues.push(
      `BULLMQ_PREFIX: must contain a hash tag with REDIS_CLUSTER_NODES (got ${JSON.stringify(e.BULLMQ_PREFIX)}), so that every key ` +
        `of a queue and of a task's flow hashes to one slot; use e.g. BULLMQ_PREFIX={bull}, and the same prefix in your consumers`,
    );
  }
  if (issues.length > 0) return { issues };

  const auth = pickAuth(e.REDIS_USERNAME, e.REDIS_PASSWORD);
  if (mode === 'cluster') {
    if (!e.REDIS_CLUSTER_NODES) return { issues };
    return { target: { mode, nodes: e.REDIS_CLUSTER_NODES, auth, tls: e.REDIS_TLS ?? false }, issues };
  }
  if (mode === 'sentinel') {
    if (!e.REDIS_SENTINELS || !e.REDIS_SENTINEL_NAME) return { issues };
    return {
      target: {
        mode,
        sentinels: e.REDIS_SENTINELS,
        name: e.REDIS_SENTINEL_NAME,
        auth,
        tls: e.REDIS_TLS ?? false,
        sentinelAuth: pickAuth(e.REDIS_SENTINEL_USERNAME, e.REDIS_SENTINEL_PASSWORD),
        sentinelTls: e.REDIS_SENTINEL_TLS ?? false,
      },
      issues,
    };
  }
  if (e.REDIS_URL === undefined) return { issues };
  return { target: { mode, url: e.REDIS_URL }, issues };
}

/** For logs and /health: where the bridge connects, never with a secret. */
export function describeRedisTarget(target: RedisTarget): string {
  const list = (nodes: RedisNodeAddress[]) =>
    nodes.map((n) => (n.host.includes(':') ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`)).join(',');
  switch (target.mode) {
    case 'standalone':
      return redactUrl(target.url);
    case 'cluster':
      return `Redis Cluster ${list(target.nodes)}${target.tls ? ' (TLS)' : ''}`;
    case 'sentinel':
      return `Sentinel master "${target.name}" via ${list(target.sentinels)}${target.tls ? ' (TLS)' : ''}`;
  }
}

function pickAuth(username?: string, password?: string): RedisAuth {
  const auth: RedisAuth = {};
  if (username !== undefined) auth.username = username;
  if (password !== undefined) auth.password = password;
  return auth;
}
