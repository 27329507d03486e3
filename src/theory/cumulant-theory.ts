/**
 * Beyond Gaussian equivalence: a weight-space theory of the K-neuron erf network trained by online SGD
 * on non-Gaussian mixtures (NLGP, LSG24 fields), with the first Edgeworth correction of the
 * pre-activation law.  Derivation and checks: docs/cumulant-theory.md.
 *
 * Network and SGD exactly as src/sim and src/theory/mixture-ode.ts: λ_k = w_k·x + b_k, φ = Σ_k v_k g(λ_k),
 * g(h) = erf(h/√2), ℓ = ½ r², r = φ − y; θ ← θ − (η/D) ∂ℓ/∂θ per step, t = steps/D.
 *
 * Population loss, per class μ (probability p_μ, label y_μ, covariance C^μ, fourth cumulant κ^μ):
 *   L^μ = E_G[ℓ] + (1/24) Σ_abcd K^μ_abcd(W) E_G[∂_a∂_b∂_c∂_d ℓ],
 * E_G over λ ~ N(b, Ω^μ), Ω^μ = W C^μ Wᵀ (+ the SGD-noise part, below), K^μ_abcd = κ^μ(w_a, w_b, w_c, w_d).
 * Because r is a sum of one-neuron terms, ∂⁴ℓ vanishes unless {a,b,c,d} takes ≤ 2 distinct values, so
 * only K_aaaa, K_abbb and K_aabb are ever needed (O(K²) cumulant entries, not K⁴), and every Gaussian
 * expectation is a 1- or 2-D one of products g^{(n)} g^{(m)}, in closed form (src/stats/erf-derivative-moments.ts).
 *
 * Exact gradient (Price's theorem: ∂E_G[f]/∂Ω = ½E_G[∇²f], ∂E_G[f]/∂b = E_G[∇f]):
 *   ∇_W L^μ = H^μ W C^μ + (1/24) Σ_abcd T^μ_abcd ∇_W K^μ_abcd,
 *   H^μ_ef = E_G[∂_e∂_f ℓ] + (1/24) Σ K_abcd E_G[∂_e∂_f∂_abcd ℓ],   T^μ_abcd = E_G[∂_abcd ℓ],
 *   ∂L^μ/∂b_e = E_G[∂_e ℓ] + (1/24) Σ K_abcd E_G[∂_e∂_abcd ℓ],   ∂L^μ/∂v_k likewise.
 * The flow is dW/dt = −η Σ_μ p_μ ∇_W L^μ − ηℓ2 W, db/dt = −η_b ∂L/∂b, dv/dt = −η_v ∂L/∂v.
 *
 * Cumulant sources (contraction "rows" h_ν = Y_ν Wᵀ with weights ω_ν, so ∇_W K = Gᵀ Y by one gemm):
 *   samples  a fixed set of P class samples: K = (1/P)Σ λ⊗4 − 3 sym(Ω̂⊗Ω̂), Ω̂ = (1/P)Σ λλᵀ, λ = W x
 *            (two gemms of O(PDK) per class and RHS, plus O(PK²));
 *   cp       κ ≈ Σ_r γ_r u_r⊗4 (rfdyn cp): K = Σ_r γ_r h_r⊗4, h_r = W u_r, O(rDK + rK²);
 *   iid      independent coordinates with excess kurtosis κ4 (exact, e.g. NLGP with ξ = 0):
 *            K = κ4 Σ_i W_{·i}⊗4.
 *
 * SGD noise (the η² term of the mixture ODE).  Online SGD adds to the weights a zero-mean random part
 * spread over all D directions; the mixture ODE carries it in the mode densities q_τ.  Here it is
 * carried separately, per group of Fourier modes with equal spectra, as K×K matrices N_g with
 *   dN_g/dt = M_g N_g + N_g M_gᵀ + η² size_g Σ_μ p_μ ρ^μ_g E_μ[f fᵀ],   M_g = −η Σ_μ p_μ ρ^μ_g H^μ − ηℓ2,
 * and Ω^μ = W C^μ Wᵀ + (1/D) Σ_g ρ^μ_g N_g.  With zero cumulant, q_τ = ŵ_τŵ_τ^H + N_τ is exactly the
 * mixture ODE (tested to 1e-8).  The noise part is delocalised, so it enters Ω but not K(W)
 * (its contribution to the cumulant is O(1/D)); E[f fᵀ] is taken at Gaussian order.
 */
import { runStatusOf, solveRun, type RunSolveSettings, type CheckpointOptions, type OdeProblem, type OdeSolution } from "../integrate/index.js";
import type { RunHooks, RunStatus } from "../run/hooks.js";
import { ErfDerivativeTables } from "../stats/erf-derivative-moments.js";
import { ErfExpectations } from "../stats/gaussian-integrals.js";
import { gemm } from "../kernels/index.js";
import { fft2, fftPlan } from "../stats/fft.js";
import { choleskyFactor } from "../stats/linalg.js";
import { Rng } from "../stats/rng.js";
import { erf } from "../stats/special.js";
import { geometrySize, type Geometry } from "../data/kernels.js";
import { groupModes } from "./mixture-ode.js";

/** Where the fourth cumulant of a class comes from. */
export type CumulantSource =
  | { kind: "samples"; X: Float64Array; n: number }
  | { kind: "cp"; weights: ArrayLike<number>; factors: Float64Array; r: number }
  | { kind: "iid"; excessKurtosis: number };

export interface CumulantClass {
  label: number;
  /** Eigenvalues of C^μ in DFT order (length D). */
  spectrum: ArrayLike<number>;
  /** null: Gaussian class (no correction). */
  cumulant: CumulantSource | null;
}

