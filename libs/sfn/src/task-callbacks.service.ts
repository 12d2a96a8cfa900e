import { SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { Inject, Injectable } from '@nestjs/common';
import { BridgeMetrics } from '@bridge/metrics';
import { withAbortSignal } from './call-abort';
import { SFN_CALLBACK_CLIENT, SFN_HEARTBEAT_CLIENT } from './sfn.constants';
import { classifySfnError, SfnErrorKind, sfnErrorName } from './sfn-error-kind';

/** What a SendTask* call came to. `gone`: the task no longer exists (never retry). */
export type CallbackResult = { ok: true } | { ok: false; kind: SfnErrorKind; name: string; error: unknown };

/**
 * SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat over the callback client (its own socket
 * pool), counting AWS errors by name. Never throws: the caller decides from `kind`.
 */
@Injectable()
export class TaskCallbacks {
  constructor(
    @Inject(SFN_CALLBACK_CLIENT) private readonly client: SFNClient,
    @Inject(SFN_HEARTBEAT_CLIENT) private readonly heartbeatClient: SFNClient,
    private readonly metrics: BridgeMetrics,
  ) {}

  /** `signal` aborts the call (a relay whose job lock may lapse stops its send in time). */
  success(taskToken: string, output: string, signal?: AbortSignal): Promise<CallbackResult> {
    return this.call('SendTaskSuccess', new SendTaskSuccessCommand(withAbortSignal({ taskToken, output }, signal)));
  }

  failure(taskToken: string, error: string, cause: string, signal?: AbortSignal): Promise<CallbackResult> {
    return this.call('SendTaskFailure', new SendTaskFailureCommand(withAbortSignal({ taskToken, error, cause }, signal)));
  }

  heartbeat(taskToken: string): Promise<CallbackResult> {
    return this.call('SendTaskHeartbeat', new SendTaskHeartbeatCommand({ taskToken }), this.heartbeatClient);
  }

  private async call(
    operation: string,
    command: SendTaskSuccessCommand | SendTaskFailureCommand | SendTaskHeartbeatCommand,
    client: SFNClient = this.client,
  ): Promise<CallbackResult> {
    try {
      // The union of commands is not assignable to one overload of `send`; each is valid alone. No
      // per-call options: they would defeat the client's cached middleware (sfn-clients.factory.ts).
      await client.send(command as SendTaskSuccessCommand);
      return { ok: true };
    } catch (error) {
      const name = sfnErrorName(error);
      this.metrics.awsErrors.inc({ operation, error: name });
      return { ok: false, kind: classifySfnError(error), name, error };
    }
  }
}
