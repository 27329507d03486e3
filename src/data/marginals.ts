/**
 * Site marginals for LSG24-style data and the fields built from them.
 *
 * A `Marginal` is the law of one standardised input coordinate x (E x = 0, E x² = 1).  Most are
 * pointwise transforms x = T(z) of a standard normal z, applied to a GP z ~ N(0, Σ_ξ) with the SE
 * kernel (NORTA fields):
 *   - "gaussian": T(z) = z                                              κ = 3
 *   - "sign":     T(z) = sign z (the ±1 marginal, NLGP g → ∞)           κ = 1
 *   - "nlgp":     T(z) = erf(g z/√2)/√γ(g)  (IG22 gain; LSG24's erf(g'z) has g = √2 g')
 *   - "kur":      T(z) = F⁻¹(Φ(z))/σ_k, F⁻¹(u) = (2u−1)/(1−|2u−1|^k)^{1/k}   (LSG24's Kur(k))
 *                 σ_k² = B(3/k, 1−2/k)/k,  κ = k B(5/k, 1−4/k)/B(3/k, 1−2/k)²  (k > 4; κ = 3 at k ≈ 5.89;
 *                 k → ∞ gives the uniform marginal, κ = 1.8; tails P(|x| > t) ~ t^{−k})
 * and two that are not:
 *   - "ising":    ±1 spins of a periodic Ising chain (coupling J), see ./ising.ts
 *   - "elliptical": x = r z with a random radius, see ./elliptical.ts
 *
 * The covariance of a NORTA field is NOT the kernel: Cov(x_i, x_j) = C(Σ_ij) with
 *   C(ρ) = E[T(z₁) T(z₂)],  (z₁, z₂) standard bivariate normal with correlation ρ,
 * in closed form for gaussian (ρ), sign ((2/π) arcsin ρ) and nlgp (IG22), and by nested adaptive
 * quadrature C(ρ) = E_{z₁}[T(z₁) E_u[T(ρ z₁ + √(1−ρ²) u)]] for kur.
 */
import { erf, erfc, erfFast } from "../stats/special.js";
import { lbeta } from "../stats/gamma.js";
import { gaussianExpectation } from "../stats/quadrature.js";
import type { Rng } from "../stats/rng.js";
import { CirculantGaussian, type GaussianSamplerState } from "./gp.js";
import { geometrySize, kernelRow, type Geometry } from "./kernels.js";
import { nlgpCovariance, nlgpGamma, nlgpKurtosis, toIg22Gain, type GainConvention } from "./nlgp.js";
import type { ClassSampler } from "./sampler.js";
import { IsingChainClass, isingCorrelationRow } from "./ising.js";
import { EllipticalClass, checkRadius, ellipticalKurtosis, radiusExpectation, type RadiusSpec } from "./elliptical.js";

export type MarginalSpec =
  | { kind: "gaussian" }
  | { kind: "sign" }
  | { kind: "nlgp"; gain: number; convention?: GainConvention }
  | { kind: "kur"; k: number }
  | { kind: "ising"; J: number }
  | { kind: "elliptical"; radius: RadiusSpec };

/** Law of one standardised coordinate. */
export interface Marginal {
  readonly spec: MarginalSpec;
  /** Kurtosis κ = E x⁴ (excess = κ − 3). */
  kurtosis(): number;
  /** E[x erf(c x)] for c ≥ 0 (c = Infinity gives E|x|); odd in c. */
  xErfMoment(c: number): number;
  /** Pointwise transform for NORTA fields (undefined for ising / elliptical). */
  readonly transform?: (z: number) => number;
  /** Faster equivalent of `transform` for samplers (to ≤ 1e-10 relative), if one exists. */
  readonly sampleTransform?: (z: number) => number;
  describe(): string;
}

// ---------------------------------------------------------------------------------------------
// Kur(k)

