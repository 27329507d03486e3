/**
 * The mixture ODE's full right-hand side (src/theory/mixture-ode.ts), including the η² term, against
 * a reference derived here from the SGD update rule alone — no Stein lemma, no closed-form erf
 * expectations, no code from src/theory.
 *
 * SGD (lrScaling s = 1, as in src/sim): per step, with a fresh x ~ N(0, C^μ) of class μ (prob. p_μ),
 *   f_k = v_k e g'(w_k·x + b_k),  e = y_μ − Σ_j v_j g(w_j·x + b_j),  g(h) = erf(h/√2),
 *   W ← (1 − ηℓ2/D) W + (η/D) f xᵀ,  b ← b + (η_b/D) f,  v ← v + (η_v/D) e g,   t = steps/D.
 * The ODE state is, per mode τ (unnormalised DFT ŵ_kτ = Σ_j w_kj e^{−2πiτj/D}), the density
 * q_τ^{kl} = Re(ŵ_kτ conj ŵ_lτ), summed over modes with equal spectra.  With Δŵ_kτ = (η/D) f_k x̂_τ,
 * the expected change per unit time (D steps) is, to leading order in 1/D for the decay,
 *   q̇_τ^{kl} = η Re(E[f_k x̂_τ] conj ŵ_lτ + ŵ_kτ conj E[f_l x̂_τ]) + (η²/D) E[f_k f_l |x̂_τ|²] − 2ηℓ2 q_τ^{kl}.
 * The expectations are reduced to the K pre-activations λ = Wx by Gaussian conditioning (not Stein):
 * x̂_τ = β_τ·λ + ζ with ζ independent of λ, β_τ = Ω⁻¹ E[λ x̂_τ] (complex), so
 *   E[f_k x̂_τ] = Σ_m β_m E[f_k λ_m],
 *   E[f_k f_l |x̂_τ|²] = (E|x̂_τ|² − E|β·λ|²) E[f_k f_l] + E[f_k f_l |β·λ|²],
 * with E[λ x̂_τ], E|x̂_τ|² and Ω summed densely from C^μ and W, and all E[F(λ)] by tensor
 * trapezoidal quadrature over λ ~ N(0, Ω) (Cholesky).  The ODE is the mean-field (D → ∞) form that
 * replaces E[f f |x̂_τ|²] by E|x̂_τ|² E[f f]; the dropped fluctuation term (η²/D) Cov(f_k f_l, |β·λ|²)
 * is computed separately, and it vanishes exactly for modes τ outside the Fourier support of W
 * (β_τ = 0), where the reference is therefore the exact finite-D SGD drift.
 */
import { describe, expect, it } from "vitest";
import { MixtureOde, type MixtureOdeParams } from "../src/theory/mixture-ode.js";
import { spectrumOfRow, kernelRow, type Geometry } from "../src/data/kernels.js";
import { Rng } from "../src/stats/rng.js";
import { erf } from "../src/stats/special.js";
import { gaussianGrid, trapezoidRule } from "./independent-quadrature.js";

const g = (h: number) => erf(h / Math.SQRT2);
const gp = (h: number) => Math.sqrt(2 / Math.PI) * Math.exp(-0.5 * h * h);

/** SE kernel written out: exp(−(d/ξ)²), d the ring distance. */
function denseSe(L: number, xi: number): Float64Array {
  const C = new Float64Array(L * L);
  for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) {
    const a = Math.abs(i - j), d = Math.min(a, L - a);
    C[i * L + j] = Math.exp(-((d / xi) ** 2));
  }
  return C;
}

