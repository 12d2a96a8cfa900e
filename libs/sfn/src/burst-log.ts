import { Logger } from '@nestjs/common';

/**
 * Logs the first failure of a burst as one line, counts the rest silently, and logs one line
 * when the thing works again: an outage or a throttling storm reads as two lines, not thousands.
 */
export class BurstLog {
  private failures = 0;

  constructor(
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  get inBurst(): boolean {
    return this.failures > 0;
  }

  failure(detail: string): void {
    if (this.failures++ === 0) this.logger.warn(`${this.what} failed: ${detail}`);
  }

  success(): void {
    if (this.failures === 0) return;
    this.logger.log(`${this.what} recovered after ${this.failures} failure(s)`);
    this.failures = 0;
  }
}
