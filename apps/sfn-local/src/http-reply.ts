import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { SfnError } from './errors';

export const AMZ_JSON = 'application/x-amz-json-1.0';

export function replyJson(res: ServerResponse, status: number, body: string, contentType = AMZ_JSON): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': randomUUID(),
  });
  res.end(body);
}

export function replyError(res: ServerResponse, err: SfnError): void {
  replyJson(res, err.status, err.body());
}
