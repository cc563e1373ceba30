/** A one-line progress bar for TTYs (stderr), redrawn at most every 100 ms. */
export class ProgressBar {
  private last = 0;
  private readonly t0 = Date.now();

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly width = 30,
  ) {}

  update(done: number, total: number): void {
    const now = Date.now();
    if (done < total && now - this.last < 100) return;
    this.last = now;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(frac * this.width);
    const secs = (now - this.t0) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const eta = rate > 0 ? (total - done) / rate : 0;
    this.out.write(
      `\r  [${'#'.repeat(filled)}${'-'.repeat(this.width - filled)}] ${done}/${total} frames  ${rate.toFixed(1)} fps  eta ${eta.toFixed(0)} s `,
    );
  }

  done(): void {
    this.out.write('\n');
  }
}