/** Inverse of a small SPD matrix by Gauss–Jordan. */
function inverse(A: Float64Array, n: number): Float64Array {
  const M = Float64Array.from(A), I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r * n + c]) > Math.abs(M[p * n + c])) p = r;
    for (let j = 0; j < n; j++) { [M[c * n + j], M[p * n + j]] = [M[p * n + j], M[c * n + j]]; [I[c * n + j], I[p * n + j]] = [I[p * n + j], I[c * n + j]]; }
    const d = M[c * n + c];
    for (let j = 0; j < n; j++) { M[c * n + j] /= d; I[c * n + j] /= d; }
    for (let r = 0; r < n; r++) if (r !== c) {
      const f = M[r * n + c];
      for (let j = 0; j < n; j++) { M[r * n + j] -= f * M[c * n + j]; I[r * n + j] -= f * I[c * n + j]; }
    }
  }
  return I;
}

interface Setup {
  D: number; K: number;
  W: Float64Array; b: number[]; v: number[];
  classes: { xi: number; y: number; p: number }[];
  eta: number; l2: number; etaB: number; etaV: number;
}

interface Reference {
  /** Per mode τ: mean-field q̇_τ (K×K) and the dropped fluctuation term (K×K). */
  meanField: Float64Array[];
  fluct: Float64Array[];
  /** Per mode τ: the η² part of the mean-field drift alone (K×K). */
  noise: Float64Array[];
  q: Float64Array[];
  bdot: Float64Array;
  vdot: Float64Array;
}

