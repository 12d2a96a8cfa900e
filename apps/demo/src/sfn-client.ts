import { sleep } from '@bridge/common';
import { DemoError } from './demo-error';
import { ListActivitiesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:http';

/** The demo plays Step Functions' user: it creates, starts and watches executions. */
export function demoSfnClient(endpoint: string): SFNClient {
  return new SFNClient({
    endpoint,
    region: process.env.AWS_REGION || 'us-east-1',
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID || 'local',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || 'local',
    },
    maxAttempts: 3,
    requestHandler: new NodeHttpHandler({
      httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }),
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      throwOnRequestTimeout: true,
    }),
  });
}

/** Retries a cheap call until the endpoint answers (an emulator still starting, in docker-compose). */
export async function waitForSfn(sfn: SFNClient, endpoint: string, attempts: number, note: (t: string) => void): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await sfn.send(new ListActivitiesCommand({ maxResults: 1 }));
      return;
    } catch (e) {
      if (i >= attempts)
        throw new DemoError(`Step Functions at ${endpoint} does not answer after ${attempts} attempts: ${(e as Error).message}`);
      if (i === 1 || i % 5 === 0) note(`waiting for Step Functions at ${endpoint} (${(e as Error).message})`);
      await sleep(1000);
    }
  }
}
