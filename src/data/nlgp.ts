/**
 * The non-linear Gaussian process (NLGP) of IG22 and its exact second- and fourth-order statistics.
 *
 * IG22 convention (default): x = erf(g z/√2)/√γ(g), z ~ N(0, Σ), with
 *   γ(g) = (2/π) arcsin(g²/(1+g²))                  (unit marginal variance),
 *   C_ij = (2/(πγ)) arcsin(g² Σ_ij/(1+g²))          (exact covariance, Σ_ii = 1).
 * LSG24 writes erf(g' z) with g' = g/√2; `toIg22Gain` converts.  Model files say which they use.
 */
import { erf } from "../stats/special.js";
import { gaussianExpectation } from "../stats/quadrature.js";

export type GainConvention = "ig22" | "lsg24";

/** Convert a gain given in `convention` to the IG22 gain g (x = erf(g z/√2)). */
export function toIg22Gain(gain: number, convention: GainConvention): number {
  return convention === "lsg24" ? gain * Math.SQRT2 : gain;
}

/** Variance of erf(g z/√2) for z ~ N(0, 1). */
export function nlgpGamma(g: number): number {
  const g2 = g * g;
  return (2 / Math.PI) * Math.asin(g2 / (1 + g2));
}

/** Exact NLGP covariance entry for base-kernel value s = Σ_ij (|s| ≤ 1), unit-variance normalised. */
export function nlgpCovariance(s: number, g: number): number {
  const g2 = g * g;
  return ((2 / Math.PI) * Math.asin((g2 * s) / (1 + g2))) / nlgpGamma(g);
}

/** Pointwise non-linearity x = erf(g z/√2)/√γ(g) (unit variance for z ~ N(0,1)). */
export function nlgpTransform(g: number): (z: number) => number {
  const a = g / Math.SQRT2, s = 1 / Math.sqrt(nlgpGamma(g));
  return (z) => s * erf(a * z);
}

/** E[x⁴] of the standardised NLGP marginal (the kurtosis κ; excess = κ − 3). */
export function nlgpKurtosis(g: number): number {
  const a = g / Math.SQRT2;
  const m2 = nlgpGamma(g);
  // Breakpoints where erf(a z) bends (|z| ~ 1/a) keep the adaptive rule efficient for large gains.
  const br = g > 1 ? [-2 / a, -1 / a, 1 / a, 2 / a] : [];
  const m4 = gaussianExpectation((z) => erf(a * z) ** 4, { breaks: br });
  return m4 / (m2 * m2);
}
