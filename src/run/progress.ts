/** Remaining-time estimates for progress displays (smoothed, never NaN on screen). */

/** "1h02m", "3m05s", "42s", or "--" when unknown. */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--";
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/**
 * Remaining-time estimate from (time, fraction done) samples: the rate is an exponential moving
 * average over ~`window` seconds of wall time (so it follows a run whose speed changes, without
 * jumping at every update), and the ETA is (1 − f)/rate; unknown (NaN) until some progress is seen.
 */
export class EtaEstimator {
  private last: { t: number; f: number } | null = null;
  private rate = NaN;
  constructor(private readonly window = 20) {}
  update(tSeconds: number, fraction: number): number {
    if (this.last === null) {
      this.last = { t: tSeconds, f: fraction };
      return NaN;
    }
    const dt = tSeconds - this.last.t;
    if (dt <= 0) return this.eta(fraction);
    const r = Math.max(0, fraction - this.last.f) / dt;
    const a = 1 - Math.exp(-dt / this.window);
    // The average starts at the first interval with progress (start-up time is not a rate).
    if (Number.isFinite(this.rate)) this.rate += a * (r - this.rate);
    else if (r > 0) this.rate = r;
    this.last = { t: tSeconds, f: fraction };
    return this.eta(fraction);
  }
  private eta(fraction: number): number {
    return this.rate > 0 ? (1 - fraction) / this.rate : NaN;
  }
}
