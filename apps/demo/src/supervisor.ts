import { ChildSpec, killAllChildren, ManagedChild } from '@bridge/common';

/**
 * Owns every child of the demo: starts them, reports one that dies on its own, stops them in
 * reverse start order, and kills whatever is left when the demo process exits for any reason.
 */
export class Supervisor {
  private readonly children: ManagedChild[] = [];
  /** The first child that exited without being asked to. */
  diedUnexpectedly?: ManagedChild;
  private readonly onExitHook = () => killAllChildren();

  constructor(
    private readonly onLine: (child: ManagedChild, line: string) => void,
    private readonly onUnexpectedExit: (child: ManagedChild) => void,
  ) {
    process.on('exit', this.onExitHook);
  }

  /**
   * Starts `node <args>` in its own process group (a Ctrl-C reaches only the demo, which stops the
   * children in order); its lines go to `onLine`. Readiness is the caller's (waitForLine).
   */
  start(spec: Omit<ChildSpec, 'onLine' | 'processGroup'>): ManagedChild {
    const child: ManagedChild = new ManagedChild({ ...spec, processGroup: true, onLine: (line) => this.onLine(child, line) });
    void child.start();
    this.watch(child);
    return child;
  }

  /** Takes a child the caller started (a private redis-server): watched and stopped like the others. */
  adopt<C extends ManagedChild>(child: C): C {
    this.watch(child);
    return child;
  }

  private watch(child: ManagedChild): void {
    this.children.push(child);
    void child.exited.then(() => {
      if (child.stopping) return;
      this.diedUnexpectedly ??= child;
      this.onUnexpectedExit(child);
    });
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
      await child.stop('SIGTERM', graceMs(child));
    }
    process.off('exit', this.onExitHook);
  }
}
