/**
 * Binding name -> activity ARN, for spans of steps that know only the binding's name (the relay
 * job holds the name). Filled once at start-up by TracingModule, read only with tracing on.
 */
const arns = new Map<string, string>();

export function registerTracedBindings(bindings: readonly { name: string; activityArn: string }[]): void {
  arns.clear();
  for (const b of bindings) arns.set(b.name, b.activityArn);
}

export function bindingArn(binding: string): string | undefined {
  return arns.get(binding);
}
