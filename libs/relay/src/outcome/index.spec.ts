import * as outcome from './index';

describe('outcome index', () => {
  it('exports the public functions and limits, and nothing test-only', () => {
    expect(Object.keys(outcome).sort()).toEqual(
      ['SFN_LIMITS', 'bridgeFailure', 'errorNameFromStack', 'failureOutcome', 'successOutcome', 'truncateText', 'utf8Bytes'].sort(),
    );
  });
});
