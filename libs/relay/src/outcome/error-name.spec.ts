import { readFileSync } from 'node:fs';
import { errorNameFromStack, isPythonTraceback } from './error-name';
import { BARE_NAME_TRACEBACK, CHAINED_TRACEBACK, DIRECT_CAUSE_TRACEBACK, MULTILINE_MESSAGE_TRACEBACK } from './python-tracebacks.fixture';

/** Throws `make()` for real and returns the V8 stack, as BullMQ would store it. */
function stackOf(make: () => unknown): string {
  try {
    throw make();
  } catch (err) {
    const stack = (err as Error).stack;
    if (typeof stack !== 'string') throw new Error('no stack');
    return stack;
  }
}

class PaymentDeclined extends Error {
  override name = 'PaymentDeclined';
}
class UnnamedSubclass extends Error {}

describe('errorNameFromStack (Node stacks)', () => {
  it('reads the built-in error name', () => {
    expect(errorNameFromStack(stackOf(() => new Error('boom')))).toBe('Error');
    expect(errorNameFromStack(stackOf(() => new RangeError('out of range')))).toBe('RangeError');
  });

  it('reads the name of a TypeError raised by the engine', () => {
    const stack = stackOf(() => {
      try {
        (null as unknown as { foo: number }).foo;
      } catch (err) {
        return err;
      }
      return new Error('unreachable');
    });
    expect(errorNameFromStack(stack)).toBe('TypeError');
  });

  it('reads a subclass name set with a class field', () => {
    expect(errorNameFromStack(stackOf(() => new PaymentDeclined('card expired')))).toBe('PaymentDeclined');
  });

  it('gives Error for a subclass that does not set name', () => {
    expect(errorNameFromStack(stackOf(() => new UnnamedSubclass('x')))).toBe('Error');
  });

  it('keeps a dotted name whole', () => {
    const err = new Error('too big');
    err.name = 'Bridge.OutputTooLarge';
    expect(errorNameFromStack(stackOf(() => err))).toBe('Bridge.OutputTooLarge');
  });

  it('splits on the first ": " when the message itself contains ": "', () => {
    const stack = stackOf(() => new PaymentDeclined('gateway: card: expired'));
    expect(errorNameFromStack(stack)).toBe('PaymentDeclined');
  });

  it('reads the name when the message spans several lines', () => {
    const stack = stackOf(() => new PaymentDeclined('line one\nError: line two\n  at-ish three'));
    expect(stack.split('\n')[1]).toBe('Error: line two');
    expect(errorNameFromStack(stack)).toBe('PaymentDeclined');
  });

  // Plain V8 prints just `Name` for an empty message; source-map-support (used by Jest,
  // ts-node and many workers) prints `Name: `. Both must work.
  it('reads the name of an error with an empty message, in either header form', () => {
    expect(errorNameFromStack(stackOf(() => new PaymentDeclined('')))).toBe('PaymentDeclined');
    expect(errorNameFromStack('PaymentDeclined\n    at process (/app/worker.js:3:9)')).toBe('PaymentDeclined');
    expect(errorNameFromStack('PaymentDeclined: \n    at process (/app/worker.js:3:9)')).toBe('PaymentDeclined');
  });

  it('drops the [ERR_CODE] suffix of Node internal errors', () => {
    // Header as plain Node 20 prints it (Jest's stack formatting omits the code).
    const printedByNode = [
      'TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string or an instance of Buffer or URL. Received an instance of Object',
      '    at Object.openSync (node:fs:573:10)',
      '    at Object.readFileSync (node:fs:452:35)',
    ].join('\n');
    expect(errorNameFromStack(printedByNode)).toBe('TypeError');
    const thrown = stackOf(() => {
      try {
        readFileSync({} as unknown as string);
      } catch (err) {
        return err;
      }
      return new Error('unreachable');
    });
    expect(errorNameFromStack(thrown)).toBe('TypeError');
  });

  it('reads DOMException and AggregateError names', () => {
    expect(errorNameFromStack(stackOf(() => new DOMException('aborted', 'AbortError')))).toBe('AbortError');
    expect(errorNameFromStack(stackOf(() => new AggregateError([new Error('a')], 'many')))).toBe('AggregateError');
  });

  it('returns undefined when the name is not an identifier', () => {
    const err = new Error('x');
    err.name = 'Payment declined';
    expect(errorNameFromStack(stackOf(() => err))).toBeUndefined();
    expect(errorNameFromStack('')).toBeUndefined();
    expect(errorNameFromStack('   ')).toBeUndefined();
  });

  it('treats a Node error whose message quotes a Python traceback as a Node stack', () => {
    const stack = stackOf(() => new PaymentDeclined(`python helper failed:\n${CHAINED_TRACEBACK}`));
    expect(isPythonTraceback(stack)).toBe(false);
    expect(errorNameFromStack(stack)).toBe('PaymentDeclined');
  });
});

describe('errorNameFromStack (Python tracebacks)', () => {
  it('takes the last exception of a chained traceback, without its module path', () => {
    expect(isPythonTraceback(CHAINED_TRACEBACK)).toBe(true);
    expect(errorNameFromStack(CHAINED_TRACEBACK)).toBe('PaymentDeclined');
  });

  it('takes the raised exception after a "direct cause" chain', () => {
    expect(errorNameFromStack(DIRECT_CAUSE_TRACEBACK)).toBe('PaymentDeclined');
  });

  it('finds the exception line when the message spans several lines', () => {
    expect(errorNameFromStack(MULTILINE_MESSAGE_TRACEBACK)).toBe('ValueError');
  });

  it('reads an exception printed with its name only', () => {
    expect(errorNameFromStack(BARE_NAME_TRACEBACK)).toBe('KeyboardInterrupt');
  });

  it('reads a traceback that lost its header line', () => {
    const headless = CHAINED_TRACEBACK.split('\n').slice(11).join('\n');
    expect(headless.startsWith('  File "')).toBe(true);
    expect(isPythonTraceback(headless)).toBe(true);
    expect(errorNameFromStack(headless)).toBe('PaymentDeclined');
  });

  it('handles CRLF line endings', () => {
    expect(errorNameFromStack(CHAINED_TRACEBACK.replace(/\n/g, '\r\n'))).toBe('PaymentDeclined');
  });

  it('returns undefined when the exception line cannot be read', () => {
    const broken = 'Traceback (most recent call last):\n  File "/app/worker.py", line 3, in <module>\n';
    expect(errorNameFromStack(broken)).toBeUndefined();
  });
});