export interface CumulantTheoryParams {
  K: number;
  geometry: Geometry;
  classes: CumulantClass[];
  probs?: readonly number[];
  lr: number;
  lrBias?: number;
  lrSecondLayer?: number;
  weightDecay: number;
  trainBias: boolean;
  trainSecondLayer: boolean;
  /** Carry the SGD-noise (η²) part of Ω (default true). */
  secondOrder?: boolean;
  /** 1: first Edgeworth correction (default); 0: Gaussian equivalence in weight space. */
  order?: 0 | 1;
}

export interface CumulantInit {
  W: ArrayLike<number>;
  b: ArrayLike<number>;
  v: ArrayLike<number>;
}

/** Per-class loss, gradient and curvature of the corrected population loss. */
export interface ClassLossGrad {
  /** E[ℓ] with the correction (½ convention). */
  loss: number;
  /** The correction (1/24) Σ K T alone. */
  correction: number;
}

const BINOM = [[1], [1, 1], [1, 2, 1], [1, 3, 3, 1], [1, 4, 6, 4, 1], [1, 5, 10, 10, 5, 1], [1, 6, 15, 20, 15, 6, 1], [1, 7, 21, 35, 35, 21, 7, 1]];

/**
 * Loss of one class and its derivatives w.r.t. Ω (as H: dL = ½ Σ_ef H_ef dΩ_ef), b, v and the needed
 * cumulant entries, for given Ω, b, v and cumulant entries (k4[a] = K_aaaa, k31[a,b] = K_abbb,
 * k22[a,b] = K_aabb).  Allocation-free after construction.
 */
export class EdgeworthClass {
  readonly tab: ErfDerivativeTables;
  readonly H: Float64Array;
  readonly gb: Float64Array;
  readonly gv: Float64Array;
  /** ∂L/∂K_aaaa, ∂L/∂K_abbb (ordered a ≠ b), ∂L/∂K_aabb (symmetric, each unordered pair once at [a,b] and [b,a]). */
  readonly t4: Float64Array;
  readonly t31: Float64Array;
  readonly t22: Float64Array;
  private y = 0;
  private v: ArrayLike<number> = [];
  private readonly idx = new Int32Array(4);
  private readonly erC = new Float64Array(0);
  private readonly selfC = new Float64Array(0);
  private readonly cnt = new Int32Array(4);

  constructor(readonly K: number, readonly order: 0 | 1) {
    this.tab = new ErfDerivativeTables(K, order === 1 ? 6 : 2);
    this.H = new Float64Array(K * K);
    this.gb = new Float64Array(K);
    this.gv = new Float64Array(K);
    this.t4 = new Float64Array(K);
    this.t31 = new Float64Array(K * K);
    this.t22 = new Float64Array(K * K);
    this.erC = new Float64Array(K * 7);
    this.selfC = new Float64Array(K * 7);
  }

  /** E[r g_p^{(n)}], r = φ − y (from the cache filled by `fillCache`). */
  private er(p: number, n: number): number {
    return this.erC[p * 7 + n];
  }

  /** Cache E[r g_p^{(n)}] and Σ_k C(n,k) E[g_p^{(k)} g_p^{(n−k)}] for all p, n ≤ max order. */
  private fillCache(): void {
    const tab = this.tab, v = this.v, K = this.K, N = this.tab.maxOrder;
    for (let p = 0; p < K; p++) {
      for (let n = 0; n <= N; n++) {
        let s = -this.y * tab.u(p, n);
        for (let j = 0; j < K; j++) if (v[j] !== 0) s += v[j] * tab.b(j, p, 0, n);
        this.erC[p * 7 + n] = s;
        let c = 0;
        for (let k = 1; k < n; k++) c += BINOM[n][k] * tab.b(p, p, k, n - k);
        this.selfC[p * 7 + n] = c;
      }
    }
  }

  /** E[∂_p^n ℓ], n ≥ 1. */
  private es(p: number, n: number): number {
    const vp = this.v[p];
    return vp * this.erC[p * 7 + n] + 0.5 * vp * vp * this.selfC[p * 7 + n];
  }

  /** ∂/∂v_k of E[∂_p^n ℓ]. */
  private esDv(p: number, n: number, k: number): number {
    const vp = this.v[p];
    let s = vp * this.tab.b(k, p, 0, n);
    if (k === p) s += this.erC[p * 7 + n] + vp * this.selfC[p * 7 + n];
    return s;
  }

  /** Merge the multiset in idx/cnt (len entries); returns the number of distinct values (idx/cnt rewritten). */
  private merge(len: number): number {
    const idx = this.idx, cnt = this.cnt;
    let d = 0;
    for (let i = 0; i < len; i++) {
      let j = 0;
      while (j < d && idx[j] !== idx[i]) j++;
      if (j < d) cnt[j] += cnt[i];
      else { idx[d] = idx[i]; cnt[d] = cnt[i]; d++; }
    }
    return d;
  }

  /** E[∂^α ℓ] for the multiset in idx/cnt (len entries), or its ∂/∂v_k when k ≥ 0. */
  private ems(len: number, k = -1): number {
    const d = this.merge(len);
    const idx = this.idx, cnt = this.cnt;
    if (d === 1) return k < 0 ? this.es(idx[0], cnt[0]) : this.esDv(idx[0], cnt[0], k);
    if (d === 2) {
      const p = idx[0], q = idx[1];
      const B = this.tab.b(p, q, cnt[0], cnt[1]);
      if (k < 0) return this.v[p] * this.v[q] * B;
      return (k === p ? this.v[q] * B : 0) + (k === q ? this.v[p] * B : 0);
    }
    return 0;
  }

