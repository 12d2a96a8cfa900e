import {
  CreateActivityCommand,
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeExecutionCommandOutput,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { waitFor } from './wait-for';

/** A test-side SDK client (the test plays Step Functions' user: start and watch executions). */
export function testSfnClient(endpoint: string): SFNClient {
  return new SFNClient({
    region: 'us-east-1',
    endpoint,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }) }),
  });
}

export interface TaskStateOptions {
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
}

/** Creates an activity and a one-Task state machine that runs it. */
export async function createActivityMachine(
  sfn: SFNClient,
  label: string,
  opts: TaskStateOptions = {},
): Promise<{ activityArn: string; activityName: string; stateMachineArn: string }> {
  const activityName = `${label}-${randomBytes(3).toString('hex')}`;
  const { activityArn } = await sfn.send(new CreateActivityCommand({ name: activityName }));
  const definition = {
    StartAt: 'Work',
    States: {
      Work: {
        Type: 'Task',
        Resource: activityArn,
        TimeoutSeconds: opts.timeoutSeconds ?? 300,
        ...(opts.heartbeatSeconds ? { HeartbeatSeconds: opts.heartbeatSeconds } : {}),
        End: true,
      },
    },
  };
  const { stateMachineArn } = await sfn.send(
    new CreateStateMachineCommand({
      name: `${activityName}-sm`,
      definition: JSON.stringify(definition),
      roleArn: 'arn:aws:iam::123456789012:role/sfn-local',
    }),
  );
  return { activityArn: activityArn!, activityName, stateMachineArn: stateMachineArn! };
}

export async function startExecution(sfn: SFNClient, stateMachineArn: string, input: unknown): Promise<string> {
  const out = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
  return out.executionArn!;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

/** Waits until the execution is terminal; returns its description. */
export async function waitForExecution(sfn: SFNClient, executionArn: string, timeoutMs = 20_000): Promise<DescribeExecutionCommandOutput> {
  return waitFor(
    async () => {
      const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return TERMINAL.has(d.status ?? '') ? d : undefined;
    },
    { timeoutMs, intervalMs: 100, message: `execution ${executionArn.split(':').pop()} to end` },
  );
}
