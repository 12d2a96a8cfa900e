import { truncateText } from './truncate';

const MARKER = /…\[truncated (\d+) chars\]$/;

function droppedCount(result: string): number {
  const match = MARKER.exec(result);
  if (!match) throw new Error(`no truncation marker in ${JSON.stringify(result.slice(-40))}`);
  return Number(match[1]);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('truncateText', () => {
  it('returns text that fits unchanged, including text exactly at the limit', () => {
    expect(truncateText('hello', 10)).toBe('hello');
    expect(truncateText('x'.repeat(256), 256)).toBe('x'.repeat(256));
    expect(truncateText('', 0)).toBe('');
  });

  it('cuts a 1 MB text to exactly the limit, keeping its start and ending with the marker', () => {
    const text = 'abcdefghij'.repeat(104_858); // 1,048,580 chars
    const result = truncateText(text, 32_768);
    expect(result).toHaveLength(32_768);
    expect(result).toMatch(MARKER);
    const head = result.replace(MARKER, '');
    expect(text.startsWith(head)).toBe(true);
    expect(droppedCount(result)).toBe(text.length - head.length);
  });

  it('reports the exact number of dropped chars and fills the limit around digit-count boundaries', () => {
    const limit = 40;
    for (let length = 41; length <= 1_200; length++) {
      const text = 'y'.repeat(length);
      const result = truncateText(text, limit);
      const head = result.replace(MARKER, '');
      expect(result.length).toBe(limit);
      expect(droppedCount(result)).toBe(length - head.length);
    }
  });

  it('does not split a surrogate pair at the cut', () => {
    const text = '😀'.repeat(1_000); // 2,000 UTF-16 units
    for (const limit of [100, 101, 256]) {
      const result = truncateText(text, limit);
      expect(result.length).toBeLessThanOrEqual(limit);
      expect(LONE_SURROGATE.test(result)).toBe(false);
      const head = result.replace(MARKER, '');
      expect(droppedCount(result)).toBe(text.length - head.length);
    }
  });

  it('cuts without a marker when the limit cannot hold one', () => {
    expect(truncateText('abcdefghijklmnopqrstuvwxyz', 5)).toBe('abcde');
    expect(truncateText('abc', 0)).toBe('');
  });
});