/** σ_k² = B(3/k, 1 − 2/k)/k: variance of the unstandardised Kur(k) law (k > 2). */
export function kurVariance(k: number): number {
  return Math.exp(lbeta(3 / k, 1 - 2 / k)) / k;
}

/** Kurtosis κ(k) = k B(5/k, 1−4/k)/B(3/k, 1−2/k)² of Kur(k) (k > 4; +∞ for k ≤ 4). */
export function kurKurtosis(k: number): number {
  if (!(k > 4)) return Infinity;
  return k * Math.exp(lbeta(5 / k, 1 - 4 / k) - 2 * lbeta(3 / k, 1 - 2 / k));
}

/** The k at which Kur(k) has kurtosis κ (bisection; κ ∈ (1.8, ∞)). */
export function kurForKurtosis(kappa: number): number {
  if (!(kappa > 1.8)) throw new RangeError(`Kur(k) kurtosis must be > 1.8 (got ${kappa})`);
  let lo = 4 + 1e-12, hi = 1e6;
  if (kurKurtosis(hi) > kappa) throw new RangeError(`kurtosis ${kappa} too close to 1.8 for Kur(k) with k ≤ 1e6`);
  for (let it = 0; it < 200; it++) {
    const mid = Math.sqrt(lo * hi);
    if (kurKurtosis(mid) > kappa) lo = mid; else hi = mid;
    if (hi / lo - 1 < 1e-15) break;
  }
  return Math.sqrt(lo * hi);
}

/** Standardised Kur(k) transform x = F⁻¹(Φ(z))/σ_k, accurate in both tails. */
export function kurTransform(k: number): (z: number) => number {
  const inv = 1 / Math.sqrt(kurVariance(k)), ik = 1 / k;
  return (z) => {
    const az = z < 0 ? -z : z;
    const s = az / Math.SQRT2;
    // y = |2Φ(z) − 1| = erf(|z|/√2); 1 − y^k computed via v = 1 − y = erfc(|z|/√2) where y is near 1.
    let y: number, oneMinusYk: number;
    if (az < 0.5) {
      y = erf(s);
      oneMinusYk = 1 - Math.pow(y, k);
    } else {
      const v = erfc(s);
      y = 1 - v;
      oneMinusYk = -Math.expm1(k * Math.log1p(-v));
    }
    if (oneMinusYk <= 0) return z < 0 ? -Infinity : Infinity;
    const x = (y / Math.pow(oneMinusYk, ik)) * inv;
    return z < 0 ? -x : x;
  };
}

/** dT/dz of the standardised Kur(k) transform: 2φ(z)(1 − y^k)^{−1−1/k}/σ_k, y = |2Φ(z) − 1|. */
export function kurTransformDerivative(k: number): (z: number) => number {
  const inv = 1 / Math.sqrt(kurVariance(k)), c = Math.sqrt(2 / Math.PI) * inv;
  return (z) => {
    const az = z < 0 ? -z : z;
    const s = az / Math.SQRT2;
    const oneMinusYk = az < 0.5 ? 1 - Math.pow(erf(s), k) : -Math.expm1(k * Math.log1p(-erfc(s)));
    return c * Math.exp(-0.5 * z * z) * Math.pow(oneMinusYk, -1 - 1 / k);
  };
}

/**
 * Fast evaluation of an odd, increasing transform T for samplers: piecewise cubic Hermite
 * interpolation of T and T' on a uniform grid of `n` intervals over [0, zmax], T itself beyond zmax
 * (probability 2Φ(−zmax) ≈ 2.6e-12 per draw for zmax = 7).  For Kur(k) with n = 2048 the relative
 * error is < 1e-10 (tested), far below any statistical effect; quadratures keep using exact T.
 */
