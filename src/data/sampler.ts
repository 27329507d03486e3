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
}
