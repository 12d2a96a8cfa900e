import { IncidentLog } from './incident-log';

function setup(opts = { quietMs: 10_000, summaryEveryMs: 60_000 }) {
  const lines: string[] = [];
  const logger = { warn: (m: string) => lines.push(`warn ${m}`), log: (m: string) => lines.push(`log ${m}`) };
  return { lines, log: new IncidentLog(logger, 'Polling b1', { ...opts, now: () => Date.now() }) };
}

describe('IncidentLog', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('logs 10 % failures amid successes for 60 s as one start line and one summary, not a line per failure', () => {
    const { lines, log } = setup();
    // 8 outcomes per second for 60 s, every tenth a failure.
    for (let i = 0; i < 480; i++) {
      if (i % 10 === 3) log.failure('ThrottlingException: Rate exceeded', 'ThrottlingException');
      else log.success();
      jest.advanceTimersByTime(125);
    }
    jest.advanceTimersByTime(500); // the summary is due a minute after the first failure
    expect(lines).toEqual([
      'warn Polling b1 failed: ThrottlingException: Rate exceeded',
      'warn Polling b1 still failing: 48 failure(s) in the last 60 s (48 × ThrottlingException in 1 min); last: ThrottlingException: Rate exceeded',
    ]);
    expect(log.open).toBe(true);
  });

  it('ends only after quietMs without failures and a success since the last one', () => {
    const { lines, log } = setup();
    log.failure('ECONNREFUSED');
    log.success();
    jest.advanceTimersByTime(9_000);
    log.failure('ECONNREFUSED'); // a failure inside the quiet window restarts it
    jest.advanceTimersByTime(9_999);
    expect(log.open).toBe(true);
    jest.advanceTimersByTime(1); // 10 s after the last failure, but no success since it
    expect(log.open).toBe(true);
    log.success();
    expect(lines.filter((l) => l.startsWith('log'))).toEqual([]);
    jest.advanceTimersByTime(0);
    expect(lines).toEqual([
      'warn Polling b1 failed: ECONNREFUSED',
      'log Polling b1 recovered: 2 × ECONNREFUSED over 9 s, none in the last 10 s',
    ]);
    expect(log.open).toBe(false);
  });

  it('logs a new cause once when it first appears, and counts each cause in the summary', () => {
    const { lines, log } = setup();
    log.failure('ThrottlingException: slow down', 'ThrottlingException');
    log.failure('ThrottlingException: slow down', 'ThrottlingException');
    log.failure('ServiceUnavailable: 503', 'ServiceUnavailable');
    log.failure('ServiceUnavailable: 503', 'ServiceUnavailable');
    jest.advanceTimersByTime(60_000);
    expect(lines).toEqual([
      'warn Polling b1 failed: ThrottlingException: slow down',
      'warn Polling b1 also failed: ServiceUnavailable: 503',
      'warn Polling b1 still failing: 4 failure(s) in the last 60 s (2 × ThrottlingException, 2 × ServiceUnavailable in 1 min); last: ServiceUnavailable: 503',
    ]);
  });

  it('writes no summary for a minute without failures, and at most one a minute', () => {
    const { lines, log } = setup();
    log.failure('down');
    for (let i = 0; i < 300; i++) {
      log.failure('down');
      jest.advanceTimersByTime(1_000); // 5 minutes of one failure a second
    }
    expect(lines.filter((l) => l.includes('still failing'))).toHaveLength(5);
    jest.advanceTimersByTime(120_000); // quiet, but no success: still open, no summary
    expect(lines.filter((l) => l.includes('still failing'))).toHaveLength(5);
    expect(log.open).toBe(true);
  });

  it('groups failures by the first word of the detail by default (a token reference does not make a new cause)', () => {
    const { lines, log } = setup();
    log.failure('ThrottlingException for task ab12cd; retrying');
    log.failure('ThrottlingException for task ef34gh; retrying');
    expect(lines).toEqual(['warn Polling b1 failed: ThrottlingException for task ab12cd; retrying']);
  });

  it('dispose() clears its timers without a line', () => {
    const { lines, log } = setup();
    log.failure('down');
    log.dispose();
    expect(jest.getTimerCount()).toBe(0);
    expect(log.open).toBe(false);
    expect(lines).toHaveLength(1);
  });
});
