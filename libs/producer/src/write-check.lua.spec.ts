import { BindingConfig, BridgeConfig } from '@bridge/config';
import { HeartbeatKeys } from '@bridge/heartbeat';
import { jobIdForToken } from '@bridge/queue';
import { FlowProducer } from 'bullmq';
import IORedis from 'ioredis';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../../../test/support/redis';
import { buildTaskFlow } from './task-flow';
import { relayJobKey } from './write-check';
import { WRITE_CHECK_SCRIPT } from './write-check.lua';

const binding = { name: 'pay', queue: 'pay-q', jobName: 'pay', attempts: 1, jobOptions: {} } as unknown as BindingConfig;
const config = { relay: { attempts: 1, backoffMs: 100 } } as BridgeConfig;

describe('the write-check script (real Redis, a real BullMQ flow)', () => {
  const prefix = uniquePrefix('wcheck');
  const schedule = new HeartbeatKeys(prefix).schedule;
  const redis = new IORedis(REDIS_URL);
  const flowConnection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  const flows = new FlowProducer({ connection: flowConnection, prefix });
  const check = (jobId: string) => redis.eval(WRITE_CHECK_SCRIPT, 2, relayJobKey(prefix, jobId), schedule, jobId);
  const write = async (token: string) => {
    const jobId = jobIdForToken(token);
    await flows.add(buildTaskFlow(config, binding, jobId, { taskToken: token, binding: 'pay', queue: 'pay-q', receivedAt: 1 }, {}));
    return jobId;
  };

  afterAll(async () => {
    await flows.close();
    await Promise.all([flowConnection.quit(), redis.quit()]);
    await cleanupPrefix(prefix);
  });

  it('finds a flow BullMQ wrote under the relay job key the producer reads back, echoing the job id first', async () => {
    const jobId = await write('token-written');
    expect(await check(jobId)).toEqual([jobId, 'unscheduled']);
    await redis.zadd(schedule, 'NX', Date.now(), jobId);
    expect(await check(jobId)).toEqual([jobId, 'written']);
  });

  it('answers missing when no flow landed, whatever the schedule holds', async () => {
    const jobId = jobIdForToken('token-lost');
    await redis.zadd(schedule, 'NX', Date.now(), jobId);
    expect(await check(jobId)).toEqual([jobId, 'missing']);
  });

  it('answers closed for a finished relay job whose schedule entry the relay removed', async () => {
    const jobId = await write('token-closed');
    await redis.hset(relayJobKey(prefix, jobId), 'finishedOn', Date.now());
    expect(await check(jobId)).toEqual([jobId, 'closed']);
  });
});
