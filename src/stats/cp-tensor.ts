/**
 * The one representation of a symmetric CP (canonical polyadic) tensor in rfdyn, after tensorly's
 * `CPTensor`:
 *
 *     T̂ = Σ_a weights[a] · u_a⊗4,   u_a = factors[a·D … a·D + D − 1]  (r×D row-major)
 *
 * Decompositions (src/cp/decompose.ts) return one (unit-norm factors sorted by |weight|), the cp
 * single-neuron flow (src/theory/single-neuron.ts), its stability analysis (src/analysis/stability.ts)
 * and the writers read one; on disk it is factors.npy [r, D] and gamma.npy [r].
 * No imports, so every layer may use it.
 */
export interface CPTensor {
  /** Weights γ_a (r). */
  weights: Float64Array;
  /** Factors u_a, r×D row-major (row a = u_a). */
  factors: Float64Array;
  r: number;
  D: number;
}

/** A validated CP tensor (copies): r = weights.length ≥ 1, factors r×D, all entries finite. */
export function makeCPTensor(weights: ArrayLike<number>, factors: ArrayLike<number>, D: number): CPTensor {
  const r = weights.length;
  if (r < 1) throw new RangeError("CPTensor: need at least one factor");
  if (!(Number.isInteger(D) && D >= 1)) throw new RangeError(`CPTensor: D must be a positive integer (got ${D})`);
  if (factors.length !== r * D) throw new RangeError(`CPTensor: factors must be r×D = ${r}×${D} (got ${factors.length} entries)`);
  const w = Float64Array.from(weights), f = Float64Array.from(factors);
  for (let k = 0; k < f.length; k++) if (!Number.isFinite(f[k])) throw new RangeError(`CPTensor: factors has a non-finite entry at ${k}`);
  for (let k = 0; k < r; k++) if (!Number.isFinite(w[k])) throw new RangeError(`CPTensor: weights[${k}] is not finite`);
  return { weights: w, factors: f, r, D };
}

/** Factor u_a (a view into `factors`). */
export function cpFactor(cp: CPTensor, a: number): Float64Array {
  return cp.factors.subarray(a * cp.D, (a + 1) * cp.D);
}
