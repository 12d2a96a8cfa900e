import { Logger } from '@nestjs/common';
import { BurstLog } from './burst-log';

describe('BurstLog', () => {
  it('logs the first failure of a burst and one recovery line, nothing in between', () => {
    const logger = { warn: jest.fn(), log: jest.fn() } as unknown as Logger;
    const burst = new BurstLog(logger, 'SendTaskSuccess');
    for (let i = 0; i < 100; i++) burst.failure('ThrottlingException');
    expect(burst.inBurst).toBe(true);
    burst.success();
    burst.success();
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn).toHaveBeenCalledWith('SendTaskSuccess failed: ThrottlingException');
    expect(logger.log).toHaveBeenCalledTimes(1);
    expect(logger.log).toHaveBeenCalledWith('SendTaskSuccess recovered after 100 failure(s)');
    expect(burst.inBurst).toBe(false);
  });
});