function reference(s: Setup, rule: { x: Float64Array; w: Float64Array }): Reference {
  const { D, K, W, b, v, eta, l2 } = s;
  const meanField = Array.from({ length: D }, () => new Float64Array(K * K));
  const fluct = Array.from({ length: D }, () => new Float64Array(K * K));
  const noise = Array.from({ length: D }, () => new Float64Array(K * K));
  const bdot = new Float64Array(K), vdot = new Float64Array(K);
  // ŵ_kτ by a naive DFT and the mode densities.
  const wr = new Float64Array(K * D), wi = new Float64Array(K * D);
  for (let k = 0; k < K; k++) for (let t = 0; t < D; t++) {
    for (let j = 0; j < D; j++) {
      const th = (2 * Math.PI * ((t * j) % D)) / D;
      wr[k * D + t] += W[k * D + j] * Math.cos(th);
      wi[k * D + t] -= W[k * D + j] * Math.sin(th);
    }
  }
  const q = Array.from({ length: D }, (_, t) => {
    const Q = new Float64Array(K * K);
    for (let k = 0; k < K; k++) for (let l = 0; l < K; l++) Q[k * K + l] = wr[k * D + t] * wr[l * D + t] + wi[k * D + t] * wi[l * D + t];
    return Q;
  });
  for (const cls of s.classes) {
    const C = denseSe(D, cls.xi);
    // CWᵀ (D×K), Ω = W C Wᵀ.
    const CW = new Float64Array(D * K);
    for (let i = 0; i < D; i++) for (let m = 0; m < K; m++) {
      let a = 0;
      for (let j = 0; j < D; j++) a += C[i * D + j] * W[m * D + j];
      CW[i * K + m] = a;
    }
    const Om = new Float64Array(K * K);
    for (let k = 0; k < K; k++) for (let m = 0; m < K; m++) {
      let a = 0;
      for (let i = 0; i < D; i++) a += W[k * D + i] * CW[i * K + m];
      Om[k * K + m] = a;
    }
    const Oi = inverse(Om, K);
    // Brute-force Gaussian expectations over λ ~ N(0, Ω) (pre-activations without bias).
    const Ef = new Float64Array(K), Eeg = new Float64Array(K), Eff = new Float64Array(K * K);
    const Efl = new Float64Array(K * K); // E[f_k λ_m]
    const Effll = new Float64Array(K * K * K * K); // E[f_k f_l λ_m λ_n]
    const f = new Float64Array(K), gv = new Float64Array(K);
    gaussianGrid(Om, K, rule, (lam, wt) => {
      let e = cls.y;
      for (let j = 0; j < K; j++) { gv[j] = g(lam[j] + b[j]); e -= v[j] * gv[j]; }
      for (let k = 0; k < K; k++) f[k] = v[k] * e * gp(lam[k] + b[k]);
      for (let k = 0; k < K; k++) {
        Ef[k] += wt * f[k];
        Eeg[k] += wt * e * gv[k];
        for (let m = 0; m < K; m++) Efl[k * K + m] += wt * f[k] * lam[m];
        for (let l = 0; l < K; l++) {
          const ff = wt * f[k] * f[l];
          Eff[k * K + l] += ff;
          for (let m = 0; m < K; m++) for (let n = 0; n < K; n++) Effll[((k * K + l) * K + m) * K + n] += ff * lam[m] * lam[n];
        }
      }
    });
    for (let k = 0; k < K; k++) { bdot[k] += s.etaB * cls.p * Ef[k]; vdot[k] += s.etaV * cls.p * Eeg[k]; }
    for (let t = 0; t < D; t++) {
      // E[λ_m x̂_τ] = Σ_j e^{−iθj} (C w_m)_j and E|x̂_τ|² = Σ_jj' cos θ(j − j') C_jj'.
      const cr = new Float64Array(K), ci = new Float64Array(K);
      for (let m = 0; m < K; m++) for (let j = 0; j < D; j++) {
        const th = (2 * Math.PI * ((t * j) % D)) / D;
        cr[m] += Math.cos(th) * CW[j * K + m];
        ci[m] -= Math.sin(th) * CW[j * K + m];
      }
      let ex2 = 0;
      for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) ex2 += Math.cos((2 * Math.PI * t * (i - j)) / D) * C[i * D + j];
      const br = new Float64Array(K), bi = new Float64Array(K);
      for (let m = 0; m < K; m++) for (let n = 0; n < K; n++) { br[m] += Oi[m * K + n] * cr[n]; bi[m] += Oi[m * K + n] * ci[n]; }
      let eb2 = 0; // E|β·λ|²
      for (let m = 0; m < K; m++) for (let n = 0; n < K; n++) eb2 += (br[m] * br[n] + bi[m] * bi[n]) * Om[m * K + n];
      // a_k = E[f_k x̂_τ] = Σ_m β_m E[f_k λ_m].
      const ar = new Float64Array(K), ai = new Float64Array(K);
      for (let k = 0; k < K; k++) for (let m = 0; m < K; m++) { ar[k] += br[m] * Efl[k * K + m]; ai[k] += bi[m] * Efl[k * K + m]; }
      for (let k = 0; k < K; k++) for (let l = 0; l < K; l++) {
        // Re(a_k conj ŵ_l + ŵ_k conj a_l)
        const first = ar[k] * wr[l * D + t] + ai[k] * wi[l * D + t] + wr[k * D + t] * ar[l] + wi[k * D + t] * ai[l];
        let effbb = 0; // E[f_k f_l |β·λ|²]
        for (let m = 0; m < K; m++) for (let n = 0; n < K; n++) effbb += (br[m] * br[n] + bi[m] * bi[n]) * Effll[((k * K + l) * K + m) * K + n];
        const nz = ((eta * eta) / D) * ex2 * Eff[k * K + l];
        meanField[t][k * K + l] += cls.p * (eta * first + nz);
        noise[t][k * K + l] += cls.p * nz;
        fluct[t][k * K + l] += cls.p * ((eta * eta) / D) * (effbb - eb2 * Eff[k * K + l]);
      }
    }
  }
  for (let t = 0; t < D; t++) for (let i = 0; i < K * K; i++) meanField[t][i] -= 2 * eta * l2 * q[t][i];
  return { meanField, fluct, noise, q, bdot, vdot };
}

