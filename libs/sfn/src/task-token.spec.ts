import { tokenHash, tokenRef } from './task-token';

describe('task token helpers', () => {
  const token = 'AAAAKgAAAAIAAAAAAAAAAQ+/=' + 'x'.repeat(700);

  it('hashes a token to 64 hex chars: a valid BullMQ custom id (no colon, not an integer)', () => {
    const id = tokenHash(token);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(Number.isInteger(Number(id))).toBe(false);
    expect(tokenHash(token)).toBe(id);
  });

  it('refers to a token in logs by 12 hash characters, never by the token', () => {
    expect(tokenRef(token)).toBe(tokenHash(token).slice(0, 12));
    expect(token).not.toContain(tokenRef(token));
  });
});
