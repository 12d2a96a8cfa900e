import { CreateActivityCommand, CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { createHash } from 'node:crypto';

/**
 * The demo's business case: charging cards. The activity name, region and account give the ARN
 * that docker/bindings.demo.yaml binds to the `payments` queue (keep them in step).
 */
export const ACTIVITY_NAME = 'charge-card';
export const DEMO_ACTIVITY_ARN = 'arn:aws:states:us-east-1:123456789012:activity:charge-card';
export const QUEUE = 'payments';
const STATE_MACHINE_NAME = 'charge-card-demo';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/sfn-local';

/** Task on the activity; a PaymentDeclined thrown by the worker is caught into a Fail state. */
export function definition(activityArn: string): string {
  return JSON.stringify({
    Comment: 'sfn-bullmq-bridge demo: charge a card through a BullMQ worker',
    StartAt: 'ChargeCard',
    States: {
      ChargeCard: {
        Type: 'Task',
        Resource: activityArn,
        TimeoutSeconds: 300,
        HeartbeatSeconds: 60,
        Catch: [{ ErrorEquals: ['PaymentDeclined'], Next: 'Declined' }],
        End: true,
      },
      Declined: { Type: 'Fail', Error: 'PaymentDeclined', Cause: 'The card was declined (caught by the state machine)' },
    },
  });
}

/** Creates (idempotently) the activity and the state machine; returns their ARNs. */
export async function createScenario(sfn: SFNClient): Promise<{ activityArn: string; stateMachineArn: string }> {
  const { activityArn } = await sfn.send(new CreateActivityCommand({ name: ACTIVITY_NAME }));
  const def = definition(activityArn!);
  const create = (name: string) => sfn.send(new CreateStateMachineCommand({ name, definition: def, roleArn: ROLE_ARN }));
  try {
    const { stateMachineArn } = await create(STATE_MACHINE_NAME);
    return { activityArn: activityArn!, stateMachineArn: stateMachineArn! };
  } catch (e) {
    if ((e as Error).name !== 'StateMachineAlreadyExists') throw e;
    // A machine of that name with another definition (an older demo): use one named by this definition.
    const suffix = createHash('sha256').update(def).digest('hex').slice(0, 8);
    const { stateMachineArn } = await create(`${STATE_MACHINE_NAME}-${suffix}`);
    return { activityArn: activityArn!, stateMachineArn: stateMachineArn! };
  }
}

export interface ChargeInput {
  orderId: string;
  amountCents: number;
  card: string;
  /** Makes the worker slow, reporting progress (heartbeats). */
  workMs?: number;
}

export type Expectation = 'charged' | 'declined';

/** Roughly 10 % declined cards (4000...), 10 % slow charges; deterministic per index. */
export function inputFor(runId: string, i: number): { input: ChargeInput; expect: Expectation } {
  const declined = i % 10 === 3;
  const slow = i % 10 === 7;
  const input: ChargeInput = {
    orderId: `${runId}-${i}`,
    amountCents: 100 + ((i * 7919) % 99_900),
    card: declined ? `4000000000000${String(i % 1000).padStart(3, '0')}` : '4242424242424242',
    ...(slow ? { workMs: 1500 + ((i * 37) % 1500) } : {}),
  };
  return { input, expect: declined ? 'declined' : 'charged' };
}

export interface Outcome {
  status?: string;
  error?: string;
  cause?: string;
  output?: string;
}

/** Undefined when the execution ended as expected, else why not. */
export function unexpectedReason(input: ChargeInput, expect: Expectation, o: Outcome): string | undefined {
  if (expect === 'declined') {
    if (o.status === 'FAILED' && o.error === 'PaymentDeclined') return undefined;
    return `expected FAILED PaymentDeclined, got ${describe(o)}`;
  }
  if (o.status !== 'SUCCEEDED') return `expected SUCCEEDED, got ${describe(o)}`;
  let out: { orderId?: unknown; amountCents?: unknown; status?: unknown } | null = null;
  try {
    out = JSON.parse(o.output ?? 'null');
  } catch {
    /* reported below */
  }
  if (out?.orderId === input.orderId && out.amountCents === input.amountCents && out.status === 'charged') return undefined;
  return `SUCCEEDED with unexpected output ${String(o.output).slice(0, 200)}`;
}

function describe(o: Outcome): string {
  return [o.status, o.error, o.cause && `(${o.cause.slice(0, 160)})`].filter(Boolean).join(' ');
}
