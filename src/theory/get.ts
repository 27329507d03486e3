/**
 * Gaussian-equivalence (GET) prediction of the test error of a two-layer erf network
 * φ(x) = Σ_k v_k g(w_k·x + b_k), g(h) = erf(h/√2), on a mixture of classes with translation-invariant
 * covariances C^μ (IG22 Methods, "Gaussian equivalence"; eq. 9).
 *
 * For class μ the pre-activations λ = Wx are replaced by Gaussians with zero mean and covariance
 * Ω^μ = W C^μ Wᵀ; then
 *   pmse = Σ_μ p_μ E_μ[(y_μ − φ)²] = Σ_μ p_μ [y_μ² − 2y_μ Σ_k v_k E[g_k] + Σ_kl v_k v_l E[g_k g_l]]
 * (IG22 convention: no factor ½, the same as `evaluate` in src/sim/network.ts).  E[g_k] is closed
 * form and E[g_k g_l] with biases is the bivariate-normal expression of gaussian-integrals.ts
 * (≲ 1e-13 absolute).  For Gaussian (GP) inputs this is exact; for non-Gaussian inputs (NLGP) it is
 * the GET approximation.
 *
 * Ω^μ is computed in O(K D log D + K² D) from the Fourier transforms of the rows of W:
 *   Ω^μ_kl = (1/D) Σ_τ ρ^μ_τ Re(ŵ_kτ conj ŵ_lτ),  ρ^μ = spectrum of C^μ (DFT of its first row).
 */
import { fft2, fftPlan } from "../stats/fft.js";
import { eGG, eG } from "../stats/gaussian-integrals.js";
import { Rng } from "../stats/rng.js";
import { erf } from "../stats/special.js";
import { choleskySemidefinite } from "../stats/linalg.js";
import { geometrySize, type Geometry } from "../data/kernels.js";

/** Fourier transforms of the K rows of W (K×D row-major) on the ring / torus. */
export function fourierRows(W: ArrayLike<number>, K: number, geom: Geometry): { re: Float64Array; im: Float64Array } {
  const D = geometrySize(geom);
  if (W.length !== K * D) throw new RangeError(`W must be K×D = ${K}×${D} (got length ${W.length})`);
  const re = new Float64Array(K * D), im = new Float64Array(K * D);
  const r = new Float64Array(D), i = new Float64Array(D);
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < D; j++) { r[j] = W[k * D + j]; i[j] = 0; }
    if (geom.dim === 1) fftPlan(D).forward(r, i);
    else fft2(r, i, geom.L, geom.L);
    re.set(r, k * D);
    im.set(i, k * D);
  }
  return { re, im };
}

/** Ω = W C Wᵀ (K×K) for a translation-invariant C given by its spectrum. */
export function preactivationCovariance(W: ArrayLike<number>, K: number, geom: Geometry, spectrum: ArrayLike<number>): Float64Array {
  const D = geometrySize(geom);
  const { re, im } = fourierRows(W, K, geom);
  return covarianceFromFourier(re, im, K, D, spectrum);
}

/** Ω from precomputed Fourier rows. */
export function covarianceFromFourier(re: Float64Array, im: Float64Array, K: number, D: number, spectrum: ArrayLike<number>): Float64Array {
  if (spectrum.length !== D) throw new RangeError(`spectrum must have length D = ${D}`);
  const Om = new Float64Array(K * K);
  for (let k = 0; k < K; k++) {
    for (let l = k; l < K; l++) {
      let s = 0;
      for (let t = 0; t < D; t++) s += spectrum[t] * (re[k * D + t] * re[l * D + t] + im[k * D + t] * im[l * D + t]);
      Om[k * K + l] = Om[l * K + k] = s / D;
    }
  }
  return Om;
}

