import { SFNClient } from '@aws-sdk/client-sfn';
import { Job, Queue } from 'bullmq';
import { SfnLocal } from '../../apps/sfn-local/src';
import { BridgeFixture } from '../support/bridge-fixture';
import { createActivityMachine, startExecution, waitForExecution } from '../support/sfn';
import { waitFor } from '../support/wait-for';

/**
 * docs/design.md section 4: the SDK's NodeHttpHandler keeps 50 sockets per agent by default, and a
 * parked GetActivityTask holds one for the whole hold. With more parked polls than that, a
 * SendTaskSuccess sharing their pool would queue until a poll returns (here 30 s). The bridge
 * gives polls and callbacks separate pools, so a finished job is relayed at once.
 */

const POLLERS = 80;
const HOLD_SECONDS = 30;
const EXECUTIONS = 5;

describe('bridge with more parked polls than the SDK default socket pool', () => {
  let fx: BridgeFixture;
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let childQueue: Queue;
  let machine: Awaited<ReturnType<typeof createActivityMachine>>;

  beforeAll(async () => {
    // The emulator answers parked polls on close, so the bridge's drain need not wait 30 s.
    fx = await BridgeFixture.start({
      label: 'pools',
      binding: { pollers: POLLERS, maxPending: 500 },
      pollSeconds: HOLD_SECONDS,
      closeEmulatorFirst: true,
    });
    ({ sfnLocal, sfn, machine } = fx);
    fx.worker(async (job) => ({ done: job.data.n }), { concurrency: 8 });
    childQueue = fx.openQueue();
  });

  afterAll(() => fx?.close());

  it(`parks all ${POLLERS} polls at once (more than the SDK's 50 default sockets)`, async () => {
    await waitFor(() => sfnLocal.counters().parkedPollsByArn[machine.activityArn] === POLLERS, {
      timeoutMs: 15_000,
      message: `${POLLERS} parked polls`,
    });
  });

  it('relays each finished job within a second while the polls stay parked', async () => {
    expect(sfnLocal.counters().parkedPollsByArn[machine.activityArn]).toBe(POLLERS);
    const arns = await Promise.all(Array.from({ length: EXECUTIONS }, (_, n) => startExecution(sfn, machine.stateMachineArn, { n })));
    const executions = await Promise.all(arns.map((arn) => waitForExecution(sfn, arn, 10_000)));

    for (const [n, execution] of executions.entries()) {
      expect(execution.status).toBe('SUCCEEDED');
      expect(JSON.parse(execution.output!)).toEqual({ done: n });
      const [task] = sfnLocal.tasks({ executionArn: arns[n] });
      const job = await Job.fromId(childQueue, task.tokenHash!);
      // Job finished (worker, Redis clock of this machine) -> SendTaskSuccess accepted (emulator).
      const relayMs = task.closedAt! - job!.finishedOn!;
      expect(task.closeReason).toBe('succeeded');
      expect(relayMs).toBeGreaterThanOrEqual(0);
      expect(relayMs).toBeLessThan(1_000);
    }
    // No poll returned empty meanwhile: every relay happened inside one hold.
    expect(sfnLocal.counters().emptyPolls).toBe(0);
    expect(sfnLocal.counters().parkedPollsByArn[machine.activityArn]).toBe(POLLERS);
  });
});
