import { CreateActivityCommand, CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { BINDINGS, BindingKey, BindingPlan, Kind, KINDS } from './workload';

/** One binding's activity, its one-Task state machine, and the BullMQ queue the bridge feeds. */
export interface MachineRef {
  activityArn: string;
  stateMachineArn: string;
  queue: string;
}

/** One entry of the bridge's BRIDGE_BINDINGS. */
export interface BridgeBinding {
  activityArn: string;
  queue: string;
  pollers: number;
  maxPending: number;
  attempts: number;
  backoff?: BindingPlan['backoff'];
  heartbeatSeconds?: number;
}

export interface SfnResources {
  usedBindings: BindingKey[];
  machines: Map<BindingKey, MachineRef>;
  bindings: BridgeBinding[];
}

/** The machine that runs executions of `kind`. */
export function machineOf(machines: Map<BindingKey, MachineRef>, kind: Kind): MachineRef {
  return machines.get(KINDS[kind].binding)!;
}

/** Creates an activity and a state machine per binding the workload kinds use, and the bridge's bindings. */
export async function createSfnResources(
  sfn: SFNClient,
  kinds: Kind[],
  taskTimeoutSeconds: number,
  taskHeartbeatSeconds: number,
): Promise<SfnResources> {
  const usedBindings = [...new Set(kinds.map((k) => KINDS[k].binding))];
  const machines = new Map<BindingKey, MachineRef>();
  for (const key of usedBindings) {
    const plan = BINDINGS[key];
    const { activityArn } = await sfn.send(new CreateActivityCommand({ name: `chaos-${key}` }));
    const definition = {
      StartAt: 'Work',
      States: {
        Work: {
          Type: 'Task',
          Resource: activityArn,
          TimeoutSeconds: taskTimeoutSeconds,
          ...(plan.taskHeartbeat ? { HeartbeatSeconds: taskHeartbeatSeconds } : {}),
          End: true,
        },
      },
    };
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({
        name: `chaos-${key}`,
        definition: JSON.stringify(definition),
        roleArn: 'arn:aws:iam::123456789012:role/chaos',
      }),
    );
    machines.set(key, { activityArn: activityArn!, stateMachineArn: stateMachineArn!, queue: `chaos-${key}` });
  }
  const bindings: BridgeBinding[] = usedBindings.map((key) => {
    const p = BINDINGS[key];
    return {
      activityArn: machines.get(key)!.activityArn,
      queue: machines.get(key)!.queue,
      pollers: p.pollers,
      maxPending: p.maxPending,
      attempts: p.attempts,
      ...(p.backoff ? { backoff: p.backoff } : {}),
      ...(p.heartbeatSeconds ? { heartbeatSeconds: p.heartbeatSeconds } : {}),
    };
  });
  return { usedBindings, machines, bindings };
}
