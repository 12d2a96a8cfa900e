import { ManagedChild } from './managed-child';

const node = (script: string) => ['-e', script];

describe('ManagedChild', () => {
  it('resolves start() on the ready line and keeps the output lines', async () => {
    const child = new ManagedChild({
      name: 'echo',
      args: node("console.log('booting'); console.log('ready on 42'); setInterval(() => {}, 1000)"),
      ready: /ready on (\d+)/,
    });
    try {
      await child.start();
      expect((await child.waitForLine(/ready on (\d+)/, 1_000))[1]).toBe('42');
      expect(child.lastLines()).toEqual(['booting', 'ready on 42']);
    } finally {
      await child.close();
    }
  });

  it('rejects start() with the last output when the child exits before it is ready', async () => {
    const child = new ManagedChild({ name: 'crasher', args: node("console.error('bad config'); process.exit(3)"), ready: /ready/ });
    const err = await child.start().catch((e: Error) => e);
    expect(String(err)).toMatch(/crasher exited \(code 3\) before printing a line matching \/ready\/:\nbad config/);
  });

  it('escalates to SIGKILL when SIGTERM is ignored, and says so', async () => {
    const child = new ManagedChild({
      name: 'stubborn',
      args: node("process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)"),
      ready: /up/,
    });
    await child.start();
    const stopped = await child.stop('SIGTERM', 200);
    expect(stopped.escalated).toBe(true);
    expect(child.describeExit()).toBe('signal SIGKILL');
    expect(child.running).toBe(false);
  });

  it('starts a new generation after a kill, with the env of that generation', async () => {
    const child = new ManagedChild({
      name: 'gen',
      args: node("console.log('gen ' + process.env.GEN); setInterval(() => {}, 1000)"),
      ready: /gen \d/,
    });
    child.envFor = (g) => ({ GEN: String(g) });
    try {
      await child.start();
      await child.stop('SIGKILL');
      await child.start();
      expect(child.generation).toBe(2);
      expect(child.lastLines()).toEqual(['gen 2']);
    } finally {
      await child.close();
    }
  });
});
