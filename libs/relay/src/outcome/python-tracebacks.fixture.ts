/**
 * Python 3.11 tracebacks as BullMQ for Python stores them (`traceback.format_exc()`),
 * captured from a real CPython run (paths shortened), with the matching `failedReason`
 * (`json.dumps(str(err))`). Test-only; not exported from the outcome index.
 */

/** `except Exception: raise PaymentDeclined(...)` while handling a GatewayTimeout. */
export const CHAINED_TRACEBACK = [
  'Traceback (most recent call last):',
  '  File "/app/worker.py", line 12, in process',
  '    return gateway.charge(card, amount)',
  '           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^',
  '  File "/app/gateway.py", line 6, in charge',
  '    raise GatewayTimeout(f"no answer after {timeout}s")',
  'app.errors.GatewayTimeout: no answer after 30s',
  '',
  'During handling of the above exception, another exception occurred:',
  '',
  'Traceback (most recent call last):',
  '  File "/usr/local/lib/python3.11/site-packages/bullmq/worker.py", line 187, in processJob',
  '    result = await self.processor(job, token)',
  '             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^',
  '  File "/usr/local/lib/python3.11/asyncio/tasks.py", line 277, in __step',
  '    result = coro.send(None)',
  '             ^^^^^^^^^^^^^^^',
  '  File "/app/worker.py", line 14, in process',
  '    raise PaymentDeclined("card expired")',
  'app.errors.PaymentDeclined: card expired',
  '',
].join('\n');
export const CHAINED_FAILED_REASON = '"card expired"';

/** `raise PaymentDeclined("declined") from err` (explicit cause). */
export const DIRECT_CAUSE_TRACEBACK = [
  'Traceback (most recent call last):',
  '  File "/app/worker.py", line 12, in process',
  '    return gateway.charge(card, amount)',
  "KeyError: 'card'",
  '',
  'The above exception was the direct cause of the following exception:',
  '',
  'Traceback (most recent call last):',
  '  File "/app/worker.py", line 14, in process',
  '    raise PaymentDeclined("declined") from err',
  'PaymentDeclined: declined',
  '',
].join('\n');

/** A message spanning three lines: the exception line is not the last line. */
export const MULTILINE_MESSAGE_TRACEBACK = [
  'Traceback (most recent call last):',
  '  File "/app/worker.py", line 27, in process',
  '    raise ValueError("bad input:\\n  field \'amount\': must be > 0\\nsee docs")',
  'ValueError: bad input:',
  "  field 'amount': must be > 0",
  'see docs',
  '',
].join('\n');
export const MULTILINE_FAILED_REASON = JSON.stringify("bad input:\n  field 'amount': must be > 0\nsee docs");

/** An exception with an empty message prints only its name. */
export const BARE_NAME_TRACEBACK = [
  'Traceback (most recent call last):',
  '  File "/app/worker.py", line 33, in process',
  '    raise KeyboardInterrupt()',
  'KeyboardInterrupt',
  '',
].join('\n');
