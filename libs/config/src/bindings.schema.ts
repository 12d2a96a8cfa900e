import { z } from 'zod';
import { checkActivityArn } from './activity-arn';
import { HIDE_INPUT } from './format-issues';
import { queueNameSchema } from './queue-name.schema';

/**
 * The bindings document (`BRIDGE_CONFIG` file or `BRIDGE_BINDINGS`): `{ bindings: [ ... ] }`.
 * Strict: unknown keys are errors. Defaults that depend on other settings (jobName,
 * heartbeatSeconds) are applied by `parseBindingsFile`; `defaultLabel` documents them.
 */

const label = (defaultLabel: string) => ({ defaultLabel }) as Record<string, unknown>;

/** An integer; a wrong type (e.g. the string "8") reads "must be an integer", missing reads "is required". */
const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .int({ error: (iss) => (iss.code === 'invalid_type' && iss.input !== undefined ? 'must be an integer' : undefined) })
    .min(min)
    .max(max);

export const BULLMQ_MAX_PRIORITY = 2_097_152;

const activityArnSchema = z.string().check((ctx) => {
  const result = checkActivityArn(ctx.value);
  if (!result.ok) ctx.issues.push({ code: 'custom', message: result.problem, input: ctx.value, params: HIDE_INPUT });
});

const keepSchema = z.union([z.boolean(), int(0)], {
  error: 'must be true, false or a number of jobs to keep (integer >= 0)',
});

export const backoffSchema = z.strictObject({
  type: z.enum(['fixed', 'exponential']).describe('`fixed`: the same delay before every retry; `exponential`: `delay * 2^(attempt-1)`.'),
  delay: int(0).describe('Base delay in milliseconds.'),
});

export const jobOptionsSchema = z.strictObject({
  priority: int(0, BULLMQ_MAX_PRIORITY).optional().describe(`BullMQ priority, 0 (none) or 1 (highest) .. ${BULLMQ_MAX_PRIORITY}.`),
  removeOnComplete: keepSchema.optional().describe('BullMQ `removeOnComplete`: `true`, `false` or how many completed jobs to keep.'),
  removeOnFail: keepSchema.optional().describe('BullMQ `removeOnFail`: `true`, `false` or how many failed jobs to keep.'),
});

export const pollerRangeSchema = z
  .strictObject({
    min: int(1, 1000).describe('Pollers an idle binding keeps per replica.'),
    max: int(1, 1000).describe('Pollers a busy binding may grow to per replica.'),
  })
  .refine((r) => r.min <= r.max, { message: 'must be <= max', path: ['min'], params: HIDE_INPUT });

export const bindingSchema = z.strictObject({
  activityArn: activityArnSchema.describe(
    'Activity to poll: `arn:aws:states:<region>:<account>:activity:<name>` (1..256 characters; name 1..80 of `A-Z a-z 0-9 _ -`). One binding per ARN.',
  ),
  queue: queueNameSchema.describe('BullMQ queue the consumers listen on (no `:`). Several bindings may share a queue; not `sfn-bridge`.'),
  jobName: z.string().min(1).max(200).optional().describe('BullMQ job name of the tasks.').meta(label('the activity name')),
  pollers: z
    .union([int(1, 1000), pollerRangeSchema], { error: 'must be an integer 1..1000 or { min, max }' })
    .default(4)
    .describe(
      'Concurrent `GetActivityTask` long polls per replica: a number (fixed), or `{ min, max }` (autoscaled: starts at `min`, grows while polls return tasks and `maxPending` has room, sheds on empty polls). Step Functions allows 1,000 parked polls per ARN over all replicas.',
    ),
  maxPending: int(1)
    .default(100)
    .describe(
      'Tasks taken from Step Functions and not yet closed (relayed, failed, expired, cancelled), including polls in flight, summed over all replicas (kept in Redis); no poll starts beyond it.',
    ),
  attempts: int(1, 100).default(1).describe('BullMQ attempts of a task before its failure is sent to Step Functions.'),
  backoff: backoffSchema.optional().describe('BullMQ backoff between attempts: `{ type, delay }`.').meta(label('none (immediate retry)')),
  heartbeatSeconds: int(1, 86400)
    .optional()
    .describe("Interval (s) of the bridge's heartbeats while the task waits or runs; below the Task state's `HeartbeatSeconds`.")
    .meta(label('`HEARTBEAT_DEFAULT_SECONDS`')),
  jobOptions: jobOptionsSchema.default({}).describe('Other BullMQ job options.'),
});

export const bindingsDocumentSchema = z.strictObject({
  bindings: z.array(bindingSchema).min(1).describe('The routes, at least one.'),
});

export type ParsedBinding = z.output<typeof bindingSchema>;

const KEYS = {
  root: Object.keys(bindingsDocumentSchema.shape),
  binding: Object.keys(bindingSchema.shape),
  backoff: Object.keys(backoffSchema.shape),
  jobOptions: Object.keys(jobOptionsSchema.shape),
  pollers: ['min', 'max'],
};

/** The keys allowed in the object at `path` of a bindings document (for "did you mean"). */
export function knownBindingKeys(path: readonly PropertyKey[]): readonly string[] {
  if (path.length === 0) return KEYS.root;
  const last = path[path.length - 1];
  if (typeof last === 'number') return KEYS.binding;
  if (last === 'backoff') return KEYS.backoff;
  if (last === 'jobOptions') return KEYS.jobOptions;
  if (last === 'pollers') return KEYS.pollers;
  return [];
}