export function tabulateOddTransform(T: (z: number) => number, dT: (z: number) => number, zmax = 7, n = 2048): (z: number) => number {
  const h = zmax / n, ih = 1 / h;
  const v = new Float64Array(n + 1), d = new Float64Array(n + 1);
  for (let j = 0; j <= n; j++) {
    v[j] = T(j * h);
    d[j] = h * dT(j * h);
  }
  return (z) => {
    const az = z < 0 ? -z : z;
    if (!(az < zmax)) return T(z);
    const u = az * ih;
    const j = Math.floor(u);
    const t = u - j, t2 = t * t, t3 = t2 * t;
    const r = (2 * t3 - 3 * t2 + 1) * v[j] + (t3 - 2 * t2 + t) * d[j] + (3 * t2 - 2 * t3) * v[j + 1] + (t3 - t2) * d[j + 1];
    return z < 0 ? -r : r;
  };
}

// ---------------------------------------------------------------------------------------------
// Generic helpers for transformed-Gaussian marginals

/** z ≥ 0 with |T(z)| = target, by bisection (T odd, increasing on z ≥ 0). */
function invertOnPositive(T: (z: number) => number, target: number, zmax = 12): number {
  if (T(zmax) <= target) return zmax;
  let lo = 0, hi = zmax;
  for (let it = 0; it < 80; it++) {
    const mid = 0.5 * (lo + hi);
    if (T(mid) < target) lo = mid; else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** E_z[T(z) erf(c T(z))] with breakpoints where the erf front sits (c T(z) = ±¼, ±1, ±3). */
function transformedXErf(T: (z: number) => number, c: number, zmax: number): number {
  if (c === 0) return 0;
  const neg = c < 0;
  const ac = Math.abs(c);
  let v: number;
  if (ac === Infinity) {
    v = gaussianExpectation((z) => Math.abs(T(z)), { abs: 1e-15, rel: 1e-14, zmax });
  } else {
    const br: number[] = [];
    for (const m of [0.25, 1, 3]) {
      const zb = invertOnPositive(T, m / ac, zmax);
      if (zb > 0 && zb < zmax) br.push(zb, -zb);
    }
    v = gaussianExpectation((z) => {
      const x = T(z);
      return x * erf(ac * x);
    }, { abs: 1e-15, rel: 1e-14, breaks: br, zmax });
  }
  return neg ? -v : v;
}

/**
 * C(ρ) = E[T(z₁)T(z₂)], corr(z₁, z₂) = ρ, for an odd transform T, by nested adaptive quadrature.
 * The outer and all inner quadratures share one allowance of `maxIntervals` subintervals (smooth
 * transforms need ~3·10⁴; default 3·10⁵): an inexact inner result makes the outer integrand noisy,
 * and without a shared cap the outer rule would refine that noise for hours instead of failing.
 */
export function transformedCovariance(
  T: (z: number) => number, rho: number, opts: { zmax?: number; tol?: number; maxIntervals?: number } = {},
): number {
  if (!(rho >= -1 && rho <= 1)) throw new RangeError(`correlation must be in [−1, 1] (got ${rho})`);
  const zmax = opts.zmax ?? 9.5, tol = opts.tol ?? 1e-12;
  if (rho === 0) return 0;
  if (rho < 0) return -transformedCovariance(T, -rho, opts);
  const budget = { intervals: opts.maxIntervals ?? 300_000 };
  try {
    if (rho === 1) return gaussianExpectation((z) => T(z) * T(z), { abs: tol, rel: tol, zmax, budget });
    const s = Math.sqrt(1 - rho * rho);
    const inner = (z1: number) =>
      gaussianExpectation((u) => T(rho * z1 + s * u), { abs: tol * 0.1, rel: tol, zmax, breaks: [-rho * z1 / s], budget });
    return gaussianExpectation((z1) => T(z1) * inner(z1), { abs: tol, rel: tol, zmax, budget });
  } catch (e) {
    throw new Error(`transformedCovariance(ρ = ${rho}, zmax = ${zmax}, tol = ${tol}) failed: ${(e as Error).message}`, { cause: e });
  }
}

// ---------------------------------------------------------------------------------------------
// Marginal factory

function checkSpec(spec: MarginalSpec): void {
  switch (spec.kind) {
    case "nlgp":
      if (!(spec.gain > 0 && spec.gain <= 1e6)) throw new RangeError(`marginal.gain must be in (0, 1e6] (got ${spec.gain})`);
      break;
    case "kur":
      if (!(spec.k > 4 && spec.k <= 1e6)) throw new RangeError(`marginal.k must be in (4, 1e6] (the kurtosis is infinite for k ≤ 4; got ${spec.k})`);
      break;
    case "ising":
      if (!(Math.abs(spec.J) <= 50)) throw new RangeError(`marginal.J must be in [−50, 50] (got ${spec.J})`);
      break;
    case "elliptical":
      checkRadius(spec.radius);
      break;
    default:
      break;
  }
}

/** Build the marginal law for a spec. */
export function makeMarginal(spec: MarginalSpec): Marginal {
  checkSpec(spec);
  switch (spec.kind) {
    case "gaussian":
      return {
        spec, transform: (z) => z,
        kurtosis: () => 3,
        // E[x erf(cx)] = (2c/√π)/√(1 + 2c²); E|x| = √(2/π).
        xErfMoment: (c) => (Math.abs(c) === Infinity ? Math.sign(c) * Math.sqrt(2 / Math.PI) : (2 * c) / Math.sqrt(Math.PI * (1 + 2 * c * c))),
        describe: () => "gaussian",
      };
    case "sign":
    case "ising":
      return {
        spec, transform: spec.kind === "sign" ? (z) => (z > 0 ? 1 : z < 0 ? -1 : 0) : undefined,
        kurtosis: () => 1,
        xErfMoment: (c) => erf(c),
        describe: () => (spec.kind === "sign" ? "sign (±1)" : `ising J=${spec.J} (±1 spins)`),
      };
    case "nlgp": {
      const g = toIg22Gain(spec.gain, spec.convention ?? "ig22");
      const a = g / Math.SQRT2, sc = 1 / Math.sqrt(nlgpGamma(g));
      const T = (z: number) => sc * erf(a * z);
      let kappa: number | undefined;
      return {
        spec, transform: T,
        // Sampling uses erfFast (absolute error ≤ 1e-15), exactly as the "nlgp" class kind does, so a
        // field with this marginal draws the same inputs bit for bit.
        sampleTransform: (z: number) => sc * erfFast(a * z),
        kurtosis: () => (kappa ??= nlgpKurtosis(g)),
        xErfMoment: (c) => transformedXErf(T, c, 9.5),
        describe: () => `nlgp g=${g} [IG22 convention x = erf(g z/√2)/√γ]${spec.convention === "lsg24" ? ` (given as LSG24 g'=${spec.gain})` : ""}`,
      };
    }
    case "kur": {
      const T = kurTransform(spec.k);
      let fast: ((z: number) => number) | undefined;
      // Heavy tails: the Gaussian weight times |T|·(1 + …) decays like exp(−z²(1 − 1/k)/2); 12 is safe.
      return {
        spec, transform: T,
        get sampleTransform() {
          return (fast ??= tabulateOddTransform(T, kurTransformDerivative(spec.k)));
        },
        kurtosis: () => kurKurtosis(spec.k),
        xErfMoment: (c) => transformedXErf(T, c, 12),
        describe: () => `kur k=${spec.k} (kurtosis ${kurKurtosis(spec.k).toPrecision(6)})`,
      };
    }
    case "elliptical": {
      const r = spec.radius;
      return {
        spec,
        kurtosis: () => ellipticalKurtosis(r),
        // x = r z: E[x erf(c x)] = E_r[ r · 2 c r/√(π(1 + 2c² r²)) ];  c = ∞: E|x| = √(2/π) E r.
        xErfMoment: (c) => {
          if (c === 0) return 0;
          if (Math.abs(c) === Infinity) return Math.sign(c) * Math.sqrt(2 / Math.PI) * radiusExpectation(r, (q) => q);
          return radiusExpectation(r, (q) => (2 * c * q * q) / Math.sqrt(Math.PI * (1 + 2 * c * c * q * q)));
        },
        describe: () => `elliptical ${r.kind === "lognormal" ? `lognormal s=${r.s}` : `student nu=${r.nu}`}`,
      };
    }
  }
}

/** E[x⁴] of a NORTA marginal by quadrature (independent check of the closed forms). */
export function transformedMoment(T: (z: number) => number, p: number, zmax = 12): number {
  return gaussianExpectation((z) => Math.abs(T(z)) ** p, { abs: 1e-14, rel: 1e-13, zmax });
}

/** Covariance C(ρ) of the field built from a marginal at base-kernel correlation ρ. */
export function marginalCovariance(m: Marginal, rho: number): number {
  const s = m.spec;
  switch (s.kind) {
    case "gaussian":
    case "elliptical":
      return rho;
    case "sign":
      return (2 / Math.PI) * Math.asin(Math.max(-1, Math.min(1, rho)));
    case "nlgp":
      return nlgpCovariance(rho, toIg22Gain(s.gain, s.convention ?? "ig22"));
    case "kur":
      return transformedCovariance(m.transform!, rho, { zmax: 12 });
    case "ising":
      throw new RangeError("the Ising chain covariance is not a function of a kernel value");
  }
}

// ---------------------------------------------------------------------------------------------
// Fields (ClassSamplers)

/** A NORTA field x_i = T(z_i), z ~ N(0, Σ_ξ). */
export class NortaClass implements ClassSampler {
  readonly D: number;
  private gp: CirculantGaussian;
  private row?: Float64Array;
  private T: (z: number) => number;
  constructor(readonly geom: Geometry, readonly xi: number, readonly marginal: Marginal) {
    if (!marginal.transform) throw new RangeError(`marginal ${marginal.describe()} is not a pointwise transform of a Gaussian`);
    this.T = marginal.sampleTransform ?? marginal.transform;
    this.D = geometrySize(geom);
    this.gp = new CirculantGaussian(geom, kernelRow(geom, xi));
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
    const T = this.T;
    for (let i = 0; i < this.D; i++) out[i] = T(out[i]);
    return out;
  }
  /** Exact covariance row (closed form or quadrature, cached per distinct kernel value). */
  covarianceRow(): Float64Array {
    if (!this.row) {
      const cache = new Map<number, number>();
      this.row = kernelRow(this.geom, this.xi, (v) => {
        let c = cache.get(v);
        if (c === undefined) {
          c = v === 1 ? 1 : marginalCovariance(this.marginal, v);
          cache.set(v, c);
        }
        return c;
      });
    }
    return this.row.slice();
  }
  describe(): string {
    return `norta(xi=${this.xi}, ${this.marginal.describe()})`;
  }
}

/** One class of an LSG24 task: kernel length ξ and a marginal (ξ is ignored by "ising"). */
export interface FieldSpec {
  xi: number;
  marginal: MarginalSpec;
}

/** Sampler for a field spec (ising: 1D only; gaussian uses the same NORTA sampler with T = id). */
export function makeField(geom: Geometry, spec: FieldSpec): { sampler: ClassSampler; marginal: Marginal } {
  const marginal = makeMarginal(spec.marginal);
  const m = spec.marginal;
  if (m.kind === "ising") {
    if (geom.dim !== 1) throw new RangeError("ising marginals need a 1D geometry");
    return { sampler: new IsingChainClass(geom.L, m.J), marginal };
  }
  if (m.kind === "elliptical") return { sampler: new EllipticalClass(geom, spec.xi, m.radius), marginal };
  return { sampler: new NortaClass(geom, spec.xi, marginal), marginal };
}

export { isingCorrelationRow };
