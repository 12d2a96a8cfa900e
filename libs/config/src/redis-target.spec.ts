import { ConfigError } from './config.error';
import { loadConfig } from './load-config';
import { describeRedisTarget, hashTagOf } from './redis-target';

const BINDINGS = 'bindings:\n  - activityArn: arn:aws:states:us-east-1:123456789012:activity:charge-card\n    queue: payments\n';

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig({ BRIDGE_BINDINGS: BINDINGS, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe('Redis target (REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS)', () => {
  it('selects a Cluster from its seed nodes, with credentials and TLS', () => {
    const config = loadConfig({
      BRIDGE_BINDINGS: BINDINGS,
      REDIS_CLUSTER_NODES: 'redis-1.example:6379, 10.0.0.2:7000,[::1]:7001',
      BULLMQ_PREFIX: '{bridge}',
      REDIS_USERNAME: 'bridge',
      REDIS_PASSWORD: 's3cret-pw',
      REDIS_TLS: 'true',
    });
    expect(config.redis).toEqual({
      mode: 'cluster',
      prefix: '{bridge}',
      nodes: [
        { host: 'redis-1.example', port: 6379 },
        { host: '10.0.0.2', port: 7000 },
        { host: '::1', port: 7001 },
      ],
      auth: { username: 'bridge', password: 's3cret-pw' },
      tls: true,
    });
    expect(describeRedisTarget(config.redis)).toBe('Redis Cluster redis-1.example:6379,10.0.0.2:7000,[::1]:7001 (TLS)');
  });

  it('selects Sentinel with its master name and separate Sentinel credentials', () => {
    const config = loadConfig({
      BRIDGE_BINDINGS: BINDINGS,
      REDIS_SENTINELS: 's1:26379,s2:26379',
      REDIS_SENTINEL_NAME: 'mymaster',
      REDIS_PASSWORD: 'data-pw',
      REDIS_SENTINEL_PASSWORD: 'sentinel-pw',
      REDIS_SENTINEL_TLS: 'yes',
    });
    expect(config.redis).toEqual({
      mode: 'sentinel',
      prefix: 'bull',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'mymaster',
      auth: { password: 'data-pw' },
      tls: false,
      sentinelAuth: { password: 'sentinel-pw' },
      sentinelTls: true,
    });
    expect(describeRedisTarget(config.redis)).toBe('Sentinel master "mymaster" via s1:26379,s2:26379');
  });

  it('refuses a cluster prefix without a hash tag, naming BULLMQ_PREFIX and the fix', () => {
    expect(problems({ REDIS_CLUSTER_NODES: '127.0.0.1:7000' })).toEqual([
      expect.stringMatching(/^BULLMQ_PREFIX: must contain a hash tag with REDIS_CLUSTER_NODES \(got "bull"\).*BULLMQ_PREFIX=\{bull\}/),
    ]);
    expect(problems({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', BULLMQ_PREFIX: 'app{}' })).toHaveLength(1);
  });

  it('refuses more than one mode, naming the keys', () => {
    expect(
      problems({
        REDIS_URL: 'redis://h:6379',
        REDIS_CLUSTER_NODES: 'h:7000',
        REDIS_SENTINELS: 'h:26379',
        REDIS_SENTINEL_NAME: 'm',
        BULLMQ_PREFIX: '{b}',
      }),
    ).toEqual([expect.stringMatching(/^REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS: set only one of/)]);
  });

  it('reports every wrong combination at once, without printing a password', () => {
    const issues = problems({ REDIS_SENTINELS: 'h:26379,nope', REDIS_PASSWORD: 'hunter2-secret', REDIS_SENTINEL_PASSWORD: 'other-secret' });
    expect(issues).toEqual([
      expect.stringMatching(/^REDIS_SENTINELS: entry 2 "nope" is not host:port/),
      expect.stringMatching(/^REDIS_SENTINEL_NAME: required with REDIS_SENTINELS/),
    ]);
    const url = problems({ REDIS_PASSWORD: 'hunter2-secret', REDIS_TLS: 'true', REDIS_SENTINEL_NAME: 'm' });
    expect(url).toEqual([
      expect.stringMatching(
        /^REDIS_PASSWORD: only used with REDIS_CLUSTER_NODES or REDIS_SENTINELS; with REDIS_URL put the credentials in the URL/,
      ),
      expect.stringMatching(/^REDIS_TLS: .*rediss:\/\//),
      'REDIS_SENTINEL_NAME: only used with REDIS_SENTINELS',
    ]);
    expect(JSON.stringify([issues, url])).not.toMatch(/hunter2|other-secret/);
  });

  it('keeps REDIS_URL alone working as before', () => {
    expect(loadConfig({ BRIDGE_BINDINGS: BINDINGS, REDIS_URL: 'redis://:pw@h:6380/1' }).redis).toEqual({
      mode: 'standalone',
      url: 'redis://:pw@h:6380/1',
      prefix: 'bull',
    });
  });

  it('reads hash tags as Redis Cluster does', () => {
    expect([hashTagOf('{bull}'), hashTagOf('app:{t1}:x'), hashTagOf('bull'), hashTagOf('{}x{y}'), hashTagOf('{open')]).toEqual([
      'bull',
      't1',
      undefined,
      undefined,
      undefined,
    ]);
  });
});
