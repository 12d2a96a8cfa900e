import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as decoded from an OTLP/HTTP JSON export request (ids hex, attributes flattened). */
export interface ReceivedSpan {
  service: string;
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  status?: { code?: number; message?: string };
}

interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}
type KeyValue = { key: string; value?: AnyValue };

const flatten = (kvs: KeyValue[] = []): Record<string, unknown> => Object.fromEntries(kvs.map((kv) => [kv.key, valueOf(kv.value)]));

function valueOf(v: AnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(valueOf);
  return undefined;
}

/**
 * A small OTLP/HTTP receiver for tests: accepts `POST /v1/traces` with `application/json` bodies
 * (the exporter's `http/json` protocol), keeps every raw body and decodes each span. Any other
 * request or a body that is not OTLP JSON is answered 400 and recorded as a problem.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly rawBodies: string[] = [];
  readonly problems: string[] = [];
  private readonly listeners = new Set<() => void>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<OtlpReceiver> {
    let receiver: OtlpReceiver | undefined;
    const server = createServer((req, res) => receiver!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = new OtlpReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return receiver;
  }

  /** Resolves once `predicate(spans)` holds (checked on every export), or rejects after `timeoutMs` saying what was seen. */
  waitFor(predicate: (spans: ReceivedSpan[]) => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate(this.spans)) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        const names = this.spans.map((s) => `${s.service}:${s.name}`).join(', ');
        reject(
          new Error(
            `OTLP receiver: ${what} not seen within ${timeoutMs} ms; got ${this.spans.length} spans: ${names}; problems: ${this.problems.join('; ')}`,
          ),
        );
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
        this.problems.push(`${req.method} ${req.url} (${req.headers['content-type']})`);
        res.writeHead(400).end();
        return;
      }
      this.rawBodies.push(body);
      try {
        this.decode(JSON.parse(body));
      } catch (err) {
        this.problems.push(`undecodable body: ${(err as Error).message}`);
        res.writeHead(400).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      this.listeners.forEach((l) => l());
    });
  }

  private decode(request: { resourceSpans?: unknown[] }): void {
    if (!Array.isArray(request.resourceSpans)) throw new Error('no resourceSpans');
    for (const rs of request.resourceSpans as { resource?: { attributes?: KeyValue[] }; scopeSpans?: unknown[] }[]) {
      const service = String(flatten(rs.resource?.attributes)['service.name'] ?? '');
      for (const ss of (rs.scopeSpans ?? []) as { scope?: { name?: string }; spans?: Record<string, unknown>[] }[]) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            service,
            scope: ss.scope?.name ?? '',
            traceId: String(s.traceId),
            spanId: String(s.spanId),
            parentSpanId: s.parentSpanId ? String(s.parentSpanId) : undefined,
            name: String(s.name),
            kind: Number(s.kind),
            attributes: flatten(s.attributes as KeyValue[]),
            events: ((s.events ?? []) as { name: string; attributes?: KeyValue[] }[]).map((e) => ({
              name: e.name,
              attributes: flatten(e.attributes),
            })),
            status: s.status as ReceivedSpan['status'],
          });
        }
      }
    }
  }
}