  /**
   * Compute everything for Ω (K×K), biases b, readout v, label y and cumulant entries (null: order 0).
   * Returns the loss (½ convention) and the correction term.
   */
  compute(Om: ArrayLike<number>, b: ArrayLike<number>, v: ArrayLike<number>, y: number, k4: Float64Array | null, k31: Float64Array | null, k22: Float64Array | null): ClassLossGrad {
    const K = this.K, tab = this.tab, H = this.H, gb = this.gb, gv = this.gv;
    this.y = y;
    this.v = v;
    tab.compute(Om, b);
    this.fillCache();
    // Gaussian part.
    let l2 = 0, l1 = 0;
    for (let j = 0; j < K; j++) {
      l1 += v[j] * tab.u(j, 0);
      for (let m = 0; m < K; m++) l2 += v[j] * v[m] * tab.b(j, m, 0, 0);
    }
    let loss = 0.5 * (l2 - 2 * y * l1 + y * y);
    for (let e = 0; e < K; e++) {
      gb[e] = this.es(e, 1);
      gv[e] = this.er(e, 0);
      H[e * K + e] = this.es(e, 2);
      for (let f = e + 1; f < K; f++) H[e * K + f] = H[f * K + e] = v[e] * v[f] * tab.b(e, f, 1, 1);
    }
    this.t4.fill(0);
    this.t31.fill(0);
    this.t22.fill(0);
    if (this.order === 0 || !k4 || !k31 || !k22) return { loss, correction: 0 };
    const idx = this.idx, cnt = this.cnt;
    const c24 = 1 / 24;
    let S = 0;
    // Pattern α = {p: np} or {p: np, q: nq}, weight wK = multiplicity · K_α / 24.
    const put = (p: number, np: number, q: number, nq: number, extra: number, e: number, f: number): number => {
      let l = 0;
      idx[l] = p; cnt[l++] = np;
      if (nq > 0) { idx[l] = q; cnt[l++] = nq; }
      if (extra >= 1) { idx[l] = e; cnt[l++] = 1; }
      if (extra >= 2) { idx[l] = f; cnt[l++] = 1; }
      return l;
    };
    const visit = (p: number, np: number, q: number, nq: number, wK: number): void => {
      S += wK * this.ems(put(p, np, q, nq, 0, 0, 0));
      for (let e = 0; e < K; e++) {
        if (nq > 0 && e !== p && e !== q) continue;
        gb[e] += wK * this.ems(put(p, np, q, nq, 1, e, 0));
        for (let f = e; f < K; f++) {
          if (nq > 0 && f !== p && f !== q) continue;
          if (nq === 0 && e !== p && f !== p && e !== f) continue;
          const h = wK * this.ems(put(p, np, q, nq, 2, e, f));
          H[e * K + f] += h;
          if (f !== e) H[f * K + e] += h;
        }
      }
      for (let k = 0; k < K; k++) gv[k] += wK * this.ems(put(p, np, q, nq, 0, 0, 0), k);
    };
    for (let a = 0; a < K; a++) {
      if (k4[a] !== 0) visit(a, 4, a, 0, c24 * k4[a]);
      idx[0] = a; cnt[0] = 4;
      this.t4[a] = c24 * this.ems(1);
      for (let bb = 0; bb < K; bb++) {
        if (bb === a) continue;
        // K_abbb with multiplicity 4 (position of the single a)
        if (k31[a * K + bb] !== 0) visit(a, 1, bb, 3, 4 * c24 * k31[a * K + bb]);
        idx[0] = a; cnt[0] = 1; idx[1] = bb; cnt[1] = 3;
        this.t31[a * K + bb] = 4 * c24 * this.ems(2);
        if (bb > a) {
          // K_aabb with multiplicity 6 (unordered pair)
          if (k22[a * K + bb] !== 0) visit(a, 2, bb, 2, 6 * c24 * k22[a * K + bb]);
          idx[0] = a; cnt[0] = 2; idx[1] = bb; cnt[1] = 2;
          this.t22[a * K + bb] = this.t22[bb * K + a] = 6 * c24 * this.ems(2);
        }
      }
    }
    loss += S;
    return { loss, correction: S };
  }
}


/** Contraction rows of one class's cumulant source: h = Y Wᵀ (n×K) with weights ω. */
class CumulantRows {
  readonly n: number;
  readonly centred: boolean;
  readonly Y: Float64Array | null;
  readonly w: Float64Array | number;
  readonly h: Float64Array;
  readonly G: Float64Array;
  readonly k4: Float64Array;
  readonly k31: Float64Array;
  readonly k22: Float64Array;
  readonly Oh: Float64Array;
  private readonly A: Float64Array;

  constructor(src: CumulantSource, readonly K: number, readonly D: number) {
    if (src.kind === "samples") {
      if (!(src.n >= 1) || src.X.length < src.n * D) throw new RangeError(`cumulant samples: need n ≥ 1 and X of n·D = ${src.n * D} entries`);
      this.n = src.n; this.Y = src.X; this.w = 1 / src.n; this.centred = true;
    } else if (src.kind === "cp") {
      if (src.factors.length < src.r * D || src.weights.length < src.r) throw new RangeError(`cumulant cp: need r weights and r×D = ${src.r * D} factor entries`);
      this.n = src.r; this.Y = src.factors; this.w = Float64Array.from(src.weights).subarray(0, src.r); this.centred = false;
    } else {
      this.n = D; this.Y = null; this.w = src.excessKurtosis; this.centred = false;
    }
    this.h = new Float64Array(this.n * K);
    this.G = new Float64Array(this.n * K);
    this.k4 = new Float64Array(K);
    this.k31 = new Float64Array(K * K);
    this.k22 = new Float64Array(K * K);
    this.Oh = new Float64Array(K * K);
    this.A = new Float64Array(K * K);
  }

