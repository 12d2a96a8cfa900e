import { SFN_LIMITS, groupDigits, utf8Bytes } from './limits';

describe('SFN_LIMITS', () => {
  it('matches the Step Functions SendTaskSuccess/SendTaskFailure limits', () => {
    expect(SFN_LIMITS).toEqual({ outputBytes: 262_144, errorChars: 256, causeChars: 32_768 });
  });
});

describe('utf8Bytes', () => {
  it('counts 1, 2, 3 and 4 byte UTF-8 sequences', () => {
    expect(utf8Bytes('')).toBe(0);
    expect(utf8Bytes('a')).toBe(1);
    expect(utf8Bytes('é')).toBe(2);
    expect(utf8Bytes('€')).toBe(3);
    expect(utf8Bytes('😀')).toBe(4);
    expect(utf8Bytes('a€😀')).toBe(8);
  });
});

describe('groupDigits', () => {
  it('inserts thousands separators without depending on the locale', () => {
    expect(groupDigits(0)).toBe('0');
    expect(groupDigits(999)).toBe('999');
    expect(groupDigits(262_144)).toBe('262,144');
    expect(groupDigits(1_048_576)).toBe('1,048,576');
  });
});
