import { createHash, createHmac, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';

/**
 * Opaque task tokens: standard base64 (with `+`, `/` and a trailing `=`), 684 characters.
 * Layout of the 512 decoded bytes: version(1) | instance(8) | epoch(4) | taskId(6) | filler | mac(32).
 * The MAC (HMAC-SHA256 with a per-instance secret) makes a tampered token detectable (InvalidToken),
 * while a well-formed token from another emulator instance or an earlier reset is merely unknown
 * (TaskDoesNotExist).
 */
const RAW = 512;
const MAC = 32;
const HEAD = 1 + 8 + 4 + 6;
export const TOKEN_LENGTH = Math.ceil(RAW / 3) * 4;
const VERSION = 0x2a;
const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

export type TokenCheck =
  | { kind: 'ok'; taskId: number }
  | { kind: 'malformed' }
  | { kind: 'foreign' };

export class TokenCodec {
  private readonly instance = randomBytes(8);
  private readonly secret = randomBytes(32);
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
      randomFillSync(b, HEAD, RAW - HEAD - MAC);
      this.mac(b).copy(b, RAW - MAC);
      const token = b.toString('base64');
      // Real tokens contain '+' and '/'; with ~490 random bytes this almost always holds already.
      if (token.includes('+') && token.includes('/')) return token;
    }
  }

  check(token: string): TokenCheck {
    if (token.length !== TOKEN_LENGTH || !B64.test(token)) return { kind: 'malformed' };
    const b = Buffer.from(token, 'base64');
    if (b.length !== RAW || b[0] !== VERSION) return { kind: 'malformed' };
    if (!b.subarray(1, 9).equals(this.instance) || b.readUInt32BE(9) !== this.epoch) {
      // Same structure, but not ours (or from before a reset): well-formed yet unknown.
      return { kind: 'foreign' };
    }
    if (!timingSafeEqual(this.mac(b), b.subarray(RAW - MAC))) return { kind: 'malformed' };
    return { kind: 'ok', taskId: b.readUIntBE(13, 6) };
  }

  private mac(b: Buffer): Buffer {
    return createHmac('sha256', this.secret).update(b.subarray(0, RAW - MAC)).digest();
  }
}

/** sha256(token) in hex: how tests and the bridge refer to a token without holding it. */
export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');
