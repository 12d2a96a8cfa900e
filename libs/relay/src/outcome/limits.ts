/**
 * Step Functions size limits that shape a task outcome.
 *
 * - `outputBytes`: `SendTaskSuccess.output` is at most 256 KiB of UTF-8 JSON.
 * - `errorChars`: `SendTaskFailure.error` is at most 256 characters.
 * - `causeChars`: `SendTaskFailure.cause` is at most 32,768 characters.
 */
export const SFN_LIMITS = { outputBytes: 262_144, errorChars: 256, causeChars: 32_768 } as const;

/** Exact number of bytes `s` takes when encoded as UTF-8. */
export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Formats an integer with thousands separators (`307215` -> `307,215`), independent of locale/ICU. */
export function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
