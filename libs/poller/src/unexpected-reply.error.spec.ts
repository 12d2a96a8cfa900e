import { twoIntegers } from './slot-reservations.service';
import { UnexpectedReplyError } from './unexpected-reply.error';

describe('twoIntegers (the reservation scripts reply check)', () => {
  it('passes a two-integer reply through', () => {
    expect(twoIntegers('sfnBridgeTaken', [1, 42])).toEqual([1, 42]);
  });

  it.each([['OK'], [[1]], [[1, 'K']], [null], [[1, 2, 3]]])('refuses %j with an UnexpectedReplyError naming the script', (reply) => {
    expect(() => twoIntegers('sfnBridgeTaken', reply)).toThrow(UnexpectedReplyError);
    expect(() => twoIntegers('sfnBridgeTaken', reply)).toThrow(/^sfnBridgeTaken answered .* where two integers were expected$/);
  });
});
