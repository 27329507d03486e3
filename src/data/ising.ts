/**
 * Periodic 1D Ising chain (L spins s_i = ±1, coupling J, zero field) sampled EXACTLY with the
 * transfer matrix (no Markov chain, no burn-in, independent samples).
 *
 * With t = tanh J, the transfer matrix T(s, s') = e^{J s s'} has powers
 *   Tⁿ(s, s') ∝ 1 + s s' tⁿ,
 * so, given s_0 and s_i, the next spin of the ring (n = L − i bonds remain from s_i back to s_0) is
 *   P(s_{i+1} = s' | s_i = s, s_0) = (1 + s s' t)(1 + s' s_0 t^{n−1}) / (2 (1 + s s_0 tⁿ)),
 * and s_0 = ±1 with probability ½ by symmetry.  Correlations (closed form, used as covarianceRow):
 *   ⟨s_i s_{i+r}⟩ = (t^r + t^{L−r}) / (1 + t^L).
 * Marginals are ±1 (unit variance, kurtosis E s⁴ = 1, excess −2).
 */
import type { Rng } from "../stats/rng.js";
import type { ClassSampler } from "./sampler.js";

export class IsingChainClass implements ClassSampler {
  readonly D: number;
  private t: number;
  /** pow[n] = tⁿ, n = 0..L. */
  private pow: Float64Array;

  constructor(readonly L: number, readonly J: number) {
    if (!(Number.isInteger(L) && L >= 2)) throw new RangeError(`Ising chain length L must be an integer ≥ 2 (got ${L})`);
    if (!(Number.isFinite(J) && Math.abs(J) <= 50)) throw new RangeError(`Ising coupling J must be finite with |J| ≤ 50 (got ${J})`);
    this.D = L;
    this.t = Math.tanh(J);
    this.pow = new Float64Array(L + 1);
    this.pow[0] = 1;
    for (let n = 1; n <= L; n++) this.pow[n] = this.pow[n - 1] * this.t;
  }

  sample(out: Float64Array, rng: Rng): Float64Array {
    const L = this.L, t = this.t, pw = this.pow;
    const s0 = rng.uniform() < 0.5 ? -1 : 1;
    out[0] = s0;
    let s = s0;
    for (let i = 0; i < L - 1; i++) {
      const n = L - i; // bonds from s_i back to s_0 going forward round the ring
      // Probability that s_{i+1} = +1.
      const pPlus = ((1 + s * t) * (1 + s0 * pw[n - 1])) / (2 * (1 + s * s0 * pw[n]));
      s = rng.uniform() < pPlus ? 1 : -1;
      out[i + 1] = s;
    }
    return out;
  }

  covarianceRow(): Float64Array {
    return isingCorrelationRow(this.L, this.J);
  }

  describe(): string {
    return `ising(L=${this.L}, J=${this.J}, exact transfer-matrix sampling)`;
  }
}

/** ⟨s_0 s_r⟩ for r = 0..L−1 on the periodic chain: (t^r + t^{L−r})/(1 + t^L), t = tanh J. */
export function isingCorrelationRow(L: number, J: number): Float64Array {
  const t = Math.tanh(J);
  const row = new Float64Array(L);
  const tL = t ** L;
  for (let r = 0; r < L; r++) row[r] = (t ** r + t ** (L - r)) / (1 + tL);
  row[0] = 1;
  return row;
}