  private weight(i: number): number {
    return typeof this.w === "number" ? this.w : this.w[i];
  }

  /** h = Y Wᵀ and the cumulant entries K_aaaa, K_abbb, K_aabb. */
  load(W: Float64Array): void {
    const { K, D, n, h } = this;
    if (this.Y) gemm(false, true, n, K, D, 1, this.Y, W, 0, h);
    else for (let i = 0; i < D; i++) for (let a = 0; a < K; a++) h[i * K + a] = W[a * D + i];
    const k4 = this.k4, k31 = this.k31, k22 = this.k22, Oh = this.Oh;
    k4.fill(0); k31.fill(0); k22.fill(0); Oh.fill(0);
    for (let i = 0; i < n; i++) {
      const o = i * K, wi = this.weight(i);
      if (wi === 0) continue;
      for (let a = 0; a < K; a++) {
        const x = h[o + a], x2 = x * x, wx = wi * x;
        k4[a] += wi * x2 * x2;
        if (this.centred) for (let c = a; c < K; c++) Oh[a * K + c] += wx * h[o + c];
        for (let c = 0; c < K; c++) {
          if (c === a) continue;
          const y = h[o + c];
          k31[a * K + c] += wx * y * y * y;
          if (c > a) k22[a * K + c] += wx * x * y * y;
        }
      }
    }
    for (let a = 0; a < K; a++) for (let c = a + 1; c < K; c++) { k22[c * K + a] = k22[a * K + c]; Oh[c * K + a] = Oh[a * K + c]; }
    if (this.centred) {
      for (let a = 0; a < K; a++) {
        k4[a] -= 3 * Oh[a * K + a] * Oh[a * K + a];
        for (let c = 0; c < K; c++) {
          if (c === a) continue;
          k31[a * K + c] -= 3 * Oh[a * K + c] * Oh[c * K + c];
          k22[a * K + c] -= Oh[a * K + a] * Oh[c * K + c] + 2 * Oh[a * K + c] * Oh[a * K + c];
        }
      }
    }
  }

  /** out (K×D) += scale · ∇_W Σ (t4 K_aaaa + Σ t31 K_abbb + Σ_{a<b} t22 K_aabb), after `load`. */
  addGradient(t4: Float64Array, t31: Float64Array, t22: Float64Array, W: Float64Array, scale: number, out: Float64Array): void {
    const { K, D, n, h, G, Oh, A } = this;
    if (this.centred) {
      // dS/dΩ̂ (Ω̂ symmetric): A_aa = c_aa, A_ab = c_ab / 2.
      A.fill(0);
      for (let a = 0; a < K; a++) {
        A[a * K + a] += -6 * t4[a] * Oh[a * K + a];
        for (let c = 0; c < K; c++) {
          if (c === a) continue;
          const t = t31[a * K + c];
          A[a * K + c] += -1.5 * t * Oh[c * K + c];
          A[c * K + a] += -1.5 * t * Oh[c * K + c];
          A[c * K + c] += -3 * t * Oh[a * K + c];
          if (c > a) {
            const u = t22[a * K + c];
            A[a * K + a] += -u * Oh[c * K + c];
            A[c * K + c] += -u * Oh[a * K + a];
            A[a * K + c] += -2 * u * Oh[a * K + c];
            A[c * K + a] += -2 * u * Oh[a * K + c];
          }
        }
      }
    }
    for (let i = 0; i < n; i++) {
      const o = i * K, wi = this.weight(i);
      for (let a = 0; a < K; a++) {
        const x = h[o + a];
        let g = 4 * t4[a] * x * x * x;
        for (let c = 0; c < K; c++) {
          if (c === a) continue;
          const y = h[o + c];
          g += t31[a * K + c] * y * y * y + 3 * t31[c * K + a] * y * x * x + 2 * t22[a * K + c] * x * y * y;
          if (this.centred) g += 2 * A[a * K + c] * y;
        }
        if (this.centred) g += 2 * A[a * K + a] * x;
        G[o + a] = wi * g;
      }
    }
    if (this.Y) gemm(true, false, K, D, n, scale, G, this.Y, 1, out);
    else for (let a = 0; a < K; a++) for (let i = 0; i < D; i++) out[a * D + i] += scale * G[i * K + a];
    void W;
  }

  /** Full symmetric cumulant tensor K_abcd (K⁴, after `load`), for the Edgeworth density. */
  fullTensor(out: Float64Array): void {
    const { K, n, h, Oh } = this;
    out.fill(0);
    for (let i = 0; i < n; i++) {
      const o = i * K, wi = this.weight(i);
      for (let a = 0; a < K; a++) for (let b = a; b < K; b++) {
        const ab = wi * h[o + a] * h[o + b];
        for (let c = b; c < K; c++) {
          const abc = ab * h[o + c];
          for (let d = c; d < K; d++) out[((a * K + b) * K + c) * K + d] += abc * h[o + d];
        }
      }
    }
    const srt = [0, 0, 0, 0];
    for (let a = 0; a < K; a++) for (let b = a; b < K; b++) for (let c = b; c < K; c++) for (let d = c; d < K; d++) {
      if (this.centred) out[((a * K + b) * K + c) * K + d] -= Oh[a * K + b] * Oh[c * K + d] + Oh[a * K + c] * Oh[b * K + d] + Oh[a * K + d] * Oh[b * K + c];
    }
    for (let a = 0; a < K; a++) for (let b = 0; b < K; b++) for (let c = 0; c < K; c++) for (let d = 0; d < K; d++) {
      srt[0] = a; srt[1] = b; srt[2] = c; srt[3] = d;
      srt.sort((x, y) => x - y);
      out[((a * K + b) * K + c) * K + d] = out[((srt[0] * K + srt[1]) * K + srt[2]) * K + srt[3]];
    }
  }
}

