/**
 * Shortens `text` to at most `maxChars` UTF-16 code units (JavaScript `length`,
 * which is never less than the code point count), replacing the tail with a
 * marker such as `…[truncated 12345 chars]`, where the number is how many
 * characters of `text` were dropped. The result, marker included, never exceeds
 * `maxChars`. Text that already fits is returned unchanged.
 *
 * A surrogate pair is never split: if the cut would fall between its halves,
 * the high half is dropped too (and counted in the marker).
 *
 * When `maxChars` cannot hold even the marker, the text is cut without one.
 */
export function truncateText(text: string, maxChars: number): string {
  const limit = Math.max(0, Math.floor(maxChars));
  if (text.length <= limit) return text;

  // The marker's length depends on the dropped count, which depends on how much
  // room the marker takes. Pick the smallest digit budget that holds the count.
  for (let digits = 1; digits <= 16; digits++) {
    const keep = limit - markerLength(digits);
    if (keep < 0) break;
    if (String(text.length - keep).length <= digits) {
      // safeSlice may drop one more unit; the count may then gain a digit, but
      // the head lost one, so the total still fits.
      const head = safeSlice(text, keep);
      return head + marker(text.length - head.length);
    }
  }
  return safeSlice(text, limit);
}

const MARKER_PREFIX = '…[truncated ';
const MARKER_SUFFIX = ' chars]';

function marker(dropped: number): string {
  return `${MARKER_PREFIX}${dropped}${MARKER_SUFFIX}`;
}

function markerLength(digits: number): number {
  return MARKER_PREFIX.length + digits + MARKER_SUFFIX.length;
}

/** `text.slice(0, n)` that does not end on a lone high surrogate. */
function safeSlice(text: string, n: number): string {
  if (n <= 0) return '';
  const code = text.charCodeAt(n - 1);
  const endsOnHighSurrogate = code >= 0xd800 && code <= 0xdbff;
  return text.slice(0, endsOnHighSurrogate ? n - 1 : n);
}
