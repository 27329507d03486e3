/** What every class of inputs provides (Gaussian processes, NLGP, LSG24 fields, Ising chains, …). */
import type { Rng } from "../stats/rng.js";

export interface ClassSampler {
  readonly D: number;
  /** Draw one input into `out`. */
  sample(out: Float64Array, rng: Rng): Float64Array;
  /** First row of the exact covariance (translation-invariant), if known in closed form. */
  covarianceRow(): Float64Array;
  /** Human-readable description for result files. */
  describe(): string;
  /**
   * Samplers that carry state between draws (e.g. the cached second FFT sample of a Gaussian
   * process) expose it for checkpoints: `saveState(rng)` returns what the stream of `rng` would see
   * next (plain data and typed arrays), `restoreState(s, rng)` puts it back.  Stateless samplers
   * omit both.
   */
  saveState?(rng: Rng): unknown;
  restoreState?(state: unknown, rng: Rng): void;
}
