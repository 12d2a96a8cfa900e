import { maskTaskToken } from './relay-queue.adapter';

describe('maskTaskToken', () => {
  it('shows only the start and the length of a task token', () => {
    const token = 'AAAAKgAAAAIAAAAA' + 'q'.repeat(800);
    const masked = maskTaskToken({ taskToken: token, binding: 'b' }) as Record<string, string>;
    expect(masked.binding).toBe('b');
    expect(masked.taskToken).not.toContain(token.slice(0, 20));
    expect(masked.taskToken).toContain(`${token.length} chars`);
  });

  it('leaves data without a token untouched', () => {
    expect(maskTaskToken({ orderId: 1 })).toEqual({ orderId: 1 });
    expect(maskTaskToken('text')).toBe('text');
    expect(maskTaskToken(null)).toBeNull();
  });
});