/** ODE right-hand side and its group structure for a setup. */
function odeRhs(s: Setup, secondOrder = true) {
  const geom: Geometry = { dim: 1, L: s.D };
  const params: MixtureOdeParams = {
    K: s.K, geometry: geom, spectra: s.classes.map((c) => spectrumOfRow(geom, kernelRow(geom, c.xi))),
    labels: s.classes.map((c) => c.y), probs: s.classes.map((c) => c.p),
    lr: s.eta, lrBias: s.etaB, lrSecondLayer: s.etaV, weightDecay: s.l2, trainBias: true, trainSecondLayer: true, secondOrder,
  };
  const ode = new MixtureOde(params, s.b, s.v);
  const y = ode.initialState({ W: s.W, b: s.b, v: s.v });
  const dy = new Float64Array(ode.dim);
  ode.rhs(0, y, dy);
  return { ode, y, dy, nt: (s.K * (s.K + 1)) / 2 };
}

/** Sum per-mode K×K arrays over the ODE's groups, upper triangle in the state's order. */
function byGroup(ode: MixtureOde, K: number, perMode: Float64Array[]): Float64Array {
  const nt = (K * (K + 1)) / 2;
  const out = new Float64Array(ode.G * nt);
  perMode.forEach((A, t) => {
    let j = ode.groupOf[t] * nt;
    for (let k = 0; k < K; k++) for (let l = k; l < K; l++) out[j++] += A[k * K + l];
  });
  return out;
}

