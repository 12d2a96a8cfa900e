import { HealthIndicatorService } from '@nestjs/terminus';
import type { BridgeConfig } from '@bridge/config';
import type { BindingStatus, PollerService } from '@bridge/poller';
import { StepFunctionsHealthIndicator } from './step-functions.health';

const config = { aws: { region: 'eu-west-1' } } as BridgeConfig;

function indicator(statuses: Partial<BindingStatus>[]) {
  const poller = { status: () => statuses.map((s, i) => ({ binding: `b${i}`, noAnswerCount: 0, ...s })) } as unknown as PollerService;
  return new StepFunctionsHealthIndicator(new HealthIndicatorService(), poller, config);
}

const ago = (ms: number) => Date.now() - ms;

describe('StepFunctionsHealthIndicator', () => {
  it('is unknown, not up, while no poll has run (Redis down: polls wait) and none has been answered', () => {
    expect(indicator([{ parkedPolls: 0 }, { parkedPolls: 0 }]).check().stepFunctions).toMatchObject({
      status: 'unknown',
      lastAnswerAt: null,
      reason: expect.stringMatching(/^no poll has run yet/),
    });
  });

  it('is up before any poll has come back while one is parked (polls park up to 60 s)', () => {
    expect(indicator([{ parkedPolls: 1 }, { parkedPolls: 0 }]).check().stepFunctions).toEqual({
      status: 'up',
      endpoint: 'states.eu-west-1.amazonaws.com',
      lastAnswerAt: null,
    });
  });

  it('is up after a single unanswered poll, however long ago', () => {
    const result = indicator([{ noAnswerSince: ago(60_000), noAnswerCount: 1, lastError: 'ECONNRESET' }]).check();
    expect(result.stepFunctions.status).toBe('up');
  });

  it('is up while one binding still gets answers and another does not', () => {
    const answeredAt = ago(1_000);
    const result = indicator([
      { noAnswerSince: ago(30_000), noAnswerCount: 5, lastError: 'ETIMEDOUT' },
      { lastResponseAt: answeredAt },
    ]).check();
    expect(result.stepFunctions).toMatchObject({ status: 'up', lastAnswerAt: new Date(answeredAt).toISOString() });
  });

  it('is down, naming the errors and how long, when every binding has had no answer for 15 s', () => {
    const result = indicator([
      { noAnswerSince: ago(20_000), noAnswerCount: 3, lastError: 'ECONNREFUSED', lastResponseAt: ago(25_000) },
      { noAnswerSince: ago(16_000), noAnswerCount: 2, lastError: 'TimeoutError' },
    ]).check();
    expect(result.stepFunctions).toMatchObject({
      status: 'down',
      reason: 'Step Functions has not answered any poll for 20 s (ECONNREFUSED, TimeoutError)',
    });
  });

  it('is up while the unanswered polls span less than 15 s', () => {
    const result = indicator([{ noAnswerSince: ago(10_000), noAnswerCount: 4, lastError: 'ECONNREFUSED' }]).check();
    expect(result.stepFunctions.status).toBe('up');
  });
});
