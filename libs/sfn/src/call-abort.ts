import type { ServiceInputTypes, ServiceOutputTypes, SFNClient } from '@aws-sdk/client-sfn';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * An abort signal for one SDK call that keeps the client's cached middleware (`HOT_PATH`).
 *
 * The SDK takes a per-call signal only as `client.send(command, { abortSignal })`, and any per-call
 * options make it resolve the whole middleware stack again and drop the client's handler cache
 * (`@smithy/core` Client.send): measured with `npx tsx bench/sdk-client.bench.ts` (9 rounds,
 * medians), 0.458 CPU-ms per SendTaskSuccess without a signal, 0.647 with it as a call option
 * (what the relay paid on every send), 0.526 carried as here. The signal rides on the
 * command's input instead (a symbol key the serializer never sees); a middleware placed after
 * signing copies it onto the signed request of each attempt, and the request handler passes it to
 * the SDK's own NodeHttpHandler, which aborts as with a per-call signal. Hand-written: the SDK has
 * no per-call option that leaves its cache alone.
 */
const SIGNAL = Symbol('sfnBridgeAbortSignal');

type WithSignal = { [SIGNAL]?: AbortSignal };

/** `input` for a command whose call `signal` aborts (the same object; the key is not serialized). */
export function withAbortSignal<T extends object>(input: T, signal: AbortSignal | undefined): T {
  if (signal) Object.defineProperty(input, SIGNAL, { value: signal, enumerable: false });
  return input;
}

/** The SDK's Node handler, handing a signal found on the request to it as the call's `abortSignal`. */
export class AbortableHttpHandler extends NodeHttpHandler {
  override handle(...[request, options]: Parameters<NodeHttpHandler['handle']>): ReturnType<NodeHttpHandler['handle']> {
    const signal = (request as WithSignal)[SIGNAL];
    return super.handle(request, signal ? { ...options, abortSignal: signal } : options);
  }
}

/** Adds the middleware that moves a command input's signal onto each signed request. */
export function carryAbortSignals(client: SFNClient): void {
  const middleware: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => (args) => {
    const signal = (args.input as WithSignal)[SIGNAL];
    if (signal) Object.defineProperty(args.request as object, SIGNAL, { value: signal, enumerable: false });
    return next(args);
  };
  client.middlewareStack.addRelativeTo(middleware, {
    name: 'sfnBridgeAbortSignal',
    relation: 'after',
    toMiddleware: 'httpSigningMiddleware',
  });
}