export interface CumulantState {
  W: Float64Array;
  b: Float64Array;
  v: Float64Array;
  /** Total Ω^μ (weights + noise part). */
  omegas: Float64Array[];
  /** |w_k|² of the weights and of the noise part. */
  norms2: Float64Array;
  noiseNorms2: Float64Array;
  /** IPR of the rows of W, and of W plus the (evenly spread, Gaussian) noise part. */
  ipr: Float64Array;
  iprWithNoise: Float64Array;
  /**
   * Expansion parameter of the Edgeworth series per neuron: max over classes of |K_aaaa| / Ω_aa²
   * (the standardised excess kurtosis of the pre-activation; 0 when no class has a cumulant source).
   */
  stdCumulant: Float64Array;
}

/** The weight-space ODE system.  State: W (K·D), then per mode group the upper triangle of N_g (if secondOrder), b (if trained), v (if trained). */
export class CumulantTheory {
  readonly K: number;
  readonly D: number;
  readonly G: number;
  readonly dim: number;
  readonly order: 0 | 1;
  readonly second: boolean;
  readonly probs: Float64Array;
  readonly labels: Float64Array;
  readonly groupOf: Int32Array;
  readonly rho: Float64Array[];
  readonly groupSize: Float64Array;
  private readonly nt: number;
  private readonly spectra: Float64Array[];
  private readonly edge: EdgeworthClass[];
  private readonly rows: (CumulantRows | null)[];
  private readonly ee: ErfExpectations[];
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly gre: Float64Array;
  private readonly gim: Float64Array;
  private readonly bufR: Float64Array;
  private readonly bufI: Float64Array;
  private readonly Wb: Float64Array;
  private readonly gW: Float64Array;
  private readonly Ng: Float64Array;
  private readonly omegas: Float64Array[];
  private readonly Hs: Float64Array[];
  private readonly Mt: Float64Array;
  private readonly MN: Float64Array;
  private readonly b: Float64Array;
  private readonly v: Float64Array;
  private readonly b0: Float64Array;
  private readonly v0: Float64Array;
  private readonly gb: Float64Array;
  private readonly gv: Float64Array;
  /** Last class losses (½ convention) and corrections, from the last `evaluate`. */
  readonly classLoss: Float64Array;
  readonly classCorrection: Float64Array;

  constructor(readonly params: CumulantTheoryParams, b0: ArrayLike<number>, v0: ArrayLike<number>) {
    const K = params.K;
    const D = geometrySize(params.geometry);
    const nc = params.classes.length;
    if (nc < 1) throw new RangeError("at least one class is required");
    for (const c of params.classes) if (c.spectrum.length !== D) throw new RangeError(`each spectrum must have length D = ${D}`);
    if (b0.length !== K || v0.length !== K) throw new RangeError(`b and v must have length K = ${K}`);
    this.K = K;
    this.D = D;
    this.order = params.order ?? 1;
    this.second = params.secondOrder ?? true;
    this.spectra = params.classes.map((c) => Float64Array.from(c.spectrum));
    const grp = groupModes(this.spectra, D);
    this.groupOf = grp.groupOf;
    this.rho = grp.rho;
    this.groupSize = grp.size;
    this.G = grp.size.length;
    this.nt = (K * (K + 1)) / 2;
    this.dim = K * D + (this.second ? this.G * this.nt : 0) + (params.trainBias ? K : 0) + (params.trainSecondLayer ? K : 0);
    const p = params.probs ?? params.classes.map(() => 1 / nc);
    const tot = p.reduce((a, c) => a + c, 0);
    this.probs = Float64Array.from(p, (x) => x / tot);
    this.labels = Float64Array.from(params.classes.map((c) => c.label));
    this.edge = params.classes.map(() => new EdgeworthClass(K, this.order));
    this.rows = params.classes.map((c) => (this.order === 1 && c.cumulant ? new CumulantRows(c.cumulant, K, D) : null));
    this.ee = params.classes.map(() => new ErfExpectations(K));
    this.re = new Float64Array(K * D);
    this.im = new Float64Array(K * D);
    this.gre = new Float64Array(K * D);
    this.gim = new Float64Array(K * D);
    this.bufR = new Float64Array(D);
    this.bufI = new Float64Array(D);
    this.Wb = new Float64Array(K * D);
    this.gW = new Float64Array(K * D);
    this.Ng = new Float64Array(this.G * K * K);
    this.omegas = params.classes.map(() => new Float64Array(K * K));
    this.Hs = params.classes.map(() => new Float64Array(K * K));
    this.Mt = new Float64Array(K * K);
    this.MN = new Float64Array(K * K);
    this.b = new Float64Array(K);
    this.v = new Float64Array(K);
    this.b0 = Float64Array.from(b0);
    this.v0 = Float64Array.from(v0);
    this.gb = new Float64Array(K);
    this.gv = new Float64Array(K);
    this.classLoss = new Float64Array(nc);
    this.classCorrection = new Float64Array(nc);
  }

  initialState(init: CumulantInit): Float64Array {
    const { K, D } = this;
    if (init.W.length !== K * D) throw new RangeError(`W must be K×D = ${K}×${D}`);
    const y = new Float64Array(this.dim);
    for (let i = 0; i < K * D; i++) y[i] = init.W[i];
    let o = K * D + (this.second ? this.G * this.nt : 0);
    if (this.params.trainBias) for (let k = 0; k < K; k++) y[o++] = init.b[k];
    if (this.params.trainSecondLayer) for (let k = 0; k < K; k++) y[o++] = init.v[k];
    return y;
  }

