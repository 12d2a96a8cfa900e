/**
 * RelayService against real Redis: task records written and read by TaskRecords' scripts (claims,
 * leases in Redis time, the kept job end, closes that unschedule the task and acknowledge stream
 * entries), the real HeartbeatSchedule's keys, with Step Functions and metrics faked. Shows that
 * each job end is sent once, probed first when an earlier claim may have sent, retried after
 * transient errors, left alone when closed or held elsewhere, and that a claim that kept how the
 * job ended lets a later relay send that once the event and the job are gone. Concurrency, room()
 * and merging are in relay.service.slots.spec.ts; the shared setup in
 * test/support/relay-service-harness.ts.
 */
import { tombstoneMs } from '@bridge/queue';
import { CallbackResult, SfnErrorKind } from '@bridge/sfn';
import { waitFor } from '../../../test/support/wait-for';
import { AMBIGUOUS_SETTLE_MS, RELAY_LEASE_MS } from './relay-attempt';
import {
  BINDING,
  closeRelaySetups,
  closedEverywhere,
  deferred,
  failure,
  gone,
  OK,
  QUEUE,
  RETRY_FOR_MS,
  setup,
  throttled,
  TIMES,
} from '../../../test/support/relay-service-harness';

afterEach(closeRelaySetups);

describe('RelayService (real Redis)', () => {
  it('sends a first claim at once with the JSON output, no probe, and closes the task as relayed and unscheduled', async () => {
    const t = await setup();
    const { token, jobId } = await t.task(TIMES);
    const entry = await t.pendingEntry(jobId);
    await t.relayed(t.request(jobId, 'completed', { returnvalue: '{"answer":42}', entryIds: [entry], finishedAt: Date.now() - 1_000 }));

    expect(t.counts()).toEqual({ success: 1, failure: 0, heartbeat: 0 });
    const [sent] = t.of('success');
    expect(sent.token).toBe(token);
    expect(sent.args[0]).toBe('{"answer":42}');
    expect(sent.args[1]).toBeInstanceOf(AbortSignal);
    const closed = await t.record(jobId);
    expect({ closed: closed.closed, reason: closed.reason, token: closed.token, lease: closed.lease }).toEqual({
      closed: 'relayed',
      reason: 'success',
      token: undefined,
      lease: undefined,
    });
    const ttl = await t.redis.pttl(t.records.keys.record(jobId));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(tombstoneMs(RETRY_FOR_MS));
    expect(await t.afterClose(jobId)).toEqual(closedEverywhere(jobId, [{ binding: BINDING, outcome: 'success' }]));
    expect([...t.observed].sort()).toEqual(['endToEnd', 'processing', 'queueWait', 'relay']);
  });

  it('sends a failed job as SendTaskFailure named from the stack trace in the job hash, with its message', async () => {
    const t = await setup();
    const stacktrace = JSON.stringify(['RangeError: index 7 out of range\n    at pick (/app/worker.js:12:5)']);
    const { token, jobId } = await t.task({ ...TIMES, stacktrace, failedReason: 'index 7 out of range' });
    await t.relayed(t.request(jobId, 'failed', { failedReason: 'index 7 out of range' }));

    expect(t.counts()).toEqual({ success: 0, failure: 1, heartbeat: 0 });
    const [sent] = t.of('failure');
    expect([sent.token, sent.args[0], sent.args[1]]).toEqual([token, 'RangeError', 'index 7 out of range']);
    const closed = await t.record(jobId);
    expect([closed.closed, closed.reason]).toEqual(['relayed', 'RangeError']);
    expect(t.relays).toEqual([{ binding: BINDING, outcome: 'failure' }]);
  });

  it('fails a job removed before it finished with Bridge.JobMissing', async () => {
    const t = await setup();
    const { jobId } = await t.task({ timestamp: TIMES.timestamp });
    // Removed while waiting: the job hash goes after the record was written.
    await t.redis.del(t.records.keys.job(QUEUE, jobId));
    await t.relayed(t.request(jobId, 'removed'));

    expect(t.counts()).toEqual({ success: 0, failure: 1, heartbeat: 0 });
    const [sent] = t.of('failure');
    expect(sent.args[0]).toBe('Bridge.JobMissing');
    expect(String(sent.args[1])).toContain(QUEUE);
    expect((await t.record(jobId)).reason).toBe('Bridge.JobMissing');
  });

  describe('a task claimed before (its earlier relay may have sent)', () => {
    it('probes first and, finding the task gone, closes it as recovered without sending', async () => {
      const t = await setup();
      const { token, jobId } = await t.task(TIMES);
      await t.claimedByDeadReplica(jobId);
      t.scripted.heartbeat.push(gone('TaskTimedOut'));
      const entry = await t.pendingEntry(jobId);
      await t.relayed(t.request(jobId, 'completed', { returnvalue: '{}', entryIds: [entry] }));

      expect(t.counts()).toEqual({ success: 0, failure: 0, heartbeat: 1 });
      expect(t.of('heartbeat')[0].token).toBe(token);
      const closed = await t.record(jobId);
      expect({ closed: closed.closed, reason: closed.reason, attempts: closed.attempts, owner: closed.owner }).toEqual({
        closed: 'recovered',
        reason: 'TaskTimedOut',
        attempts: '2',
        owner: t.service.owner,
      });
      expect({ pending: await t.pendingCount(), relays: t.relays }).toEqual({
        pending: 0,
        relays: [{ binding: BINDING, outcome: 'recovered' }],
      });
    });

    it('sends after the probe when the task is still open', async () => {
      const t = await setup();
      const { jobId } = await t.task(TIMES);
      await t.claimedByDeadReplica(jobId);
      await t.relayed(t.request(jobId, 'completed', { returnvalue: '[1,2]' }));

      expect(t.calls.map((c) => c.method)).toEqual(['heartbeat', 'success']);
      expect((await t.record(jobId)).closed).toBe('relayed');
    });
  });

  it('closes the task as expired when the send finds it gone', async () => {
    const t = await setup();
    const { jobId } = await t.task(TIMES);
    t.scripted.success.push(gone('TaskDoesNotExist'));
    const entry = await t.pendingEntry(jobId);
    await t.relayed(t.request(jobId, 'completed', { returnvalue: '1', entryIds: [entry] }));

    expect(t.counts()).toEqual({ success: 1, failure: 0, heartbeat: 0 });
    const closed = await t.record(jobId);
    expect([closed.closed, closed.reason]).toEqual(['expired', 'TaskDoesNotExist']);
    expect(await t.afterClose(jobId)).toEqual(closedEverywhere(jobId, [{ binding: BINDING, outcome: 'expired' }]));
  });

  it('sends one SendTaskFailure Bridge.OutputTooLarge when Step Functions refuses the output', async () => {
    const t = await setup();
    const { token, jobId } = await t.task(TIMES);
    t.scripted.success.push(failure(SfnErrorKind.InvalidOutput, 'InvalidOutput'));
    await t.relayed(t.request(jobId, 'completed', { returnvalue: '"big"' }));

    expect(t.counts()).toEqual({ success: 1, failure: 1, heartbeat: 0 });
    const [sent] = t.of('failure');
    expect([sent.token, sent.args[0]]).toEqual([token, 'Bridge.OutputTooLarge']);
    expect(String(sent.args[1])).toContain('InvalidOutput (fake)');
    const closed = await t.record(jobId);
    expect([closed.closed, closed.reason]).toEqual(['relayed', 'Bridge.OutputTooLarge']);
  });

  it('retries a throttled send after its backoff, probing each new claim, until it lands', async () => {
    const backoffMs = 60;
    const t = await setup({ attempts: 3, backoffMs });
    const { jobId } = await t.task(TIMES);
    t.scripted.success.push(throttled(), throttled());
    await t.relayed(t.request(jobId, 'completed', { returnvalue: '{"n":1}' }));

    expect(t.calls.map((c) => c.method)).toEqual(['success', 'heartbeat', 'success', 'heartbeat', 'success']);
    const sends = t.of('success').map((c) => c.at);
    const gaps = [sends[1] - sends[0], sends[2] - sends[1]];
    // relayBackoffMs: the base after attempt 1, twice it after attempt 2 (1 ms of timer/clock slack).
    expect(gaps[0]).toBeGreaterThanOrEqual(backoffMs - 1);
    expect(gaps[1]).toBeGreaterThanOrEqual(2 * backoffMs - 1);
    const closed = await t.record(jobId);
    expect({ closed: closed.closed, reason: closed.reason, attempts: closed.attempts }).toEqual({
      closed: 'relayed',
      reason: 'success',
      attempts: '3',
    });
    expect(t.relayErrors).toEqual([
      { binding: BINDING, error: 'ThrottlingException' },
      { binding: BINDING, error: 'ThrottlingException' },
    ]);
  });

  it('closes the task as abandoned after RELAY_ATTEMPTS throttled sends, and stops its heartbeats', async () => {
    const t = await setup({ attempts: 3, backoffMs: 10 });
    const { jobId } = await t.task(TIMES);
    t.otherwise.success = throttled();
    const entry = await t.pendingEntry(jobId);
    await t.relayed(t.request(jobId, 'completed', { returnvalue: '{}', entryIds: [entry] }));

    expect(t.counts()).toEqual({ success: 3, failure: 0, heartbeat: 2 });
    const closed = await t.record(jobId);
    expect([closed.closed, closed.reason]).toEqual(['abandoned', 'ThrottlingException']);
    expect({ ...(await t.afterClose(jobId)), errors: t.relayErrors.length }).toEqual({
      ...closedEverywhere(jobId, [{ binding: BINDING, outcome: 'abandoned' }]),
      errors: 3,
    });
  });

  it('waits AMBIGUOUS_SETTLE_MS after a send whose answer was lost before it retries', async () => {
    const backoffMs = 20;
    const t = await setup({ attempts: 2, backoffMs });
    const { jobId } = await t.task(TIMES);
    t.scripted.success.push(failure(SfnErrorKind.Transient, 'ServiceUnavailable'));
    await t.relayed(t.request(jobId, 'completed', { returnvalue: '{}' }));

    expect(t.calls.map((c) => c.method)).toEqual(['success', 'heartbeat', 'success']);
    const [first, second] = t.of('success').map((c) => c.at);
    expect(second - first).toBeGreaterThanOrEqual(AMBIGUOUS_SETTLE_MS + backoffMs - 1);
    expect((await t.record(jobId)).closed).toBe('relayed');
  });

  it("sends nothing for a task another replica's live lease holds, and leaves its entry pending", async () => {
    const t = await setup();
    const { jobId } = await t.task(TIMES);
    expect((await t.records.claim(QUEUE, jobId, 'other-replica', RELAY_LEASE_MS, undefined, [])).state).toBe('claimed');
    const entry = await t.pendingEntry(jobId);
    await t.relayed(t.request(jobId, 'completed', { returnvalue: '{}', entryIds: [entry] }));

    expect(t.counts()).toEqual({ success: 0, failure: 0, heartbeat: 0 });
    const held = await t.record(jobId);
    expect({
      owner: held.owner,
      closed: held.closed,
      attempts: held.attempts,
      pending: await t.pendingCount(),
      scheduled: await t.scheduled(jobId),
      unscheduledHere: t.unscheduledHere(),
    }).toEqual({
      owner: 'other-replica',
      closed: undefined,
      attempts: '1',
      pending: 1,
      scheduled: { schedule: true, outstanding: true },
      unscheduledHere: [],
    });
  });

  it.each([
    ['closed before (cancelled)', true],
    ['without a record (not a bridge task)', false],
  ])('sends nothing for a job %s and acknowledges its entries', async (_, withRecord) => {
    const t = await setup();
    const jobId = withRecord ? (await t.task(TIMES)).jobId : 'not-a-task';
    if (withRecord) expect(await t.records.cancel(jobId, 'TaskTimedOut')).toBe('cancelled');
    const entries = [await t.pendingEntry(jobId), await t.pendingEntry(jobId, 'removed')];
    expect(await t.pendingCount()).toBe(2);
    await t.relayed(t.request(jobId, 'completed', { returnvalue: '{}', entryIds: entries }));

    expect(t.counts()).toEqual({ success: 0, failure: 0, heartbeat: 0 });
    expect({ pending: await t.pendingCount(), unscheduledHere: t.unscheduledHere(), relays: t.relays }).toEqual({
      pending: 0,
      unscheduledHere: [],
      relays: [],
    });
    if (withRecord) expect((await t.record(jobId)).closed).toBe('cancelled');
  });

  describe('the close', () => {
    it('leaves the task scheduled, its entry pending and nothing counted when another replica holds the claim by then (-1)', async () => {
      const t = await setup();
      const { jobId } = await t.task(TIMES);
      const entry = await t.pendingEntry(jobId);
      const answer = deferred<CallbackResult>();
      t.scripted.success.push(answer.promise);
      expect(t.service.relay(t.request(jobId, 'completed', { returnvalue: '{}', entryIds: [entry] }))).toBe(true);
      await waitFor(() => t.of('success').length === 1, { message: `the send to start (saw ${t.of('success').length})` });
      await t.lapseLease(jobId);
      expect((await t.records.claim(QUEUE, jobId, 'other-replica', RELAY_LEASE_MS, undefined, [])).state).toBe('claimed');
      answer.resolve(OK);
      await waitFor(() => !t.service.isRunning(jobId), { message: 'the relay to end' });

      const held = await t.record(jobId);
      expect({
        owner: held.owner,
        closed: held.closed,
        attempts: held.attempts,
        pending: await t.pendingIds(),
        scheduled: await t.scheduled(jobId),
        unscheduledHere: t.unscheduledHere(),
        relays: t.relays,
        observed: t.observed,
      }).toEqual({
        owner: 'other-replica',
        closed: undefined,
        attempts: '2',
        pending: [entry],
        scheduled: { schedule: true, outstanding: true },
        unscheduledHere: [],
        relays: [],
        observed: [],
      });
    });

    it('unschedules the task and acknowledges its entry, counting nothing, when it finds the task closed meanwhile (0)', async () => {
      const t = await setup();
      const { jobId } = await t.task(TIMES);
      const entry = await t.pendingEntry(jobId);
      const answer = deferred<CallbackResult>();
      t.scripted.success.push(answer.promise);
      expect(t.service.relay(t.request(jobId, 'completed', { returnvalue: '{}', entryIds: [entry] }))).toBe(true);
      await waitFor(() => t.of('success').length === 1, { message: `the send to start (saw ${t.of('success').length})` });
      // The lease lapsed, so a heartbeat's cancel could close the task (cancel leaves the schedule to its caller).
      await t.lapseLease(jobId);
      expect(await t.records.cancel(jobId, 'TaskTimedOut')).toBe('cancelled');
      answer.resolve(OK);
      await waitFor(() => !t.service.isRunning(jobId), { message: 'the relay to end' });

      const closed = await t.record(jobId);
      expect({ closed: [closed.closed, closed.reason], ...(await t.afterClose(jobId)), observed: t.observed }).toEqual({
        closed: ['cancelled', 'TaskTimedOut'],
        ...closedEverywhere(jobId, []),
        observed: [],
      });
    });
  });

  describe('the job end a first claim kept (its replica was killed before the close)', () => {
    it.each([
      ['found', 'completed', '{"kept":true}', 'success', ['{"kept":true}']],
      ['removed', 'completed', '{"kept":true}', 'success', ['{"kept":true}']],
      ['found', 'failed', 'kept reason', 'failure', ['Error', 'kept reason']],
    ] as const)(
      'is what a later %s request sends for a %s job, though the job is gone',
      async (laterKind, heardKind, value, method, args) => {
        const t = await setup();
        const { token, jobId } = await t.task(TIMES);
        await t.claimedByDeadReplica(jobId, { kind: heardKind, value });
        // The job went after the claim (removeOnComplete, a clean-up): only the record knows its end.
        await t.redis.del(t.records.keys.job(QUEUE, jobId));
        await t.relayed(t.request(jobId, laterKind));

        // Claim 2 probes first (the killed claim may have sent), then sends the kept end once.
        expect(t.calls.map((c) => c.method)).toEqual(['heartbeat', method]);
        const [sent] = t.of(method);
        expect([sent.token === token, ...sent.args.slice(0, args.length)]).toEqual([true, ...args]);
        const closed = await t.record(jobId);
        expect({ closed: closed.closed, attempts: closed.attempts, end: closed.end, value: closed.value }).toEqual({
          closed: 'relayed',
          attempts: '2',
          end: undefined,
          value: undefined,
        });
        expect(t.relays).toEqual([{ binding: BINDING, outcome: method }]);
      },
    );

    it('is kept by the first claim that knows it while its send runs, and dropped by the close', async () => {
      const t = await setup();
      const { jobId } = await t.task(TIMES);
      const answer = deferred<CallbackResult>();
      t.scripted.success.push(answer.promise);
      expect(t.service.relay(t.request(jobId, 'completed', { returnvalue: '{"n":7}' }))).toBe(true);
      await waitFor(() => t.of('success').length === 1, { message: `the send to start (saw ${t.of('success').length})` });
      const during = await t.record(jobId);
      answer.resolve(OK);
      await waitFor(() => !t.service.isRunning(jobId), { message: 'the relay to end' });
      const after = await t.record(jobId);

      expect({ during: [during.end, during.value], after: [after.closed, after.end, after.value] }).toEqual({
        during: ['completed', '{"n":7}'],
        after: ['relayed', undefined, undefined],
      });
    });
  });
});
