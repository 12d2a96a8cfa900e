import { createServer, Server } from 'node:net';
import { readFileSync } from 'node:fs';
import { RedisNodeProcess, spareLoopbackPort } from './redis-node-process';

const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

describe('spareLoopbackPort', () => {
  it('picks ports below the kernel ephemeral range, where no outgoing connection can take them first', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => spareLoopbackPort()));
    const outside = ports.filter((p) => p >= ephemeralLow || p < 1_024);
    expect({ outside, distinct: new Set(ports).size > 1 }).toEqual({ outside: [], distinct: true });
  });
});

describe('RedisNodeProcess', () => {
  let holder: Server | undefined;
  afterEach(() => new Promise<void>((r) => (holder ? holder.close(() => r()) : r())));

  it('fails start() at once, with the server output, when its port is taken', async () => {
    const port = await spareLoopbackPort();
    // Like the CI failure: something else listens there and hangs up on whatever connects.
    holder = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => holder!.listen({ port, host: '127.0.0.1' }, () => r()));
    const node = new RedisNodeProcess(port, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    const t0 = Date.now();
    const err = await node.start().then(
      () => new Error('started'),
      (e: Error) => e,
    );
    expect({ message: err.message, fast: Date.now() - t0 < 10_000 }).toEqual({
      message: expect.stringMatching(/exited \(1\) before it answered PING[\s\S]*(Address already in use|bind)/),
      fast: true,
    });
  });
});
