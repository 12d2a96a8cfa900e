import { ChildSpec, ManagedChild } from './managed-child';

/**
 * Owns every child of the demo: starts them, reports one that dies on its own, stops them in
 * reverse start order, and kills whatever is left when the demo process exits for any reason.
 */
export class Supervisor {
  private readonly children: ManagedChild[] = [];
  /** The first child that exited without being asked to. */
  diedUnexpectedly?: ManagedChild;
  private readonly onExitHook = () => this.children.forEach((c) => c.killNow());

  constructor(
    private readonly onLine: (child: ManagedChild, line: string) => void,
    private readonly onUnexpectedExit: (child: ManagedChild) => void,
  ) {
    process.on('exit', this.onExitHook);
  }

  start(spec: ChildSpec): ManagedChild {
    const child = new ManagedChild(spec, this.onLine);
    this.children.push(child);
    child.exited.then(() => {
      if (child.stopping) return;
      this.diedUnexpectedly ??= child;
      this.onUnexpectedExit(child);
    });
    return child;
  }

  get pids(): number[] {
    return this.children.filter((c) => c.running && c.pid !== undefined).map((c) => c.pid!);
  }

  /** SIGKILL to every child still running (a forced exit). */
  killAll(): void {
    this.children.forEach((c) => c.killNow());
  }

  /** Stops the children one by one, last started first (worker, bridge, emulator). */
  async stopAll(graceMs: (child: ManagedChild) => number, onStopping?: (child: ManagedChild) => void): Promise<void> {
    for (const child of [...this.children].reverse()) {
      if (!child.running) {
        child.killNow();
        continue;
      }
      onStopping?.(child);
      await child.stop(graceMs(child));
    }
    process.off('exit', this.onExitHook);
  }
}
