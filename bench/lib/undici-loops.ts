import { Client, type Dispatcher } from 'undici';

/**
 * The load generator: one undici `Client` per loop, i.e. one keep-alive HTTP/1.1 connection per
 * loop with pipelining 1, so each loop has exactly one request in flight, as an SDK worker does.
 * Requests go through undici's `dispatch` with a small handler that collects the body and parses
 * it as JSON: the same HTTP work as `request()` without the Readable stream per response.
 */
export type Reply = { status: number; body: any };

class Collect implements Dispatcher.DispatchHandlers {
  private status = 0;
  private chunks: Buffer[] = [];
  constructor(
    private readonly resolve: (r: Reply) => void,
    private readonly reject: (e: Error) => void,
  ) {}
  onConnect(): void {}
  onHeaders(statusCode: number): boolean {
    this.status = statusCode;
    return true;
  }
  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }
  onComplete(): void {
    const text = this.chunks.length === 1 ? this.chunks[0].toString('utf8') : Buffer.concat(this.chunks).toString('utf8');
    let body: any = {};
    try {
      if (text) body = JSON.parse(text);
    } catch (e) {
      return this.reject(new Error(`HTTP ${this.status}: body is not JSON: ${text.slice(0, 200)}`));
    }
    this.resolve({ status: this.status, body });
  }
  onError(err: Error): void {
    this.reject(err);
  }
}

/** One loop's connection: awsJson1_0 calls over a single keep-alive socket. */
export class LoopConnection {
  private readonly client: Client;

  constructor(readonly origin: string) {
    this.client = new Client(origin, { pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 });
  }

  call(target: string, body: unknown): Promise<Reply> {
    const data = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      this.client.dispatch(
        {
          origin: this.origin,
          path: '/',
          method: 'POST',
          body: data,
          headers: { 'x-amz-target': `AWSStepFunctions.${target}`, 'content-type': 'application/x-amz-json-1.0' },
        },
        new Collect(resolve, reject),
      );
    });
  }

  /** A JSON POST to another path (the emulator's /_local/ hooks). */
  callPath(path: string, body: unknown): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.client.dispatch(
        { origin: this.origin, path, method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } },
        new Collect(resolve, reject),
      );
    });
  }

  get(path: string): Promise<any> {
    return new Promise<Reply>((resolve, reject) => {
      this.client.dispatch({ origin: this.origin, path, method: 'GET' }, new Collect(resolve, reject));
    }).then((r) => r.body);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
