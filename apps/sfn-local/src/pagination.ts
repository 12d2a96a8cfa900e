import { invalidToken } from './errors';
import { optInt, optString } from './validation';

/** Offset pagination with opaque `nextToken`s; a token not issued by this action is InvalidToken. */
export function paginate<T>(body: Record<string, unknown>, kind: string, items: T[], defaultMax = 100): { page: T[]; nextToken?: string } {
  const max = optInt(body, 'maxResults', 0, 1000) || defaultMax;
  const token = optString(body, 'nextToken', 1, 1024);
  let offset = 0;
  if (token !== undefined) {
    const m = /^([A-Za-z]+):(\d+)$/.exec(Buffer.from(token, 'base64').toString('utf8'));
    if (!m || m[1] !== kind || Number(m[2]) > items.length) throw invalidToken(`Invalid Token: '${token.slice(0, 40)}'`);
    offset = Number(m[2]);
  }
  const page = items.slice(offset, offset + max);
  const end = offset + page.length;
  return { page, nextToken: end < items.length ? Buffer.from(`${kind}:${end}`).toString('base64') : undefined };
}

export const epochSeconds = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms / 1000);