  private fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
    const geom = this.params.geometry;
    if (geom.dim === 1) {
      const p = fftPlan(this.D);
      if (inverse) p.inverse(re, im);
      else p.forward(re, im);
    } else fft2(re, im, geom.L, geom.L, inverse);
  }

  /** Unpack y, Fourier rows of W, noise matrices, b, v and the total Ω^μ. */
  private load(y: ArrayLike<number>): void {
    const { K, D, G, nt, Ng, re, im, bufR, bufI } = this;
    for (let i = 0; i < K * D; i++) this.Wb[i] = y[i];
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < D; j++) { bufR[j] = y[k * D + j]; bufI[j] = 0; }
      this.fft(bufR, bufI, false);
      re.set(bufR, k * D);
      im.set(bufI, k * D);
    }
    let o = K * D;
    if (this.second) {
      for (let g = 0; g < G; g++) {
        let j = o + g * nt;
        const base = g * K * K;
        for (let k = 0; k < K; k++) for (let l = k; l < K; l++) { Ng[base + k * K + l] = Ng[base + l * K + k] = y[j++]; }
      }
      o += G * nt;
    }
    if (this.params.trainBias) for (let k = 0; k < K; k++) this.b[k] = y[o++];
    else this.b.set(this.b0);
    if (this.params.trainSecondLayer) for (let k = 0; k < K; k++) this.v[k] = y[o++];
    else this.v.set(this.v0);
    this.spectra.forEach((rho, mu) => {
      const Om = this.omegas[mu];
      for (let k = 0; k < K; k++) {
        for (let l = k; l < K; l++) {
          let s = 0;
          for (let t = 0; t < D; t++) s += rho[t] * (re[k * D + t] * re[l * D + t] + im[k * D + t] * im[l * D + t]);
          Om[k * K + l] = Om[l * K + k] = s / D;
        }
      }
      if (this.second) {
        const rg = this.rho[mu];
        for (let g = 0; g < G; g++) {
          const r = rg[g] / D;
          if (r === 0) continue;
          for (let i = 0; i < K * K; i++) Om[i] += r * Ng[g * K * K + i];
        }
      }
    });
  }

  /**
   * Loss L = Σ_μ p_μ L^μ (½ convention) and its gradient at state y: gW (K×D), gb, gv into the
   * internal buffers (`gradients()` returns views); H^μ kept for the noise equations.
   */
  evaluate(y: ArrayLike<number>): number {
    const { K, D } = this;
    this.load(y);
    const nc = this.spectra.length;
    const gre = this.gre, gim = this.gim, re = this.re, im = this.im;
    gre.fill(0); gim.fill(0);
    this.gW.fill(0);
    this.gb.fill(0);
    this.gv.fill(0);
    let L = 0;
    for (let mu = 0; mu < nc; mu++) {
      const pm = this.probs[mu];
      const rows = this.rows[mu];
      if (rows) rows.load(this.Wb);
      const E = this.edge[mu];
      const res = E.compute(this.omegas[mu], this.b, this.v, this.labels[mu], rows ? rows.k4 : null, rows ? rows.k31 : null, rows ? rows.k22 : null);
      this.classLoss[mu] = res.loss;
      this.classCorrection[mu] = res.correction;
      L += pm * res.loss;
      for (let k = 0; k < K; k++) { this.gb[k] += pm * E.gb[k]; this.gv[k] += pm * E.gv[k]; }
      this.Hs[mu].set(E.H);
      // Fourier-space gradient of the Ω part: Σ_μ p_μ ρ^μ_τ H^μ ŵ_τ.
      const rho = this.spectra[mu], H = E.H;
      for (let k = 0; k < K; k++) {
        for (let l = 0; l < K; l++) {
          const h = pm * H[k * K + l];
          if (h === 0) continue;
          for (let t = 0; t < D; t++) {
            const c = h * rho[t];
            gre[k * D + t] += c * re[l * D + t];
            gim[k * D + t] += c * im[l * D + t];
          }
        }
      }
      if (rows) rows.addGradient(E.t4, E.t31, E.t22, this.Wb, pm, this.gW);
    }
    const bufR = this.bufR, bufI = this.bufI;
    for (let k = 0; k < K; k++) {
      for (let t = 0; t < D; t++) { bufR[t] = gre[k * D + t]; bufI[t] = gim[k * D + t]; }
      this.fft(bufR, bufI, true);
      for (let t = 0; t < D; t++) this.gW[k * D + t] += bufR[t];
    }
    return L;
  }

  /** Views of the gradient buffers of the last `evaluate` (∂L/∂W K×D, ∂L/∂b, ∂L/∂v). */
  gradients(): { W: Float64Array; b: Float64Array; v: Float64Array } {
    return { W: this.gW, b: this.gb, v: this.gv };
  }

  readonly rhs = (_t: number, y: Float64Array, dy: Float64Array): void => {
    const { K, D, G, nt } = this;
    const eta = this.params.lr, l2 = this.params.weightDecay;
    this.evaluate(y);
    for (let i = 0; i < K * D; i++) dy[i] = -eta * (this.gW[i] + l2 * this.Wb[i]);
    let o = K * D;
    const nc = this.spectra.length;
    if (this.second) {
      const v = this.v;
      for (let mu = 0; mu < nc; mu++) this.ee[mu].computeWith(this.omegas[mu], this.b, false, true, this.labels[mu], v);
      const Mt = this.Mt, MN = this.MN, Ng = this.Ng;
      for (let g = 0; g < G; g++) {
        Mt.fill(0);
        for (let mu = 0; mu < nc; mu++) {
          const c = -eta * this.probs[mu] * this.rho[mu][g];
          if (c === 0) continue;
          const H = this.Hs[mu];
          for (let i = 0; i < K * K; i++) Mt[i] += c * H[i];
        }
        for (let k = 0; k < K; k++) Mt[k * K + k] -= eta * l2;
        const base = g * K * K;
        for (let i = 0; i < K; i++) {
          for (let j = 0; j < K; j++) {
            let s = 0;
            for (let m = 0; m < K; m++) s += Mt[i * K + m] * Ng[base + m * K + j];
            MN[i * K + j] = s;
          }
        }
        let jj = o + g * nt;
        for (let k = 0; k < K; k++) {
          for (let l = k; l < K; l++) {
            let d = MN[k * K + l] + MN[l * K + k];
            for (let mu = 0; mu < nc; mu++) {
              const c = this.probs[mu] * this.rho[mu][g] * this.groupSize[g];
              if (c !== 0) d += c * eta * eta * v[k] * v[l] * this.ee[mu].ee[k * K + l];
            }
            dy[jj++] = d;
          }
        }
      }
      o += G * nt;
    }
    if (this.params.trainBias) {
      const etaB = this.params.lrBias ?? eta;
      for (let k = 0; k < K; k++) dy[o++] = -etaB * this.gb[k];
    }
    if (this.params.trainSecondLayer) {
      const etaV = this.params.lrSecondLayer ?? eta;
      for (let k = 0; k < K; k++) dy[o++] = -etaV * this.gv[k];
    }
  };

  /** Test error pmse = Σ_μ p_μ 2L^μ (IG22 eq. 9, no ½) with the correction, and per class. */
  pmse(y: ArrayLike<number>): { pmse: number; perClass: number[]; correction: number[] } {
    this.evaluate(y);
    const perClass = Array.from(this.classLoss, (l) => 2 * l);
    let pm = 0;
    perClass.forEach((e, mu) => { pm += this.probs[mu] * e; });
    return { pmse: pm, perClass, correction: Array.from(this.classCorrection, (c) => 2 * c) };
  }

  /** State at y (copies). */
  state(y: ArrayLike<number>): CumulantState {
    this.load(y);
    const { K, D, G } = this;
    const norms2 = new Float64Array(K), noise = new Float64Array(K), ipr = new Float64Array(K), iprN = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      let s2 = 0, s4 = 0;
      for (let i = 0; i < D; i++) { const q = this.Wb[k * D + i] ** 2; s2 += q; s4 += q * q; }
      norms2[k] = s2;
      if (this.second) for (let g = 0; g < G; g++) noise[k] += this.Ng[g * K * K + k * K + k];
      noise[k] /= D;
      ipr[k] = s2 > 0 ? s4 / (s2 * s2) : NaN;
      const n = noise[k];
      // E Σ(w+δ)⁴ with δ_i ~ N(0, n/D) independent: Σw⁴ + 6(n/D)Σw² + 3n²/D.
      iprN[k] = (s4 + (6 * n * s2) / D + (3 * n * n) / D) / ((s2 + n) * (s2 + n));
    }
    const stdCum = new Float64Array(K);
    this.rows.forEach((rows, mu) => {
      if (!rows) return;
      rows.load(this.Wb);
      const Om = this.omegas[mu];
      for (let k = 0; k < K; k++) stdCum[k] = Math.max(stdCum[k], Math.abs(rows.k4[k]) / (Om[k * K + k] * Om[k * K + k]));
    });
    return { W: this.Wb.slice(), b: this.b.slice(), v: this.v.slice(), omegas: this.omegas.map((o) => o.slice()), norms2, noiseNorms2: noise, ipr, iprWithNoise: iprN, stdCumulant: stdCum };
  }

  /**
   * Accuracy under the first-order Edgeworth law of the pre-activations: Monte Carlo over
   * λ ~ N(b, Ω^μ) with weights 1 + (1/24) Σ K_abcd He_abcd(λ − b; Ω) (Hermite tensors of Ω),
   * seeded.  The weights are not positivity-constrained (a first-order expansion); se is the MC error.
   */
  accuracy(y: ArrayLike<number>, samples = 20_000, seed = 1): { accuracy: number; se: number } {
    this.load(y);
    const { K } = this;
    const labels = this.labels;
    const lo = Math.min(...labels), hi = Math.max(...labels), thr = 0.5 * (lo + hi);
    const rng = new Rng(seed, 78);
    const L = new Float64Array(K * K), Linv = new Float64Array(K * K), Lam = new Float64Array(K * K);
    const T = new Float64Array(K ** 4), Tyy = new Float64Array(K * K);
    const z = new Float64Array(K), yv = new Float64Array(K), lam = new Float64Array(K);
    let acc = 0, variance = 0;
    this.spectra.forEach((_s, mu) => {
      const Om = this.omegas[mu];
      let shift = 0;
      while (!choleskyFactor(Om, K, L, shift)) shift = shift === 0 ? 1e-12 * (1 + Math.abs(Om[0])) : shift * 10;
      // Linv (lower), Λ = Ω⁻¹ = Linvᵀ Linv.
      Linv.fill(0);
      for (let i = 0; i < K; i++) {
        Linv[i * K + i] = 1 / L[i * K + i];
        for (let j = 0; j < i; j++) {
          let s = 0;
          for (let k = j; k < i; k++) s += L[i * K + k] * Linv[k * K + j];
          Linv[i * K + j] = -s / L[i * K + i];
        }
      }
      for (let a = 0; a < K; a++) for (let c = 0; c < K; c++) { let s = 0; for (let k = 0; k < K; k++) s += Linv[k * K + a] * Linv[k * K + c]; Lam[a * K + c] = s; }
      const rows = this.rows[mu];
      let have = false;
      let c0 = 0;
      if (rows) {
        rows.load(this.Wb);
        rows.fullTensor(T);
        have = true;
        for (let a = 0; a < K; a++) for (let b = 0; b < K; b++) for (let c = 0; c < K; c++) for (let d = 0; d < K; d++) c0 += T[((a * K + b) * K + c) * K + d] * Lam[a * K + b] * Lam[c * K + d];
      }
      let sw = 0, sw2 = 0;
      for (let s = 0; s < samples; s++) {
        for (let k = 0; k < K; k++) z[k] = rng.normal();
        let phi = 0;
        for (let k = 0; k < K; k++) {
          let h = 0;
          for (let j = 0; j <= k; j++) h += L[k * K + j] * z[j];
          lam[k] = h;
          phi += this.v[k] * erf((h + this.b[k]) / Math.SQRT2);
        }
        let wgt = 1;
        if (have) {
          // y = Ω⁻¹ λ = Linvᵀ z
          for (let a = 0; a < K; a++) { let t = 0; for (let k = a; k < K; k++) t += Linv[k * K + a] * z[k]; yv[a] = t; }
          let q4 = 0, q2 = 0;
          for (let a = 0; a < K; a++) for (let b = 0; b < K; b++) {
            let t = 0;
            const o = (a * K + b) * K * K;
            for (let c = 0; c < K; c++) { const yc = yv[c]; for (let d = 0; d < K; d++) t += T[o + c * K + d] * yc * yv[d]; }
            Tyy[a * K + b] = t;
            q4 += t * yv[a] * yv[b];
            q2 += t * Lam[a * K + b];
          }
          wgt = 1 + (q4 - 6 * q2 + 3 * c0) / 24;
        }
        const ok = (phi > thr ? hi : lo) === labels[mu] ? 1 : 0;
        const x = wgt * ok;
        sw += x; sw2 += x * x;
      }
      const m = sw / samples, vr = Math.max(0, sw2 / samples - m * m) / samples;
      acc += this.probs[mu] * m;
      variance += this.probs[mu] ** 2 * vr;
    });
    return { accuracy: acc, se: Math.sqrt(variance) };
  }
}

