import { Agent, request } from 'node:http';
import { spawn, ChildProcess } from 'node:child_process';

/** A minimal keep-alive JSON-over-HTTP client (no SDK), as a benchmark load generator. */
export class RawClient {
  readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(url: string, sockets: number) {
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  /** awsJson1_0 call; resolves with status and parsed body. */
  call(target: string, body: unknown, path = '/'): Promise<{ status: number; body: any }> {
    const data = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.host, port: this.port, path, method: 'POST', agent: this.agent,
          headers: { 'X-Amz-Target': `AWSStepFunctions.${target}`, 'Content-Type': 'application/x-amz-json-1.0', 'Content-Length': Buffer.byteLength(data) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : {} });
          });
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  }

  get(path: string): Promise<any> {
    return new Promise((resolve, reject) => {
      request({ host: this.host, port: this.port, path, method: 'GET', agent: this.agent }, (res) => {
        let t = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (t += c));
        res.on('end', () => resolve(JSON.parse(t)));
      })
        .on('error', reject)
        .end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Spawns a Node child and resolves with the first http:// URL it prints on stdout. */
export async function spawnServer(args: string[], cwd: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 20_000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => {
      out += c;
      const m = /(http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { child, url };
}

/** CPU seconds used (user + system) between two process.cpuUsage() readings, per wall second. */
export const coreFraction = (a: { user: number; system: number }, b: { user: number; system: number }, wallMs: number): number =>
  (b.user + b.system - a.user - a.system) / 1000 / wallMs;
