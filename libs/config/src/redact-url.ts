const SECRET_QUERY_KEY = /pass|secret|token|key|auth/i;

/**
 * Hides credentials in a URL so it can be logged: `redis://:secret@host` -> `redis://:***@host`,
 * `redis://user:secret@host` -> `redis://user:***@host`, `redis://secret@host` -> `redis://***@host`,
 * and the values of query parameters such as `?password=`. Works on strings that are not valid URLs
 * too (it errs on the side of hiding more).
 */
export function redactUrl(url: string): string {
  let out = url;
  const schemeEnd = out.indexOf('://');
  const authorityStart = schemeEnd === -1 ? 0 : schemeEnd + 3;
  const at = out.lastIndexOf('@');
  if (at >= authorityStart) {
    const userinfo = out.slice(authorityStart, at);
    const colon = userinfo.indexOf(':');
    const hidden = colon === -1 ? '***' : `${userinfo.slice(0, colon)}:***`;
    out = out.slice(0, authorityStart) + hidden + out.slice(at);
  }
  const q = out.indexOf('?');
  if (q !== -1) {
    const hashAt = out.indexOf('#', q);
    const end = hashAt === -1 ? out.length : hashAt;
    const query = out
      .slice(q + 1, end)
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        if (eq === -1) return pair;
        const key = pair.slice(0, eq);
        return SECRET_QUERY_KEY.test(key) ? `${key}=***` : pair;
      })
      .join('&');
    out = out.slice(0, q + 1) + query + out.slice(end);
  }
  return out;
}
