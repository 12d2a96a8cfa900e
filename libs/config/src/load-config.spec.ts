import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError } from './config.error';
import { defaultWorkerName, loadConfig } from './load-config';

const ARN = 'arn:aws:states:us-east-1:123456789012:activity:charge-card';
const MINIMAL_BINDINGS = `bindings:\n  - activityArn: ${ARN}\n    queue: payments\n`;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-config-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeFile(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe('loadConfig', () => {
  it('applies every default when only the bindings are given', () => {
    const config = loadConfig({ BRIDGE_BINDINGS: MINIMAL_BINDINGS });
    expect(config).toEqual({
      port: 3000,
      redis: { mode: 'standalone', url: 'redis://127.0.0.1:6379', prefix: 'bull' },
      aws: { region: 'us-east-1' },
      workerName: defaultWorkerName(),
      relay: { concurrency: 32, attempts: 10, backoffMs: 1000 },
      heartbeat: { defaultSeconds: 20, ratePerSecond: 100, progressMinIntervalMs: 5000 },
      enqueue: { retryForMs: 30000 },
      shutdown: { drainTimeoutMs: 70000 },
      board: { enabled: true, basePath: '/queues', user: 'admin' },
      log: { level: 'info', payloads: false },
      bindings: [
        {
          name: 'charge-card',
          activityArn: ARN,
          queue: 'payments',
          jobName: 'charge-card',
          pollers: 4,
          minPollers: 4,
          maxPending: 100,
          attempts: 1,
          heartbeatSeconds: 20,
          jobOptions: {},
        },
      ],
    });
    expect(config.board).not.toHaveProperty('password');
    expect(config.aws).not.toHaveProperty('endpoint');
  });

  it('uses every env override', () => {
    const file = writeFile('all.yaml', MINIMAL_BINDINGS);
    const config = loadConfig({
      BRIDGE_CONFIG: file,
      PORT: '8080',
      REDIS_URL: 'rediss://user:pw@redis.example:6380/2',
      BULLMQ_PREFIX: 'myapp',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:8083',
      WORKER_NAME: 'bridge-a',
      RELAY_CONCURRENCY: '64',
      RELAY_ATTEMPTS: '5',
      RELAY_BACKOFF_MS: '250',
      HEARTBEAT_DEFAULT_SECONDS: '45',
      HEARTBEAT_RATE_PER_SECOND: '300',
      HEARTBEAT_PROGRESS_MIN_INTERVAL_MS: '1000',
      ENQUEUE_RETRY_FOR_MS: '5000',
      SHUTDOWN_DRAIN_TIMEOUT_MS: '90000',
      BULL_BOARD_ENABLED: 'false',
      BULL_BOARD_BASE_PATH: '/admin/queues',
      BULL_BOARD_USER: 'ops',
      BULL_BOARD_PASSWORD: 'correct horse',
      LOG_LEVEL: 'DEBUG',
      LOG_PAYLOADS: 'yes',
    });
    expect(config).toMatchObject({
      port: 8080,
      redis: { mode: 'standalone', url: 'rediss://user:pw@redis.example:6380/2', prefix: 'myapp' },
      aws: { region: 'eu-west-1', endpoint: 'http://127.0.0.1:8083' },
      workerName: 'bridge-a',
      relay: { concurrency: 64, attempts: 5, backoffMs: 250 },
      heartbeat: { defaultSeconds: 45, ratePerSecond: 300, progressMinIntervalMs: 1000 },
      enqueue: { retryForMs: 5000 },
      shutdown: { drainTimeoutMs: 90000 },
      board: { enabled: false, basePath: '/admin/queues', user: 'ops', password: 'correct horse' },
      log: { level: 'debug', payloads: true },
    });
    // HEARTBEAT_DEFAULT_SECONDS is the default of bindings without heartbeatSeconds
    expect(config.bindings[0].heartbeatSeconds).toBe(45);
  });

  it('falls back to AWS_DEFAULT_REGION, and prefers AWS_REGION over it', () => {
    expect(loadConfig({ BRIDGE_BINDINGS: MINIMAL_BINDINGS, AWS_DEFAULT_REGION: 'ap-south-1' }).aws.region).toBe('ap-south-1');
    expect(loadConfig({ BRIDGE_BINDINGS: MINIMAL_BINDINGS, AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'nonsense' }).aws.region).toBe(
      'us-west-2',
    );
  });

  it('treats blank env values as unset', () => {
    const config = loadConfig({ BRIDGE_BINDINGS: MINIMAL_BINDINGS, PORT: '', LOG_LEVEL: '  ', BULL_BOARD_PASSWORD: '' });
    expect(config.port).toBe(3000);
    expect(config.log.level).toBe('info');
    expect(config.board.password).toBeUndefined();
  });

  it('prefers BRIDGE_CONFIG over BRIDGE_BINDINGS', () => {
    const file = writeFile('prefer.json', JSON.stringify({ bindings: [{ activityArn: ARN, queue: 'from-file' }] }));
    const config = loadConfig({ BRIDGE_CONFIG: file, BRIDGE_BINDINGS: MINIMAL_BINDINGS });
    expect(config.bindings[0].queue).toBe('from-file');
  });

  it.each([
    ['PORT', 'abc', 'PORT: must be an integer (got "abc")'],
    ['PORT', '70000', 'PORT: must be <= 65535 (got 70000)'],
    ['PORT', '3000.5', 'PORT: must be an integer'],
    ['REDIS_URL', 'http://127.0.0.1:6379', 'REDIS_URL: not a redis:// or rediss:// URL'],
    ['REDIS_URL', 'not a url', 'REDIS_URL: not a redis:// or rediss:// URL'],
    ['AWS_REGION', 'mars', 'AWS_REGION: must be an AWS region'],
    ['AWS_ENDPOINT_URL_SFN', 'localhost:8083', 'AWS_ENDPOINT_URL_SFN: not an http:// or https:// URL'],
    ['RELAY_CONCURRENCY', '0', 'RELAY_CONCURRENCY: must be >= 1 (got 0)'],
    ['RELAY_ATTEMPTS', 'ten', 'RELAY_ATTEMPTS: must be an integer'],
    ['RELAY_BACKOFF_MS', '-1', 'RELAY_BACKOFF_MS: must be >= 0 (got -1)'],
    ['HEARTBEAT_DEFAULT_SECONDS', '86401', 'HEARTBEAT_DEFAULT_SECONDS: must be <= 86400'],
    ['HEARTBEAT_RATE_PER_SECOND', '0', 'HEARTBEAT_RATE_PER_SECOND: must be >= 1'],
    ['HEARTBEAT_PROGRESS_MIN_INTERVAL_MS', '1e3', 'HEARTBEAT_PROGRESS_MIN_INTERVAL_MS: must be an integer'],
    ['ENQUEUE_RETRY_FOR_MS', 'soon', 'ENQUEUE_RETRY_FOR_MS: must be an integer'],
    ['SHUTDOWN_DRAIN_TIMEOUT_MS', '-5', 'SHUTDOWN_DRAIN_TIMEOUT_MS: must be >= 0'],
    ['BULL_BOARD_ENABLED', 'maybe', 'BULL_BOARD_ENABLED: must be true or false'],
    ['BULL_BOARD_BASE_PATH', 'queues/', 'BULL_BOARD_BASE_PATH: must be a path such as /queues'],
    ['BULL_BOARD_BASE_PATH', '/metrics', 'BULL_BOARD_BASE_PATH: must not overlap /health or /metrics'],
    ['BULL_BOARD_USER', 'a:b', 'BULL_BOARD_USER: must not contain ":"'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")'],
    ['LOG_PAYLOADS', 'sure', 'LOG_PAYLOADS: must be true or false'],
    ['WORKER_NAME', 'w'.repeat(81), 'WORKER_NAME: must be at most 80 characters'],
  ])('names %s when it is %j', (key, value, expected) => {
    const err = configError({ BRIDGE_BINDINGS: MINIMAL_BINDINGS, [key]: value });
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0].startsWith(expected)).toBe(true);
    expect(err.message).toContain(expected);
  });

  it('reports env and bindings problems together, one per line', () => {
    const err = configError({
      PORT: 'abc',
      LOG_LEVEL: 'loud',
      BRIDGE_BINDINGS: `bindings:\n  - activityArn: ${ARN}\n    queue: q\n    pollers: -2\n`,
    });
    expect(err.issues).toEqual([
      'PORT: must be an integer (got "abc")',
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
      'bindings[0].pollers: must be >= 1 (got -2)',
    ]);
    const lines = err.message.split('\n');
    expect(lines[0]).toBe('Invalid configuration, bindings from BRIDGE_BINDINGS (3 problems):');
    expect(lines.slice(1)).toEqual(err.issues.map((i) => `  - ${i}`));
    expect(err.name).toBe('ConfigError');
    expect(err).toBeInstanceOf(Error);
  });

  it('names BRIDGE_CONFIG when the file does not exist', () => {
    const missing = path.join(dir, 'nope.yaml');
    expect(configError({ BRIDGE_CONFIG: missing }).issues).toEqual([`BRIDGE_CONFIG: file not found: ${missing}`]);
  });

  it('shows the resolved path of a missing relative BRIDGE_CONFIG', () => {
    const [issue] = configError({ BRIDGE_CONFIG: 'config/missing.yaml' }).issues;
    expect(issue).toBe(`BRIDGE_CONFIG: file not found: config/missing.yaml (${path.resolve('config/missing.yaml')})`);
  });

  it('names BRIDGE_CONFIG when it points at a directory', () => {
    expect(configError({ BRIDGE_CONFIG: dir }).issues[0]).toMatch(/^BRIDGE_CONFIG: is a directory/);
  });

  it('names BRIDGE_CONFIG when neither BRIDGE_CONFIG nor BRIDGE_BINDINGS is set', () => {
    const err = configError({});
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toMatch(/^BRIDGE_CONFIG: not set/);
    expect(err.issues[0]).toContain('BRIDGE_BINDINGS');
  });

  it('still validates the env when the bindings file is missing', () => {
    const err = configError({ BRIDGE_CONFIG: path.join(dir, 'gone.yaml'), PORT: 'x' });
    expect(err.issues.map((i) => i.split(':')[0])).toEqual(['PORT', 'BRIDGE_CONFIG']);
  });

  it("refuses a binding on the bridge's own key namespace sfn-bridge", () => {
    const err = configError({ BRIDGE_BINDINGS: `bindings:\n  - activityArn: ${ARN}\n    queue: sfn-bridge\n` });
    expect(err.issues).toEqual(['bindings[0].queue: must differ from "sfn-bridge", the bridge\'s own key namespace']);
  });

  it('no longer reads RELAY_QUEUE nor LOG_PRETTY (the relay queue name is fixed; logs are always JSON)', () => {
    const config = loadConfig({ BRIDGE_BINDINGS: MINIMAL_BINDINGS, RELAY_QUEUE: 'relay:x', LOG_PRETTY: '2' });
    expect(config.relay).not.toHaveProperty('queue');
    expect(config.log).toEqual({ level: 'info', payloads: false });
  });

  describe('secrets', () => {
    const PASSWORD = 'S3cr3t-p4ssw0rd';

    it('shows a bad REDIS_URL only redacted', () => {
      const err = configError({ BRIDGE_BINDINGS: MINIMAL_BINDINGS, REDIS_URL: `http://:${PASSWORD}@redis:6379` });
      expect(err.issues).toEqual(['REDIS_URL: not a redis:// or rediss:// URL (got "http://:***@redis:6379")']);
      expect(err.message).not.toContain(PASSWORD);
      expect(JSON.stringify(err)).not.toContain(PASSWORD);
    });

    it('redacts a password even in a URL that does not parse', () => {
      const err = configError({ BRIDGE_BINDINGS: MINIMAL_BINDINGS, REDIS_URL: `redis:/user:${PASSWORD}@redis` });
      expect(err.issues[0]).toMatch(/^REDIS_URL: /);
      expect(err.message).not.toContain(PASSWORD);
    });

    it('never shows BULL_BOARD_PASSWORD, even when other keys are wrong', () => {
      const err = configError({
        BRIDGE_BINDINGS: `bindings:\n  - activityArn: ${ARN}\n    queue: ${PASSWORD}:x\n`,
        BULL_BOARD_PASSWORD: PASSWORD,
        BULL_BOARD_USER: `${PASSWORD}:`,
        REDIS_URL: `ftp://${PASSWORD}@h`,
      });
      expect(err.issues.length).toBeGreaterThanOrEqual(3);
      expect(err.message).not.toContain(PASSWORD);
      for (const issue of err.issues) expect(issue).not.toContain(PASSWORD);
    });
  });

  describe('workerName', () => {
    it('defaults to <hostname>-<pid>', () => {
      expect(defaultWorkerName('bridge-7f9c', 4242)).toBe('bridge-7f9c-4242');
      expect(loadConfig({ BRIDGE_BINDINGS: MINIMAL_BINDINGS }).workerName).toBe(`${os.hostname()}-${process.pid}`.slice(0, 80));
    });

    it('cuts a long hostname so the whole fits 80 characters and keeps the pid', () => {
      const name = defaultWorkerName('h'.repeat(200), 123456);
      expect(name).toHaveLength(80);
      expect(name.endsWith('-123456')).toBe(true);
    });

    it('truncates the default taken from os.hostname()', () => {
      // the module object itself: `import * as os` yields a frozen namespace copy
      const osModule = require('os') as typeof os;
      const spy = jest.spyOn(osModule, 'hostname').mockReturnValue('x'.repeat(100));
      try {
        const { workerName } = loadConfig({ BRIDGE_BINDINGS: MINIMAL_BINDINGS });
        expect(workerName).toHaveLength(80);
        expect(workerName).toBe(`${'x'.repeat(80 - `-${process.pid}`.length)}-${process.pid}`);
      } finally {
        spy.mockRestore();
      }
    });

    it('falls back to "bridge" when the hostname is empty', () => {
      expect(defaultWorkerName('', 7)).toBe('bridge-7');
    });
  });
});