/** E[(y − φ)²] for λ ~ N(0, Ω) (K×K), biases b, second layer v and label y (exact for Gaussian λ). */
export function gaussianClassPmse(Om: ArrayLike<number>, b: ArrayLike<number>, v: ArrayLike<number>, y: number, K: number): number {
  let s1 = 0, s2 = 0;
  for (let k = 0; k < K; k++) {
    if (v[k] === 0) continue;
    s1 += v[k] * eG(Om[k * K + k], b[k]);
    s2 += v[k] * v[k] * eGG(Om[k * K + k], Om[k * K + k], Om[k * K + k], b[k], b[k]);
    for (let l = k + 1; l < K; l++) {
      if (v[l] === 0) continue;
      s2 += 2 * v[k] * v[l] * eGG(Om[k * K + k], Om[l * K + l], Om[k * K + l], b[k], b[l]);
    }
  }
  return y * y - 2 * y * s1 + s2;
}

export interface GetPrediction {
  /** Σ_μ p_μ E_μ[(y_μ − φ)²] (IG22 eq. 9). */
  pmse: number;
  /** Per-class E_μ[(y_μ − φ)²]. */
  perClass: number[];
  /** Ω^μ per class (K×K). */
  omegas: Float64Array[];
}

/** GET prediction from the class covariances of the pre-activations. */
export function getPmseFromOmegas(omegas: readonly ArrayLike<number>[], b: ArrayLike<number>, v: ArrayLike<number>, labels: readonly number[], probs: readonly number[], K: number): { pmse: number; perClass: number[] } {
  const perClass = omegas.map((Om, mu) => gaussianClassPmse(Om, b, v, labels[mu], K));
  let pmse = 0;
  perClass.forEach((e, mu) => { pmse += probs[mu] * e; });
  return { pmse, perClass };
}

/**
 * GET test error of the network (W K×D, b, v) on classes with spectra `spectra[μ]` (eigenvalues of
 * C^μ, e.g. `GpClass.spectrum()` or `spectrumOfRow(geom, sampler.covarianceRow())`).
 */
export function getTestError(
  net: { W: ArrayLike<number>; b: ArrayLike<number>; v: ArrayLike<number>; K: number },
  geom: Geometry,
  spectra: readonly ArrayLike<number>[],
  labels: readonly number[],
  probs: readonly number[] = spectra.map(() => 1 / spectra.length),
): GetPrediction {
  const D = geometrySize(geom);
  const { re, im } = fourierRows(net.W, net.K, geom);
  const omegas = spectra.map((s) => covarianceFromFourier(re, im, net.K, D, s));
  return { ...getPmseFromOmegas(omegas, net.b, net.v, labels, probs, net.K), omegas };
}

/**
 * GET accuracy P(sign-threshold of φ = y) under the Gaussian model — no closed form for K > 1, so
 * Monte Carlo over the K Gaussian pre-activations (seeded; returns the estimate and its standard error).
 * The decision threshold is (lo + hi)/2 of the two labels, as in the simulator's `evaluate`.
 */
export function getAccuracyMc(
  omegas: readonly ArrayLike<number>[], b: ArrayLike<number>, v: ArrayLike<number>, labels: readonly number[], probs: readonly number[], K: number,
  samples = 20000, seed = 1,
): { accuracy: number; se: number } {
  const lo = Math.min(...labels), hi = Math.max(...labels), thr = 0.5 * (lo + hi);
  const rng = new Rng(seed, 77);
  const z = new Float64Array(K), L = new Float64Array(K * K);
  let acc = 0, variance = 0;
  omegas.forEach((Om, mu) => {
    choleskySemidefinite(Om, K, L);
    let c = 0;
    for (let s = 0; s < samples; s++) {
      for (let k = 0; k < K; k++) z[k] = rng.normal();
      let phi = 0;
      for (let k = 0; k < K; k++) {
        let h = b[k];
        for (let j = 0; j <= k; j++) h += L[k * K + j] * z[j];
        phi += v[k] * erf(h / Math.SQRT2);
      }
      const pred = phi > thr ? hi : lo;
      if (pred === labels[mu]) c++;
    }
    const p = c / samples;
    acc += probs[mu] * p;
    variance += (probs[mu] ** 2 * p * (1 - p)) / samples;
  });
  return { accuracy: acc, se: Math.sqrt(variance) };
}

