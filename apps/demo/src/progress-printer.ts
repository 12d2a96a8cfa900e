import { Counts } from './executions-tracker';

const PLAIN_EVERY_MS = 2000;
const TTY_EVERY_MS = 200;

export function formatCounts(c: Counts, perSecond: number): string {
  return (
    `started ${c.started} | running ${c.running} | succeeded ${c.succeeded} | ` +
    `failed(PaymentDeclined) ${c.declined} | unexpected ${c.unexpected} | ${perSecond.toFixed(1)}/s`
  );
}

/**
 * Live progress: one line rewritten in place on a terminal, a plain line every few seconds
 * otherwise (logs, CI). Other output goes through log(), which keeps the live line at the bottom.
 */
export class ProgressPrinter {
  private readonly tty = Boolean(process.stdout.isTTY);
  private timer?: NodeJS.Timeout;
  private live = '';

  constructor(private readonly render: () => string) {}

  start(): void {
    this.timer = setInterval(() => this.draw(), this.tty ? TTY_EVERY_MS : PLAIN_EVERY_MS);
    if (this.tty) this.draw();
  }

  /** Stops updating; the last state stays printed on its own line. */
  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.draw();
    if (this.tty) process.stdout.write('\n');
    this.live = '';
  }

  log(text: string): void {
    if (this.tty && this.live) process.stdout.write('\r\x1b[2K');
    process.stdout.write(`${text}\n`);
    if (this.tty && this.live) process.stdout.write(this.live);
  }

  private draw(): void {
    const line = `progress: ${this.render()}`;
    if (!this.tty) return void process.stdout.write(`${line}\n`);
    const cols = process.stdout.columns || 120;
    this.live = line.length > cols - 1 ? line.slice(0, cols - 1) : line;
    process.stdout.write(`\r\x1b[2K${this.live}`);
  }
}
