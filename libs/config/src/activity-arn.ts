/**
 * Step Functions activity ARNs: `arn:<partition>:states:<region>:<12-digit account>:activity:<name>`,
 * 1..256 characters, the name 1..80 of `[A-Za-z0-9_-]`.
 */
export const ACTIVITY_ARN_MAX_LENGTH = 256;
export const ACTIVITY_NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

const PARTITION = /^aws(-[a-z]+)*$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const ACCOUNT = /^\d{12}$/;

export type ActivityArnCheck = { ok: true; name: string } | { ok: false; problem: string };

/** Checks an activity ARN and returns its activity name, or the first problem found. */
export function checkActivityArn(arn: string): ActivityArnCheck {
  const fail = (problem: string): ActivityArnCheck => ({ ok: false, problem });
  if (arn.length === 0) return fail('must not be empty');
  if (arn.length > ACTIVITY_ARN_MAX_LENGTH) {
    return fail(`must be at most ${ACTIVITY_ARN_MAX_LENGTH} characters (got ${arn.length})`);
  }
  const parts = arn.split(':');
  if (parts[0] !== 'arn' || parts.length < 6) {
    const shown = arn.length > 60 ? `${arn.slice(0, 57)}...` : arn;
    return fail(`not an activity ARN; expected arn:aws:states:<region>:<account>:activity:<name> (got ${JSON.stringify(shown)})`);
  }
  const [, partition, service, region, account, resourceType, ...rest] = parts;
  if (!PARTITION.test(partition)) return fail(`partition must be aws, aws-cn or aws-us-gov (got "${partition}")`);
  if (service !== 'states') return fail(`service must be "states" (got "${service}")`);
  if (!REGION.test(region)) return fail(`region must look like us-east-1 (got "${region}")`);
  if (!ACCOUNT.test(account)) return fail(`account must be 12 digits (got "${account}")`);
  if (resourceType !== 'activity') {
    return fail(`resource type must be "activity" (got "${resourceType}"); state machine ARNs are not accepted`);
  }
  if (rest.length === 0 || rest.join(':') === '') return fail('missing the activity name after ":activity:"');
  if (rest.length > 1) return fail('the activity name must not contain ":"');
  const name = rest[0];
  if (!ACTIVITY_NAME_PATTERN.test(name)) {
    return fail(`activity name must be 1..80 characters of A-Z a-z 0-9 _ - (got "${name}")`);
  }
  return { ok: true, name };
}
