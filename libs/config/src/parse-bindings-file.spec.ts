import { ConfigError } from './config.error';
import { TaskKeys } from '@bridge/queue';
import { BRIDGE_NAMESPACE, parseBindingsFile } from './parse-bindings-file';

const ARN = 'arn:aws:states:us-east-1:123456789012:activity:charge-card';
const ARN2 = 'arn:aws:states:us-east-1:123456789012:activity:refund';
const DEFAULTS = { heartbeatSeconds: 20 };

function issuesOf(text: string, fileName = 'bindings.yaml', defaults: { heartbeatSeconds: number } = DEFAULTS): string[] {
  try {
    parseBindingsFile(text, fileName, defaults);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected parseBindingsFile to throw a ConfigError');
}

const yamlBinding = (extra: string, arn = ARN) => `bindings:\n  - activityArn: ${arn}\n    queue: payments\n${extra}`;

describe('parseBindingsFile', () => {
  it('parses the full YAML example with every option', () => {
    const text = `
bindings:
  - activityArn: ${ARN}
    queue: payments
    jobName: charge
    pollers: 8
    maxPending: 200
    attempts: 3
    backoff: { type: exponential, delay: 1000 }
    heartbeatSeconds: 30
    jobOptions: { priority: 5, removeOnComplete: 1000, removeOnFail: false }
  - activityArn: ${ARN2}
    queue: payments
`;
    expect(parseBindingsFile(text, 'bindings.yaml', { heartbeatSeconds: 15 })).toEqual([
      {
        name: 'charge-card',
        activityArn: ARN,
        queue: 'payments',
        jobName: 'charge',
        pollers: 8,
        minPollers: 8,
        maxPending: 200,
        attempts: 3,
        backoff: { type: 'exponential', delay: 1000 },
        heartbeatSeconds: 30,
        jobOptions: { priority: 5, removeOnComplete: 1000, removeOnFail: false },
      },
      {
        name: 'refund',
        activityArn: ARN2,
        queue: 'payments',
        jobName: 'refund',
        pollers: 4,
        minPollers: 4,
        maxPending: 100,
        attempts: 1,
        heartbeatSeconds: 15,
        jobOptions: {},
      },
    ]);
  });

  it('parses JSON, by the .json extension and by content', () => {
    const json = JSON.stringify({ bindings: [{ activityArn: ARN, queue: 'q', pollers: 2, backoff: { type: 'fixed', delay: 0 } }] });
    for (const name of ['bindings.json', 'bindings.conf', 'BRIDGE_BINDINGS']) {
      const [binding] = parseBindingsFile(json, name, DEFAULTS);
      expect(binding).toMatchObject({ name: 'charge-card', queue: 'q', pollers: 2, backoff: { type: 'fixed', delay: 0 } });
    }
  });

  it('accepts a .yml file and a UTF-8 byte order mark', () => {
    expect(parseBindingsFile(`\uFEFF${yamlBinding('')}`, 'b.yml', DEFAULTS)).toHaveLength(1);
  });

  it('lets several bindings share a queue', () => {
    const text = `bindings:\n  - { activityArn: ${ARN}, queue: shared }\n  - { activityArn: ${ARN2}, queue: shared }\n`;
    expect(parseBindingsFile(text, 'b.yaml', DEFAULTS).map((b) => b.queue)).toEqual(['shared', 'shared']);
  });

  it('names both indexes of a duplicate activity ARN', () => {
    const text = `bindings:\n  - { activityArn: ${ARN}, queue: a }\n  - { activityArn: ${ARN2}, queue: b }\n  - { activityArn: ${ARN}, queue: c }\n`;
    const issues = issuesOf(text);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^bindings\[2\]\.activityArn: duplicate of bindings\[0\]\.activityArn/);
    expect(issues[0]).toContain(ARN);
  });

  it('names an unknown key and suggests the right one', () => {
    expect(issuesOf(yamlBinding('    polers: 3\n'))).toEqual(['bindings[0].polers: unknown key (did you mean "pollers"?)']);
  });

  it('names unknown keys at every level', () => {
    const text = `bindings:\n  - activityArn: ${ARN}\n    queue: q\n    backoff: { type: fixed, delay: 1, jitter: 0.5 }\n    jobOptions: { lifo: true }\nversion: 2\n`;
    expect(issuesOf(text)).toEqual([
      'bindings[0].backoff.jitter: unknown key',
      'bindings[0].jobOptions.lifo: unknown key',
      'version: unknown key',
    ]);
  });

  it('reads pollers: { min, max } as an autoscaled range, and a number as a fixed count', () => {
    const [ranged] = parseBindingsFile(yamlBinding('    pollers: { min: 2, max: 64 }\n'), 'b.yaml', DEFAULTS);
    const [fixed] = parseBindingsFile(yamlBinding('    pollers: 8\n'), 'b.yaml', DEFAULTS);
    expect([ranged, fixed].map((b) => [b.minPollers, b.pollers])).toEqual([
      [2, 64],
      [8, 8],
    ]);
  });

  it('names every problem of a pollers range', () => {
    expect(issuesOf(yamlBinding('    pollers: { min: 9, max: 4 }\n'))).toEqual(['bindings[0].pollers.min: must be <= max']);
    expect(issuesOf(yamlBinding('    pollers: { min: 1, max: 1001, mx: 3 }\n'))).toEqual(
      expect.arrayContaining([expect.stringContaining('bindings[0].pollers')]),
    );
  });

  it('names negative pollers with the value', () => {
    const text = `bindings:\n  - { activityArn: ${ARN}, queue: a }\n  - { activityArn: ${ARN2}, queue: b, pollers: -2 }\n`;
    expect(issuesOf(text)).toEqual(['bindings[1].pollers: must be >= 1 (got -2)']);
  });

  it.each([
    ['pollers: 1001', 'bindings[0].pollers: must be <= 1000 (got 1001)'],
    ['pollers: 2.5', 'bindings[0].pollers: must be an integer 1..1000 or { min, max } (got 2.5)'],
    ['pollers: "8"', 'bindings[0].pollers: must be an integer 1..1000 or { min, max } (got "8")'],
    ['maxPending: 0', 'bindings[0].maxPending: must be >= 1 (got 0)'],
    ['attempts: 101', 'bindings[0].attempts: must be <= 100 (got 101)'],
    ['heartbeatSeconds: 0', 'bindings[0].heartbeatSeconds: must be >= 1 (got 0)'],
    ['heartbeatSeconds: 86401', 'bindings[0].heartbeatSeconds: must be <= 86400 (got 86401)'],
    ['jobName: ""', 'bindings[0].jobName: must not be empty (got "")'],
    ['backoff: { type: linear, delay: 10 }', 'bindings[0].backoff.type: must be one of fixed, exponential (got "linear")'],
    ['backoff: { type: fixed, delay: -1 }', 'bindings[0].backoff.delay: must be >= 0 (got -1)'],
    ['backoff: { type: fixed }', 'bindings[0].backoff.delay: is required'],
    ['jobOptions: { priority: -1 }', 'bindings[0].jobOptions.priority: must be >= 0 (got -1)'],
    [
      'jobOptions: { removeOnFail: yes please }',
      'bindings[0].jobOptions.removeOnFail: must be true, false or a number of jobs to keep (integer >= 0) (got "yes please")',
    ],
  ])('names the key of a bad value: %s', (line, expected) => {
    expect(issuesOf(yamlBinding(`    ${line}\n`))).toEqual([expected]);
  });

  it('names a queue containing ":"', () => {
    expect(issuesOf(`bindings:\n  - { activityArn: ${ARN}, queue: "a:b" }\n`)).toEqual([
      'bindings[0].queue: must not contain ":" (BullMQ uses it in its Redis keys) (got "a:b")',
    ]);
  });

  it("refuses the bridge's own key namespace as a binding queue", () => {
    const issues = issuesOf(`bindings:\n  - { activityArn: ${ARN}, queue: sfn-bridge }\n`);
    expect(issues).toEqual(['bindings[0].queue: must differ from "sfn-bridge", the bridge\'s own key namespace']);
  });

  it('checks against the namespace the task records live under (TaskKeys)', () => {
    expect(new TaskKeys('p').record('id')).toBe(`p:${BRIDGE_NAMESPACE}:task:id`);
  });

  describe('activity ARN', () => {
    const arnIssue = (arn: string) => {
      const issues = issuesOf(`bindings:\n  - activityArn: "${arn}"\n    queue: q\n`);
      expect(issues).toHaveLength(1);
      expect(issues[0].startsWith('bindings[0].activityArn: ')).toBe(true);
      return issues[0];
    };

    it('refuses a wrong service', () => {
      expect(arnIssue('arn:aws:lambda:us-east-1:123456789012:activity:x')).toContain('service must be "states"');
    });
    it('refuses a state machine ARN', () => {
      expect(arnIssue('arn:aws:states:us-east-1:123456789012:stateMachine:x')).toContain('resource type must be "activity"');
    });
    it('refuses a missing name', () => {
      expect(arnIssue('arn:aws:states:us-east-1:123456789012:activity:')).toContain('missing the activity name');
      expect(arnIssue('arn:aws:states:us-east-1:123456789012:activity')).toContain('missing the activity name');
    });
    it('refuses an ARN over 256 characters', () => {
      expect(arnIssue(`arn:aws:states:us-east-1:123456789012:activity:${'a'.repeat(220)}`)).toContain('at most 256 characters (got 267)');
    });
    it('refuses a name over 80 characters or with other characters', () => {
      expect(arnIssue(`arn:aws:states:us-east-1:123456789012:activity:${'a'.repeat(81)}`)).toContain('activity name must be 1..80');
      expect(arnIssue('arn:aws:states:us-east-1:123456789012:activity:charge card')).toContain('activity name must be 1..80');
    });
    it('refuses a bad account, region or a non-ARN', () => {
      expect(arnIssue('arn:aws:states:us-east-1:12345:activity:x')).toContain('account must be 12 digits');
      expect(arnIssue('arn:aws:states:useast:123456789012:activity:x')).toContain('region must look like us-east-1');
      expect(arnIssue('charge-card')).toContain('not an activity ARN');
    });
    it('accepts other partitions and names made of every allowed character', () => {
      const arn = 'arn:aws-us-gov:states:us-gov-west-1:123456789012:activity:Az09_-x';
      expect(parseBindingsFile(`bindings:\n  - { activityArn: "${arn}", queue: q }\n`, 'b.yaml', DEFAULTS)[0].name).toBe('Az09_-x');
    });
    it('refuses a missing activityArn and queue', () => {
      expect(issuesOf('bindings:\n  - pollers: 2\n')).toEqual(['bindings[0].activityArn: is required', 'bindings[0].queue: is required']);
    });
  });

  describe('document shape', () => {
    it('refuses an empty document', () => {
      expect(issuesOf('# nothing\n', 'empty.yaml')).toEqual(['empty.yaml: is empty; expected a "bindings" list']);
    });
    it('refuses an empty bindings list', () => {
      expect(issuesOf('bindings: []\n')).toEqual(['bindings: must have at least 1 item (got a list)']);
    });
    it('refuses a bare list at the top level, naming the file', () => {
      expect(issuesOf(`- activityArn: ${ARN}\n  queue: q\n`, 'b.yaml')).toEqual(['b.yaml: must be a mapping (object) (got a list)']);
    });
  });

  describe('syntax errors', () => {
    it('reports a YAML syntax error with file name and line', () => {
      const text = `bindings:\n  - activityArn: ${ARN}\n    queue: [payments\n    pollers: 2\n`;
      const issues = issuesOf(text, '/etc/bridge/bindings.yaml');
      expect(issues.length).toBeGreaterThanOrEqual(1);
      expect(issues[0]).toMatch(/^\/etc\/bridge\/bindings\.yaml:\d+:\d+: invalid YAML: /);
      const line = Number(/yaml:(\d+):/.exec(issues[0])?.[1]);
      expect(line).toBeGreaterThanOrEqual(3);
      expect(line).toBeLessThanOrEqual(5);
    });

    it('reports a duplicate YAML key with its line', () => {
      const issues = issuesOf(`bindings:\n  - activityArn: ${ARN}\n    queue: a\n    queue: b\n`, 'dup.yaml');
      expect(issues[0]).toMatch(/^dup\.yaml:4:\d+: invalid YAML: .*unique/i);
    });

    it('reports a JSON syntax error with the file name and line', () => {
      const text = `{\n  "bindings": [\n    { "activityArn": "${ARN}", "queue": "q", }\n  ]\n}\n`;
      const issues = issuesOf(text, 'bindings.json');
      expect(issues).toHaveLength(1);
      expect(issues[0]).toMatch(/^bindings\.json:3:\d+: invalid JSON: /);
    });
  });

  it('throws a ConfigError whose header names the file', () => {
    expect(() => parseBindingsFile('bindings: []', 'x.yaml', DEFAULTS)).toThrow(
      /^Invalid bindings in x\.yaml \(1 problem\):\n {2}- bindings: must have/,
    );
  });
});
