import { utf8Bytes } from './limits';
import { successOutcome } from './success-outcome';
import { TaskOutcome } from './task-outcome';

function failure(outcome: TaskOutcome): { error: string; cause: string } {
  if (outcome.kind !== 'failure') throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome;
}

function output(outcome: TaskOutcome): string {
  if (outcome.kind !== 'success') throw new Error(`expected a success, got ${JSON.stringify(outcome)}`);
  return outcome.output;
}

describe('successOutcome', () => {
  it('serialises the return value as JSON text', () => {
    expect(successOutcome({ charged: 42, ok: true, tags: ['a'] })).toEqual({
      kind: 'success',
      output: '{"charged":42,"ok":true,"tags":["a"]}',
    });
    expect(output(successOutcome('done'))).toBe('"done"');
    expect(output(successOutcome(0))).toBe('0');
  });

  it('reports undefined and null as JSON null', () => {
    expect(output(successOutcome(undefined))).toBe('null');
    expect(output(successOutcome(null))).toBe('null');
  });

  it('fails with OutputNotSerializable naming BigInt', () => {
    const { error, cause } = failure(successOutcome({ id: 10n }));
    expect(error).toBe('Bridge.OutputNotSerializable');
    expect(cause).toContain('BigInt');
    expect(cause).toContain('TypeError');
  });

  it('fails with OutputNotSerializable for a circular structure', () => {
    const node: Record<string, unknown> = { name: 'root' };
    node.self = node;
    const { error, cause } = failure(successOutcome(node));
    expect(error).toBe('Bridge.OutputNotSerializable');
    expect(cause).toMatch(/circular/i);
  });

  it('fails with OutputNotSerializable for a bare function or symbol, naming the type', () => {
    const fn = failure(successOutcome(() => 1));
    expect(fn.error).toBe('Bridge.OutputNotSerializable');
    expect(fn.cause).toContain('function');
    const sym = failure(successOutcome(Symbol('s')));
    expect(sym.error).toBe('Bridge.OutputNotSerializable');
    expect(sym.cause).toContain('symbol');
  });

  it('fails with OutputNotSerializable when toJSON throws, quoting its message', () => {
    const value = {
      toJSON() {
        throw new Error('lazy field not loaded');
      },
    };
    const { error, cause } = failure(successOutcome(value));
    expect(error).toBe('Bridge.OutputNotSerializable');
    expect(cause).toContain('lazy field not loaded');
  });

  describe('size limit of 262,144 UTF-8 bytes', () => {
    // JSON of a string is the string plus two quote bytes.
    it('accepts 3-byte characters totalling exactly 262,144 bytes', () => {
      const value = '€'.repeat(87_380) + 'ab'; // 262,140 + 2 + 2 quotes
      const json = output(successOutcome(value));
      expect(utf8Bytes(json)).toBe(262_144);
      expect(json.length).toBe(87_384); // far fewer chars than bytes
    });

    it('rejects the same output one byte over, naming the size and the limit', () => {
      const value = '€'.repeat(87_380) + 'abc';
      const { error, cause } = failure(successOutcome(value));
      expect(error).toBe('Bridge.OutputTooLarge');
      expect(cause).toBe('job returned 262,145 bytes of JSON; Step Functions accepts at most 262,144');
    });

    it('counts surrogate pairs as 4 bytes at the boundary', () => {
      const atLimit = '😀'.repeat(65_535) + 'ab'; // 262,140 + 2 + 2 quotes
      expect(utf8Bytes(output(successOutcome(atLimit)))).toBe(262_144);
      expect(failure(successOutcome(`${atLimit}c`)).error).toBe('Bridge.OutputTooLarge');
    });

    it('accepts ASCII JSON of exactly 262,144 bytes and rejects 262,145', () => {
      expect(utf8Bytes(output(successOutcome('a'.repeat(262_142))))).toBe(262_144);
      expect(failure(successOutcome('a'.repeat(262_143))).cause).toContain('262,145 bytes');
    });

    it('reports a large object with its actual byte size', () => {
      const rows = Array.from({ length: 5_000 }, (_, i) => ({ id: i, text: 'x'.repeat(40) }));
      const bytes = Buffer.byteLength(JSON.stringify(rows));
      const { error, cause } = failure(successOutcome(rows));
      expect(error).toBe('Bridge.OutputTooLarge');
      expect(cause).toContain(bytes.toLocaleString('en-US'));
      expect(cause).toContain('262,144');
    });
  });
});