describe("mixture ODE right-hand side vs the SGD drift by brute-force Gaussian quadrature", () => {
  it("W with Fourier support {0, ±1, ±2} (D = 12, K = 2, η = 1): outside the support the η² term is the exact SGD drift (1e-10); full RHS, b and v to 1e-10", () => {
    const D = 12, K = 2;
    const W = new Float64Array(K * D);
    for (let j = 0; j < D; j++) {
      const th = (2 * Math.PI * j) / D;
      W[j] = 0.15 + 0.35 * Math.cos(th) - 0.2 * Math.sin(2 * th);
      W[D + j] = -0.1 + 0.3 * Math.sin(th) + 0.25 * Math.cos(2 * th + 0.4);
    }
    const s: Setup = {
      D, K, W, b: [0.6, -0.5], v: [0.9, -0.7],
      classes: [{ xi: 0.9, y: -1, p: 0.4 }, { xi: 1.7, y: 1, p: 0.6 }],
      eta: 1, l2: 0.03, etaB: 0.6, etaV: 0.4,
    };
    // K = 2: trapezoid step 0.04 on |z| ≤ 9 (diag Ω ≲ 2); step 0.06 gives the same drift to < 1e-13.
    const ref = reference(s, trapezoidRule(0.04, 9));
    const ref2 = reference(s, trapezoidRule(0.06, 9));
    const { ode, y, dy, nt } = odeRhs(s);
    // The ODE's initial state is the naive-DFT mode densities summed by group.
    const q0 = byGroup(ode, K, ref.q);
    for (let i = 0; i < q0.length; i++) expect(Math.abs(y[i] - q0[i])).toBeLessThan(1e-12);
    const mf = byGroup(ode, K, ref.meanField), mf2 = byGroup(ode, K, ref2.meanField);
    const fl = byGroup(ode, K, ref.fluct), nz = byGroup(ode, K, ref.noise);
    const support = new Set([0, 1, 2, D - 1, D - 2].map((t) => ode.groupOf[t]));
    let outside = 0;
    for (let gI = 0; gI < ode.G; gI++) {
      for (let j = gI * nt; j < (gI + 1) * nt; j++) {
        expect(Math.abs(mf[j] - mf2[j])).toBeLessThan(1e-13); // quadrature converged
        // Tolerance 1e-10: quadrature ≲ 1e-13, the ODE's expectations ≲ 1e-13 (bivariate normal CDF).
        expect(Math.abs(dy[j] - mf[j])).toBeLessThan(1e-10);
        if (!support.has(gI)) {
          // Outside the support: q_τ = 0, the drift is pure η² noise and the fluctuation term is 0,
          // so the ODE equals the exact finite-D expected SGD drift.
          expect(Math.abs(fl[j])).toBeLessThan(1e-14);
          expect(Math.abs(y[j])).toBeLessThan(1e-20);
          expect(Math.abs(mf[j] - nz[j])).toBeLessThan(1e-15);
          // Power: a 1 % error in the η² term is ≥ 1000× the tolerance on the diagonal entries.
          if (j === gI * nt || j === gI * nt + 2) expect(0.01 * Math.abs(nz[j])).toBeGreaterThan(1000 * 1e-10);
          outside++;
        }
      }
    }
    expect(outside).toBe(nt * (ode.G - support.size));
    expect(ode.G - support.size).toBeGreaterThanOrEqual(4); // modes 3…9 form ≥ 4 groups
    // Second layer and biases: ḃ = η_b Σ_μ p_μ E[f], v̇ = η_v Σ_μ p_μ E[e g].
    const o = ode.G * nt;
    for (let k = 0; k < K; k++) {
      expect(Math.abs(dy[o + k] - ref.bdot[k])).toBeLessThan(1e-12);
      expect(Math.abs(dy[o + K + k] - ref.vdot[k])).toBeLessThan(1e-12);
    }
    // The η² term matters inside the support too: switching it off changes the RHS there by ≫ tol.
    const first = odeRhs(s, false).dy;
    for (const gI of support) expect(Math.abs(dy[gI * nt] - first[gI * nt])).toBeGreaterThan(1e-4);
  });

  it("generic random W (D = 8, K = 3, η = 1.5): every group equals the mean-field drift to 1e-10; the dropped fluctuation term is O(1/D)", () => {
    const D = 8, K = 3;
    const rng = new Rng(42);
    const W = rng.fillNormal(new Float64Array(K * D), 1 / Math.sqrt(D));
    const s: Setup = {
      D, K, W, b: [0.5, -0.8, 0.2], v: [0.7, -0.5, 0.6],
      classes: [{ xi: 0.7, y: -1, p: 0.5 }, { xi: 1.3, y: 1, p: 0.5 }],
      eta: 1.5, l2: 0, etaB: 1.5, etaV: 1.5,
    };
    // K = 3: trapezoid step 0.15 on |z| ≤ 7.5 (10⁶ points; diag Ω ≲ 1.5); step 0.2 agrees to < 1e-12.
    const ref = reference(s, trapezoidRule(0.15, 7.5));
    const ref2 = reference(s, trapezoidRule(0.2, 7.5));
    const { ode, dy, nt } = odeRhs(s);
    const mf = byGroup(ode, K, ref.meanField), mf2 = byGroup(ode, K, ref2.meanField);
    const fl = byGroup(ode, K, ref.fluct), nz = byGroup(ode, K, ref.noise);
    let maxNoiseRel = 0;
    for (let j = 0; j < ode.G * nt; j++) {
      expect(Math.abs(mf[j] - mf2[j])).toBeLessThan(1e-12);
      expect(Math.abs(dy[j] - mf[j])).toBeLessThan(1e-10);
      // The finite-D fluctuation correction the mean-field ODE drops is small relative to the η² term
      // it corrects (it carries an extra factor ~ρ_τ|ŵ_τ|²/(DΩ)); recorded so the approximation is explicit.
      if (Math.abs(nz[j]) > 1e-3) expect(Math.abs(fl[j])).toBeLessThan(0.5 * Math.abs(nz[j]));
      maxNoiseRel = Math.max(maxNoiseRel, Math.abs(nz[j]));
    }
    // Power: the largest η² contribution is ≥ 1e-3, so a 1 % change is ≥ 1e5× the tolerance.
    expect(maxNoiseRel).toBeGreaterThan(1e-3);
    const o = ode.G * nt;
    for (let k = 0; k < K; k++) {
      expect(Math.abs(dy[o + k] - ref.bdot[k])).toBeLessThan(1e-12);
      expect(Math.abs(dy[o + K + k] - ref.vdot[k])).toBeLessThan(1e-12);
    }
  });
});
