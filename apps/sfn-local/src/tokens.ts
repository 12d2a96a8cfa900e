import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Opaque task tokens: standard base64 (with `+`, `/` and a trailing `=`), 684 characters.
 * Layout of the 512 decoded bytes: version(1) | instance(8) | epoch(4) | taskId(6) | filler | mac(32).
 * The MAC (HMAC-SHA256 with a per-instance secret) makes a tampered token detectable (InvalidToken),
 * while a well-formed token from another emulator instance or an earlier reset is merely unknown
 * (TaskDoesNotExist). The filler comes from a random pool at a random offset: uniqueness and
 * integrity come from the header and the MAC, so it needs no fresh entropy per token.
 */
const RAW = 512;
const MAC = 32;
const HEAD = 1 + 8 + 4 + 6;
const FILLER = RAW - HEAD - MAC;
export const TOKEN_LENGTH = Math.ceil(RAW / 3) * 4;
/** Base64 characters that cover the header bytes (HEAD rounded up to whole 3-byte groups). */
const HEAD_CHARS = Math.ceil(HEAD / 3) * 4;
const VERSION = 0x2a;
const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

export type TokenHeader = { kind: 'ours'; taskId: number } | { kind: 'malformed' } | { kind: 'foreign' };

export class TokenCodec {
  private readonly instance = randomBytes(8);
  private readonly secret = randomBytes(32);
  private readonly pool = randomBytes(64 * 1024);
  private epoch = 1;
  private readonly buf = Buffer.allocUnsafe(RAW);

  /** Invalidates every token issued so far (they become unknown, not malformed). */
  bumpEpoch(): void {
    this.epoch++;
  }

  issue(taskId: number): string {
    const b = this.buf;
    for (;;) {
      b[0] = VERSION;
      this.instance.copy(b, 1);
      b.writeUInt32BE(this.epoch, 9);
      b.writeUIntBE(taskId, 13, 6);
      const at = Math.floor(Math.random() * (this.pool.length - FILLER));
      this.pool.copy(b, HEAD, at, at + FILLER);
      this.mac(b).copy(b, RAW - MAC);
      const token = b.toString('base64');
      // Real tokens contain '+' and '/'; with ~460 random bytes this almost always holds already.
      if (token.includes('+') && token.includes('/')) return token;
    }
  }

  /**
   * Cheap first look: which task a token claims to be, from its header alone. The caller compares
   * the whole string with the issued token; only a mismatch needs `verify`.
   */
  header(token: string): TokenHeader {
    if (token.length !== TOKEN_LENGTH) return { kind: 'malformed' };
    const h = Buffer.from(token.slice(0, HEAD_CHARS), 'base64');
    if (h.length < HEAD || h[0] !== VERSION) return { kind: 'malformed' };
    if (!h.subarray(1, 9).equals(this.instance) || h.readUInt32BE(9) !== this.epoch) return { kind: 'foreign' };
    return { kind: 'ours', taskId: h.readUIntBE(13, 6) };
  }

  /** Right length and alphabet (says nothing about who issued it). */
  wellFormed(token: string): boolean {
    return token.length === TOKEN_LENGTH && B64.test(token);
  }

  /** Full check: structure, then MAC. True if this emulator issued exactly this token. */
  verify(token: string): boolean {
    if (!this.wellFormed(token)) return false;
    const b = Buffer.from(token, 'base64');
    return b.length === RAW && timingSafeEqual(this.mac(b), b.subarray(RAW - MAC));
  }

  private mac(b: Buffer): Buffer {
    return createHmac('sha256', this.secret)
      .update(b.subarray(0, RAW - MAC))
      .digest();
  }
}

/** sha256(token) in hex: how tests and the bridge refer to a token without holding it. */
export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');
