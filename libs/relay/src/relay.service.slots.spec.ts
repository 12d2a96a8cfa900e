/**
 * RelayService's slots against real Redis (test/support/relay-service-harness.ts): at most RELAY_CONCURRENCY
 * relays run or wait at once, room() says when the reader may read on, a second end of a job joins
 * the relay there is (a completed event taking over a heartbeat's find: joinEnd), and shutdown
 * turns requests down with their entries left pending.
 */
import { CallbackResult } from '@bridge/sfn';
import { waitFor, within } from '../../../test/support/wait-for';
import { closeRelaySetups, deferred, OK, QUEUE, setup, TIMES } from '../../../test/support/relay-service-harness';

afterEach(closeRelaySetups);

describe('RelayService slots (real Redis)', () => {
  it('merges a second end of a job running or queued here into that relay: one send each, every entry acknowledged by its close', async () => {
    const t = await setup({ concurrency: 1 });
    const [a, b] = [await t.task(TIMES), await t.task(TIMES)];
    const aEntries = [await t.pendingEntry(a.jobId), await t.pendingEntry(a.jobId, 'removed')];
    const bEntries = [await t.pendingEntry(b.jobId), await t.pendingEntry(b.jobId, 'removed')];
    const answer = deferred<CallbackResult>();
    t.scripted.success.push(answer.promise);
    const reqA = t.request(a.jobId, 'completed', { returnvalue: '{"a":1}', entryIds: [aEntries[0]] });
    const reqB = t.request(b.jobId, 'completed', { returnvalue: '{"b":2}', entryIds: [bEntries[0]] });
    expect(t.service.relay(reqA)).toBe(true);
    await waitFor(() => t.of('success').length === 1, { message: `the send of a to start (saw ${t.of('success').length})` });
    // b waits for the one slot; a second end of each joins the relay there is (a runs, b waits).
    expect(t.service.relay(reqB)).toBe(true);
    const again = [
      t.service.relay(t.request(a.jobId, 'removed', { entryIds: [aEntries[1]] })),
      t.service.relay(t.request(b.jobId, 'removed', { entryIds: [bEntries[1]] })),
    ];
    expect({ again, inFlight: t.service.inFlight, a: reqA.entryIds, b: reqB.entryIds, pending: await t.pendingCount() }).toEqual({
      again: [true, true],
      inFlight: 2,
      a: aEntries,
      b: bEntries,
      pending: 4,
    });
    answer.resolve(OK);
    await waitFor(() => t.service.inFlight === 0, { message: `both relays to end (saw ${t.service.inFlight} in flight)` });

    expect(t.counts()).toEqual({ success: 2, failure: 0, heartbeat: 0 });
    expect(t.of('success').map((c) => c.args[0])).toEqual(['{"a":1}', '{"b":2}']);
    const closed = await Promise.all([a, b].map(async ({ jobId }) => (await t.record(jobId)).closed));
    expect({ closed, pending: await t.pendingCount() }).toEqual({ closed: ['relayed', 'relayed'], pending: 0 });
    // Once it has ended, the job is accepted again (and found closed).
    await t.relayed(reqA);
    expect(t.counts().success).toBe(2);
  });

  it("sends the completed event's value when it joins a heartbeat's find of a job already deleted (removeOnComplete), not Bridge.JobMissing", async () => {
    const t = await setup({ concurrency: 1 });
    const [a, b] = [await t.task(TIMES), await t.task(TIMES)];
    // b's job completed and was deleted with it; its event is still unread when a heartbeat finds it gone.
    await t.redis.del(t.records.keys.job(QUEUE, b.jobId));
    const answer = deferred<CallbackResult>();
    t.scripted.success.push(answer.promise);
    expect(t.service.relay(t.request(a.jobId, 'completed', { returnvalue: '{"a":1}' }))).toBe(true);
    await waitFor(() => t.of('success').length === 1, { message: `the send of a to start (saw ${t.of('success').length})` });
    const found = t.request(b.jobId, 'found');
    expect(t.service.relay(found)).toBe(true);
    const entry = await t.pendingEntry(b.jobId);
    expect(t.service.relay(t.request(b.jobId, 'completed', { returnvalue: '{"b":2}', entryIds: [entry] }))).toBe(true);
    answer.resolve(OK);
    await waitFor(() => t.service.inFlight === 0, { message: `both relays to end (saw ${t.service.inFlight} in flight)` });

    expect({ counts: t.counts(), outputs: t.of('success').map((c) => c.args[0]) }).toEqual({
      counts: { success: 2, failure: 0, heartbeat: 0 },
      outputs: ['{"a":1}', '{"b":2}'],
    });
    expect({ closed: (await t.record(b.jobId)).closed, pending: await t.pendingCount() }).toEqual({ closed: 'relayed', pending: 0 });
  });

  it('runs at most RELAY_CONCURRENCY relays at once; the rest wait unclaimed and start as slots free', async () => {
    const t = await setup({ concurrency: 2 });
    const jobs: { jobId: string }[] = [];
    for (let i = 0; i < 5; i++) jobs.push(await t.task(TIMES));
    const answers = jobs.map(() => deferred<CallbackResult>());
    answers.forEach((a) => t.scripted.success.push(a.promise));
    const accepted = jobs.map(({ jobId }) => t.service.relay(t.request(jobId, 'completed', { returnvalue: '{}' })));
    expect({ accepted, inFlight: t.service.inFlight }).toEqual({ accepted: [true, true, true, true, true], inFlight: 5 });
    await waitFor(() => t.of('success').length === 2, { message: `2 sends to start (saw ${t.of('success').length})` });
    // The three beyond the limit have not even claimed their tasks.
    const attempts = async () => Promise.all(jobs.map(async ({ jobId }) => (await t.record(jobId)).attempts ?? '0'));
    expect({ attempts: await attempts(), isRunning: jobs.map(({ jobId }) => t.service.isRunning(jobId)) }).toEqual({
      attempts: ['1', '1', '0', '0', '0'],
      isRunning: [true, true, true, true, true],
    });

    for (let released = 1; released <= jobs.length; released++) {
      answers[released - 1].resolve(OK);
      const started = Math.min(jobs.length, released + 2);
      await waitFor(() => t.of('success').length === started, {
        message: `${started} sends after ${released} answered (saw ${t.of('success').length})`,
      });
      expect(t.concurrency().now).toBeLessThanOrEqual(2);
    }
    await waitFor(() => t.service.inFlight === 0, { message: `no relay in flight (saw ${t.service.inFlight})` });

    expect({ sends: t.of('success').length, most: t.concurrency().most, attempts: await attempts() }).toEqual({
      sends: 5,
      most: 2,
      attempts: ['1', '1', '1', '1', '1'],
    });
    const closed = await Promise.all(jobs.map(async ({ jobId }) => (await t.record(jobId)).closed));
    expect(closed).toEqual(Array(5).fill('relayed'));
  });

  it('holds room() while RELAY_CONCURRENCY relays run, and frees it when one ends', async () => {
    const t = await setup({ concurrency: 2 });
    await within(t.service.room(), 1_000, 'room() with nothing running');
    const answers = [deferred<CallbackResult>(), deferred<CallbackResult>()];
    const jobs = [await t.task(TIMES), await t.task(TIMES)];
    answers.forEach((a) => t.scripted.success.push(a.promise));
    for (const { jobId } of jobs) expect(t.service.relay(t.request(jobId, 'completed', { returnvalue: '{}' }))).toBe(true);
    let roomy = false;
    const room = t.service.room().then(() => (roomy = true));
    await waitFor(() => t.of('success').length === 2, { message: `both sends to start (saw ${t.of('success').length})` });
    expect({ roomy, inFlight: t.service.inFlight }).toEqual({ roomy: false, inFlight: 2 });

    answers[0].resolve(OK);
    await within(room, 5_000, 'room() after one relay ended');
    expect({ roomy, inFlight: t.service.inFlight }).toEqual({ roomy: true, inFlight: 1 });
    answers[1].resolve(OK);
    await waitFor(() => t.service.inFlight === 0, { message: `no relay in flight (saw ${t.service.inFlight})` });
  });
  it('holds room() while running plus queued relays reach RELAY_CONCURRENCY, not only running ones', async () => {
    const t = await setup({ concurrency: 2 });
    const jobs = [await t.task(TIMES), await t.task(TIMES), await t.task(TIMES)];
    const answers = jobs.map(() => deferred<CallbackResult>());
    answers.forEach((a) => t.scripted.success.push(a.promise));
    for (const { jobId } of jobs) expect(t.service.relay(t.request(jobId, 'completed', { returnvalue: '{}' }))).toBe(true);
    let roomy = false;
    const room = t.service.room().then(() => (roomy = true));
    await waitFor(() => t.of('success').length === 2, { message: `2 sends to start (saw ${t.of('success').length})` });
    expect({ roomy, inFlight: t.service.inFlight }).toEqual({ roomy: false, inFlight: 3 });

    // One ends, the queued one takes its slot: 2 running, none queued, still no room.
    answers[0].resolve(OK);
    await waitFor(() => t.of('success').length === 3, { message: `the queued send to start (saw ${t.of('success').length})` });
    expect({ roomy, inFlight: t.service.inFlight }).toEqual({ roomy: false, inFlight: 2 });

    answers[1].resolve(OK);
    await within(room, 5_000, 'room() after a second relay ended');
    expect({ roomy, inFlight: t.service.inFlight }).toEqual({ roomy: true, inFlight: 1 });
    answers[2].resolve(OK);
    await waitFor(() => t.service.inFlight === 0, { message: `no relay in flight (saw ${t.service.inFlight})` });
  });

  it('turns requests down only while shutting down, dropping queued ones with their entries left pending', async () => {
    const t = await setup({ concurrency: 1 });
    const [a, b, c] = [await t.task(TIMES), await t.task(TIMES), await t.task(TIMES)];
    const [aEntry, bEntry, cEntry] = [await t.pendingEntry(a.jobId), await t.pendingEntry(b.jobId), await t.pendingEntry(c.jobId)];
    const answer = deferred<CallbackResult>();
    t.scripted.success.push(answer.promise);
    expect(t.service.relay(t.request(a.jobId, 'completed', { returnvalue: '{}', entryIds: [aEntry] }))).toBe(true);
    await waitFor(() => t.of('success').length === 1, { message: `the send of a to start (saw ${t.of('success').length})` });
    expect(t.service.relay(t.request(b.jobId, 'completed', { returnvalue: '{}', entryIds: [bEntry] }))).toBe(true);
    expect(t.service.isRunning(b.jobId)).toBe(true);

    const stopped = t.service.onModuleDestroy();
    const turnedDown = [
      t.service.relay(t.request(c.jobId, 'completed', { returnvalue: '{}', entryIds: [cEntry] })),
      t.service.relay(t.request(a.jobId, 'removed', { entryIds: ['1-1'] })),
    ];
    expect({ turnedDown, a: t.service.isRunning(a.jobId), b: t.service.isRunning(b.jobId), inFlight: t.service.inFlight }).toEqual({
      turnedDown: [false, false],
      a: true,
      b: false,
      inFlight: 1,
    });
    answer.resolve(OK);
    await within(stopped, 5_000, 'shutdown once the send in flight ended');

    expect(t.counts()).toEqual({ success: 1, failure: 0, heartbeat: 0 });
    const [ra, rb, rc] = await Promise.all([a, b, c].map(({ jobId }) => t.record(jobId)));
    expect({ a: ra.closed, b: [rb.closed, rb.attempts], c: [rc.closed, rc.attempts], pending: await t.pendingIds() }).toEqual({
      a: 'relayed',
      b: [undefined, undefined],
      c: [undefined, undefined],
      pending: [bEntry, cEntry].sort(),
    });
  });
});
