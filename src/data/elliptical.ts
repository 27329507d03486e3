/**
 * Elliptical (Gaussian scale-mixture) fields x = r·z with z ~ N(0, Σ_ξ) (a GP with the SE kernel)
 * and an independent random radius r > 0 normalised to E[r²] = 1, so Cov(x) = Σ_ξ exactly.
 *
 * Radius laws:
 *   - "lognormal": r = exp(s u − s²), u ~ N(0,1)               ⇒ κ = 3 e^{4 s²}
 *   - "student":   r² = (ν − 2)/G, G ~ χ²_ν (ν > 4)             ⇒ x_i is Student-t_ν (standardised),
 *                                                                 κ = 3 (ν − 2)/(ν − 4)
 * In general κ = E x⁴ = 3 E[r⁴]/E[r²]² ≥ 3: a scale mixture of Gaussians never has negative excess
 * kurtosis.
 *
 * Why this is the non-localising control.  For an elliptical x, E[x | w·x] is linear in w·x
 * (E[x | h] = Σ w h / wᵀΣw), so every gradient of a single neuron, E[x f(w·x)], points along Σw —
 * exactly as for Gaussian inputs — and the learning dynamics can only amplify Fourier modes of Σ:
 * no localisation, whatever the (heavy-tailed) marginal.  This is consistent with LSG24's effective
 * dynamics, which localise only for κ < 3 (negative excess kurtosis), while it shows that a
 * non-Gaussian marginal per se is not what drives localisation (IG22 attribute localisation to the
 * non-Gaussian higher-order cumulants of the NLGP, whose marginals have κ < 3).  (The papers' text
 * available here is IG22 in full and the LSG24 abstract; neither discusses elliptical data in the
 * parts available, so this statement is our derivation, not a quotation.)
 */
import type { Rng } from "../stats/rng.js";
import { lgamma } from "../stats/gamma.js";
import { gaussianExpectation, integrateAdaptive } from "../stats/quadrature.js";
import { CirculantGaussian, type GaussianSamplerState } from "./gp.js";
import { geometrySize, kernelRow, type Geometry } from "./kernels.js";
import type { ClassSampler } from "./sampler.js";

export type RadiusSpec = { kind: "lognormal"; s: number } | { kind: "student"; nu: number };

/** Standard Gamma(shape α ≥ 1, scale 1) by Marsaglia & Tsang (2000). */
export function sampleGamma(alpha: number, rng: Rng): number {
  if (!(alpha > 0 && alpha < Infinity)) throw new RangeError(`sampleGamma: shape must be finite and > 0 (got ${alpha})`);
  if (alpha < 1) {
    // Boost: Gamma(α) = Gamma(α + 1) · U^{1/α}.
    return sampleGamma(alpha + 1, rng) * Math.pow(rng.uniformOpen(), 1 / alpha);
  }
  const d = alpha - 1 / 3, c = 1 / Math.sqrt(9 * d);
  // Acceptance probability ≥ 0.95 per pass for α ≥ 1 (and v ≤ 0 needs x ≤ −√(9d) ≤ −2.4, P < 0.01):
  // 1000 rejections in a row cannot happen with a working generator.
  for (let pass = 0; pass < 1000; pass++) {
    const x = rng.normal();
    let v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    const u = rng.uniformOpen();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
  throw new Error(`sampleGamma(α = ${alpha}): Marsaglia–Tsang sampler rejected 1000 times in a row (broken generator?)`);
}

export function checkRadius(r: RadiusSpec): void {
  if (r.kind === "lognormal") {
    if (!(r.s >= 0 && r.s <= 3)) throw new RangeError(`radius.s must be in [0, 3] (got ${r.s})`);
  } else if (!(r.nu > 4 && r.nu <= 1e6)) throw new RangeError(`radius.nu must be in (4, 1e6] (got ${r.nu})`);
}

/** Draw one radius (E r² = 1). */
export function sampleRadius(r: RadiusSpec, rng: Rng): number {
  if (r.kind === "lognormal") return Math.exp(r.s * rng.normal() - r.s * r.s);
  const G = 2 * sampleGamma(r.nu / 2, rng); // χ²_ν
  return Math.sqrt((r.nu - 2) / G);
}

/** E[f(r)] over the radius law, by adaptive quadrature. */
export function radiusExpectation(r: RadiusSpec, f: (r: number) => number): number {
  if (r.kind === "lognormal") {
    const s = r.s;
    if (s === 0) return f(1);
    return gaussianExpectation((u) => f(Math.exp(s * u - s * s)), { abs: 1e-14, rel: 1e-13 });
  }
  // G ~ χ²_ν, integrate over y = log G: density exp((ν/2) y − e^y/2 − (ν/2) log 2 − lgamma(ν/2)).
  const nu = r.nu, h = nu / 2;
  const logNorm = h * Math.LN2 + lgamma(h);
  const mode = Math.log(nu);
  const sd = Math.sqrt(2 / nu); // sd of log G for large ν
  const lo = mode - Math.max(40 / h, 60 * sd), hi = mode + Math.max(8, 40 * sd);
  const dens = (y: number) => Math.exp(h * y - 0.5 * Math.exp(y) - logNorm);
  return integrateAdaptive((y) => dens(y) * f(Math.sqrt((nu - 2) / Math.exp(y))), lo, hi, {
    abs: 1e-14, rel: 1e-13, breaks: [mode - 2 * sd, mode, mode + 2 * sd],
  });
}

/** Kurtosis E x⁴ of the standardised marginal (closed form). */
export function ellipticalKurtosis(r: RadiusSpec): number {
  return r.kind === "lognormal" ? 3 * Math.exp(4 * r.s * r.s) : (3 * (r.nu - 2)) / (r.nu - 4);
}

export class EllipticalClass implements ClassSampler {
  readonly D: number;
  private gp: CirculantGaussian;
  private row: Float64Array;
  constructor(readonly geom: Geometry, readonly xi: number, readonly radius: RadiusSpec) {
    checkRadius(radius);
    this.D = geometrySize(geom);
    this.row = kernelRow(geom, xi);
    this.gp = new CirculantGaussian(geom, this.row);
  }
  /** Sampler state seen by the stream of `rng` (the GP's cached second sample), for checkpoints. */
  saveState(rng: Rng): GaussianSamplerState {
    return this.gp.saveState(rng);
  }
  restoreState(state: unknown, rng: Rng): void {
    this.gp.restoreState(state as GaussianSamplerState, rng);
  }
  sample(out: Float64Array, rng: Rng): Float64Array {
    this.gp.sample(out, rng);
    const r = sampleRadius(this.radius, rng);
    for (let i = 0; i < this.D; i++) out[i] *= r;
    return out;
  }
  /** Cov(x) = E[r²] Σ_ξ = Σ_ξ. */
  covarianceRow(): Float64Array {
    return this.row.slice();
  }
  describe(): string {
    const r = this.radius;
    return `elliptical(xi=${this.xi}, radius=${r.kind === "lognormal" ? `lognormal s=${r.s}` : `student nu=${r.nu}`})`;
  }
}
