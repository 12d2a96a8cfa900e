import { parseTaskInput } from './task-input';

describe('parseTaskInput', () => {
  it('parses JSON input into job data', () => {
    expect(parseTaskInput('{"orderId":"o-1","n":[1,2]}')).toEqual({ orderId: 'o-1', n: [1, 2] });
    expect(parseTaskInput('"just a string"')).toBe('just a string');
    expect(parseTaskInput('42')).toBe(42);
  });

  it('passes input that is not JSON on as the raw string instead of dropping it', () => {
    expect(parseTaskInput('not json {')).toBe('not json {');
  });

  it('turns missing input into null', () => {
    expect(parseTaskInput(undefined)).toBeNull();
    expect(parseTaskInput('')).toBeNull();
  });
});