/** Output times and integrator settings (adaptive GBS by default, rtol 1e-8, atol 1e-10). */
export interface CumulantRunOptions extends RunSolveSettings {
  times: readonly number[];
  /** MC samples of the Edgeworth accuracy per class and output time (0: skip). */
  accuracySamples?: number;
}

export interface CumulantRun {
  status: RunStatus;
  message: string;
  t: number[];
  pmse: number[];
  pmsePerClass: number[][];
  /** pmse of the Gaussian (GET) part alone, per output time (pmse − 2·correction). */
  pmseGaussianPart: number[];
  accuracy: { accuracy: number; se: number }[];
  states: CumulantState[];
  meanIpr: number[];
  meanIprWithNoise: number[];
  /** Mean over neurons of the Edgeworth expansion parameter |K_aaaa|/Ω_aa² (largest class). */
  meanStdCumulant: number[];
  nRhs: number;
  nSteps: number;
}

/** The theory as an OdeProblem and how to read its solution. */
export function cumulantProblem(params: CumulantTheoryParams, init: CumulantInit, opts: CumulantRunOptions): { theory: CumulantTheory; problem: OdeProblem; finish: (sol: OdeSolution) => CumulantRun } {
  const theory = new CumulantTheory(params, init.b, init.v);
  const times = opts.times;
  const problem: OdeProblem = { rhs: theory.rhs, y0: theory.initialState(init), tspan: [times[0], times[times.length - 1]], saveat: times };
  const finish = (sol: OdeSolution): CumulantRun => {
    const errs = sol.y.map((y) => theory.pmse(y));
    const states = sol.y.map((y) => theory.state(y));
    const nAcc = opts.accuracySamples ?? 20_000;
    const mean = (a: Float64Array) => a.reduce((s, x) => s + x, 0) / a.length;
    return {
      status: runStatusOf(sol.retcode),
      message: sol.message,
      t: sol.t,
      pmse: errs.map((e) => e.pmse),
      pmsePerClass: errs.map((e) => e.perClass),
      pmseGaussianPart: errs.map((e) => e.perClass.reduce((s, x, mu) => s + theory.probs[mu] * (x - e.correction[mu]), 0)),
      accuracy: nAcc > 0 ? sol.y.map((y, j) => theory.accuracy(y, nAcc, 1000 + j)) : sol.y.map(() => ({ accuracy: NaN, se: NaN })),
      states,
      meanIpr: states.map((s) => mean(s.ipr)),
      meanIprWithNoise: states.map((s) => mean(s.iprWithNoise)),
      meanStdCumulant: states.map((s) => mean(s.stdCumulant)),
      nRhs: sol.stats.nRhs,
      nSteps: sol.stats.nSteps,
    };
  };
  return { theory, problem, finish };
}

/** Integrate the weight-space theory from the initial weights of an SGD run. */
export async function integrateCumulant(params: CumulantTheoryParams, init: CumulantInit, opts: CumulantRunOptions, hooks: RunHooks = {}, durable: CheckpointOptions = {}): Promise<CumulantRun> {
  const { problem, finish } = cumulantProblem(params, init, opts);
  return finish(await solveRun(problem, opts, { rtol: 1e-8, atol: 1e-10 }, hooks, durable));
}
