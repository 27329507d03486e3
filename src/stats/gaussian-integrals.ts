/**
 * Gaussian expectations of g(x) = erf(x/√2) and its derivatives, as needed by the Saad–Solla
 * order-parameter ODEs, the Gaussian-mixture ODEs and the Gaussian-equivalence test error.
 *
 * Unbiased closed forms (u zero-mean Gaussian with covariance C, 1-based indices as in REFERENCE):
 *   I2 = E[g(u1) g(u2)]          = (2/π) asin(C12/√((1+C11)(1+C22)))
 *   J2 = E[g'(u1) g'(u2)]        = (2/π) / √((1+C11)(1+C22) − C12²)
 *   I3 = E[g'(u1) u2 g(u3)]      = (2/π)[C23(1+C11) − C12C13] / [(1+C11)√Λ3]
 *   I4 = E[g'(u1) g'(u2) g(u3) g(u4)] = (4/π²) Λ4^{-1/2} asin(Λ0/√(Λ1Λ2))
 *
 * Biased / non-zero-mean expectations.  g'(x) = √(2/π) e^{−x²/2} is a Gaussian factor, so
 * multiplying a Gaussian density by g'(u_k + b_k) gives another Gaussian ("tilting"):
 *   E[e^{−a(u_k+b_k)²/2} F(u)] = Z · E'[F(u)],  Z = (1+a s)^{-1/2} exp(−a(m_k+b_k)²/(2(1+a s))),
 *   m' = m − a c (m_k+b_k)/(1+a s),  C' = C − a c cᵀ/(1+a s),  s = C_kk, c = C e_k.
 * After removing every g' factor this way, what remains is one of
 *   E[g(u+c)]              = erf(c/√(2(1+s)))                         (closed form)
 *   E[u_i g(u_j + c)]      = m_i E[g] + C_ij E[g'(u_j+c)]            (Stein, closed form)
 *   E[g(u1+c1) g(u2+c2)]   = 4Φ2(h1, h2; r) − 2Φ(h1) − 2Φ(h2) + 1,
 *                            h_i = c_i/√(1+C_ii), r = C12/√((1+C11)(1+C22))
 * with Φ2 the bivariate normal CDF, computed from the one-dimensional integral
 *   Φ2(h, k; r) = Φ(h)Φ(k) + (1/2π) ∫_0^{asin r} exp(−(h² + k² − 2hk sin θ)/(2 cos² θ)) dθ
 * (6/12/20-point Gauss–Legendre for |r| ≤ 0.925 as in Genz's BVND; otherwise the complementary
 * arc towards ±π/2 on a geometric mesh that resolves the front at cos θ ~ |h − k|; absolute accuracy
 * ≲ 1e-13, see test/gaussian-integrals.test.ts).  So every expectation the ODEs need with biases is
 * either closed form or a single 1-D integral of a smooth integrand.
 *
 * Conditioning: asin(r) has an infinite derivative at |r| = 1, so I2/I4 lose half the digits when two
 * fields coincide (student = teacher): the Saad–Solla RHS is then only accurate to ~1e-8 absolute.
 */
import { gaussLegendre } from "./quadrature.js";
import { erf, normCdf } from "./special.js";
import { TetraWorkspace, type TetraTables } from "../kernels/tetra.js";

const TWO_OVER_PI = 2 / Math.PI;
const SQRT_TWO_OVER_PI = Math.sqrt(2 / Math.PI);
const FOUR_OVER_PI2 = 4 / (Math.PI * Math.PI);
const INV_2PI = 1 / (2 * Math.PI);

/** The activation g(x) = erf(x/√2) and its first two derivatives. */
export function gErf(x: number): number {
  return erf(x / Math.SQRT2);
}
export function gErfPrime(x: number): number {
  return SQRT_TWO_OVER_PI * Math.exp(-0.5 * x * x);
}
export function gErfSecond(x: number): number {
  return -x * SQRT_TWO_OVER_PI * Math.exp(-0.5 * x * x);
}

// ---------------------------------------------------------------------------------------------
// Unbiased closed forms (Saad & Solla 1995)
// ---------------------------------------------------------------------------------------------

/** I2 = E[g(u1)g(u2)] for zero-mean (u1, u2) with variances c11, c22 and covariance c12. */
export function I2(c11: number, c22: number, c12: number): number {
  return TWO_OVER_PI * Math.asin(clampUnit(c12 / Math.sqrt((1 + c11) * (1 + c22))));
}

/** J2 = E[g'(u1)g'(u2)]. */
export function J2(c11: number, c22: number, c12: number): number {
  return TWO_OVER_PI / Math.sqrt((1 + c11) * (1 + c22) - c12 * c12);
}

/** I3 = E[g'(u1) u2 g(u3)]; arguments are the covariance entries C11, C12, C13, C23, C33. */
export function I3(c11: number, c12: number, c13: number, c23: number, c33: number): number {
  const l3 = (1 + c11) * (1 + c33) - c13 * c13;
  return (TWO_OVER_PI * (c23 * (1 + c11) - c12 * c13)) / ((1 + c11) * Math.sqrt(l3));
}

/**
 * I4 = E[g'(u1) g'(u2) g(u3) g(u4)] for the 4×4 covariance C (row-major, or any symmetric
 * `get(a, b)` view via `I4At`).
 */
export function I4(
  c11: number, c12: number, c13: number, c14: number,
  c22: number, c23: number, c24: number,
  c33: number, c34: number, c44: number,
): number {
  const l4 = (1 + c11) * (1 + c22) - c12 * c12;
  const l0 = l4 * c34 - c23 * c24 * (1 + c11) - c13 * c14 * (1 + c22) + c12 * c13 * c24 + c12 * c14 * c23;
  const l1 = l4 * (1 + c33) - c23 * c23 * (1 + c11) - c13 * c13 * (1 + c22) + 2 * c12 * c13 * c23;
  const l2 = l4 * (1 + c44) - c24 * c24 * (1 + c11) - c14 * c14 * (1 + c22) + 2 * c12 * c14 * c24;
  return (FOUR_OVER_PI2 / Math.sqrt(l4)) * Math.asin(clampUnit(l0 / Math.sqrt(l1 * l2)));
}

/** I3 with indices (1-based roles i, a, b) into an n×n row-major covariance. */
export function I3At(C: Float64Array, n: number, i: number, a: number, b: number): number {
  return I3(C[i * n + i], C[i * n + a], C[i * n + b], C[a * n + b], C[b * n + b]);
}

/** I4 with indices (i, k, a, b) into an n×n row-major covariance. */
export function I4At(C: Float64Array, n: number, i: number, k: number, a: number, b: number): number {
  return I4(
    C[i * n + i], C[i * n + k], C[i * n + a], C[i * n + b],
    C[k * n + k], C[k * n + a], C[k * n + b],
    C[a * n + a], C[a * n + b], C[b * n + b],
  );
}

/**
 * Generalisation error ε = ½ E[(Σ_n A_n g(ν_n) − Σ_i v_i g(λ_i))²] of a K-unit erf student on an
 * M-unit erf teacher with isotropic inputs:
 *   ε = (1/π)[Σ v_i v_k asin(Q_ik/√((1+Q_ii)(1+Q_kk))) + Σ A_n A_m asin(T_nm/…) − 2Σ v_i A_n asin(R_in/…)].
 * Q is K×K, R is K×M, T is M×M (row-major).
 */
export function erfGeneralisationError(
  Q: ArrayLike<number>, R: ArrayLike<number>, T: ArrayLike<number>,
  v: ArrayLike<number>, A: ArrayLike<number>, K: number, M: number,
): number {
  let s = 0, scale = 0;
  for (let i = 0; i < K; i++) {
    for (let k = 0; k < K; k++) {
      const x = v[i] * v[k] * Math.asin(clampUnit(Q[i * K + k] / Math.sqrt((1 + Q[i * K + i]) * (1 + Q[k * K + k]))));
      s += x; scale += Math.abs(x);
    }
  }
  for (let n = 0; n < M; n++) {
    for (let m = 0; m < M; m++) {
      const x = A[n] * A[m] * Math.asin(clampUnit(T[n * M + m] / Math.sqrt((1 + T[n * M + n]) * (1 + T[m * M + m]))));
      s += x; scale += Math.abs(x);
    }
  }
  for (let i = 0; i < K; i++) {
    for (let n = 0; n < M; n++) {
      const x = 2 * v[i] * A[n] * Math.asin(clampUnit(R[i * M + n] / Math.sqrt((1 + Q[i * K + i]) * (1 + T[n * M + n]))));
      s -= x; scale += Math.abs(x);
    }
  }
  // ε = (1/π) uᵀGu with u = (v, −A) and G_ab = asin(C_ab/√((1+C_aa)(1+C_bb))) for the joint covariance
  // C = [[Q, R], [Rᵀ, T]]: G is PSD whenever C is (asin has non-negative Taylor coefficients, so G is
  // a sum of Hadamard powers of a PSD matrix), hence ε ≥ 0.  The direct sum above is that form; it is
  // exact to rounding (~1e-16·scale) and is returned unchanged while it keeps 6 significant digits.
  // Below that (near the perfect student, or a state an integrator has pushed slightly out of the
  // covariance cone) it is re-evaluated as Σ_k max(λ_k, 0)(q_kᵀu)² over the eigenpairs of G: ≥ 0 by
  // construction, equal to the direct sum whenever G is PSD.
  if (s >= 1e-6 * scale) return s / Math.PI;
  return psdQuadraticForm(Q, R, T, v, A, K, M) / Math.PI;
}

/** uᵀG₊u for the PSD part G₊ of the arcsine Gram matrix of erfGeneralisationError (cyclic Jacobi). */
function psdQuadraticForm(
  Q: ArrayLike<number>, R: ArrayLike<number>, T: ArrayLike<number>,
  v: ArrayLike<number>, A: ArrayLike<number>, K: number, M: number,
): number {
  const n = K + M;
  const c = (a: number, b: number): number => a < K ? (b < K ? Q[a * K + b] : R[a * M + b - K]) : b < K ? R[b * M + a - K] : T[(a - K) * M + b - K];
  const G = new Float64Array(n * n);
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) G[a * n + b] = Math.asin(clampUnit(c(a, b) / Math.sqrt((1 + c(a, a)) * (1 + c(b, b)))));
  // y = Vᵀu is rotated along with G (G ← JᵀGJ, y ← Jᵀy), so the eigenvectors are never stored.
  const y = new Float64Array(n);
  for (let a = 0; a < n; a++) y[a] = a < K ? v[a] : -A[a - K];
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0, diag = 0;
    for (let p = 0; p < n; p++) {
      diag += G[p * n + p] * G[p * n + p];
      for (let q = p + 1; q < n; q++) off += G[p * n + q] * G[p * n + q];
    }
    if (off <= 1e-32 * diag) break;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) {
      const gpq = G[p * n + q];
      if (gpq === 0) continue;
      const theta = (G[q * n + q] - G[p * n + p]) / (2 * gpq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const cs = 1 / Math.sqrt(t * t + 1), sn = t * cs;
      for (let k = 0; k < n; k++) {
        const gkp = G[k * n + p], gkq = G[k * n + q];
        G[k * n + p] = cs * gkp - sn * gkq;
        G[k * n + q] = sn * gkp + cs * gkq;
      }
      for (let k = 0; k < n; k++) {
        const gpk = G[p * n + k], gqk = G[q * n + k];
        G[p * n + k] = cs * gpk - sn * gqk;
        G[q * n + k] = sn * gpk + cs * gqk;
      }
      const yp = y[p], yq = y[q];
      y[p] = cs * yp - sn * yq;
      y[q] = sn * yp + cs * yq;
    }
  }
  let s = 0;
  for (let a = 0; a < n; a++) s += Math.max(0, G[a * n + a]) * y[a] * y[a];
  return s;
}

// ---------------------------------------------------------------------------------------------
// Bivariate normal CDF and biased expectations
// ---------------------------------------------------------------------------------------------

function clampUnit(x: number): number {
  return x > 1 ? 1 : x < -1 ? -1 : x;
}

const GL20 = gaussLegendre(20);
const GL12 = gaussLegendre(12);
const GL6 = gaussLegendre(6);

/**
 * (1/2π) ∫_{θa}^{θb} exp(−(h² + k² − 2hk sin θ)/(2cos²θ)) dθ by fixed Gauss–Legendre with 6, 12 or
 * 20 points for |sin θb| < 0.3, < 0.75, ≤ 0.925 (Genz's choice for double precision).
 */
function owenArcGL(h: number, k: number, ta: number, tb: number): number {
  const half = 0.5 * (tb - ta), mid = 0.5 * (ta + tb);
  const hh = h * h + k * k, hk2 = 2 * h * k;
  const ar = Math.abs(Math.sin(tb));
  const rule = ar < 0.3 ? GL6 : ar < 0.75 ? GL12 : GL20;
  const x = rule.x, w = rule.w, n = x.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const th = mid + half * x[i];
    const sn = Math.sin(th);
    const c2 = 1 - sn * sn;
    s += w[i] * Math.exp(-(hh - hk2 * sn) / (2 * c2));
  }
  return INV_2PI * half * s;
}

/**
 * (1/2π) ∫_{asin r}^{π/2} exp(−(h² + k² − 2hk sin θ)/(2cos²θ)) dθ for r > 0, written with
 * c = cos θ as (1/2π) ∫_0^a exp(−d²/(2c²) − hk/(1 + √(1−c²))) / √(1−c²) dc, a = √(1−r²), d = |h−k|.
 * The only non-smooth feature is the front of exp(−d²/(2c²)) at c ~ d, resolved by 20-point
 * Gauss–Legendre on a geometric mesh d/8, d/4, …, a (below d/8 the integrand is < e^{−32}).
 */
function upperArc(h: number, k: number, r: number): number {
  const a = Math.sqrt((1 - r) * (1 + r));
  // |h − k| < 1e-16 changes the integral by < 1.25|h − k|/(2π) < 2e-17 (∫(1 − e^{−d²/2c²})dc = d√(π/2)):
  // take d = 0 then.  (With a tiny d the mesh d/8, d/4, … needed ~1000 panels, d² underflowed to
  // 0/0 = NaN, and for d/8 = 0 the doubling mesh never grew: an endless loop.)
  const d = Math.abs(h - k) < 1e-16 ? 0 : Math.abs(h - k), hk = h * k, d2 = 0.5 * d * d;
  const x = GL20.x, w = GL20.w;
  let total = 0;
  let lo = 0;
  let hi = d > 0 ? Math.min(a, d / 8) : a;
  // a ≤ 1 and d/8 ≥ 1.25e-17 bound the number of doublings by 57.
  for (let panel = 0; ; panel++) {
    if (panel > 64) throw new Error(`upperArc (bvnCdf upper arc): mesh did not reach a = ${a} after 64 doublings (h = ${h}, k = ${k}, r = ${r})`);
    const half = 0.5 * (hi - lo), mid = 0.5 * (hi + lo);
    let s = 0;
    for (let i = 0; i < 20; i++) {
      const cc = mid + half * x[i];
      const sn = Math.sqrt(1 - cc * cc);
      s += (w[i] * Math.exp(-d2 / (cc * cc) - hk / (1 + sn))) / sn;
    }
    total += half * s;
    if (hi >= a) break;
    lo = hi;
    hi = Math.min(a, 2 * hi);
  }
  return INV_2PI * total;
}

/**
 * Bivariate standard normal CDF Φ2(h, k; r) = P(X ≤ h, Y ≤ k), corr(X, Y) = r ∈ [−1, 1].
 * Absolute accuracy ≲ 1e-13 (tested against brute-force 2-D quadrature and known values).
 */
export function bvnCdf(h: number, k: number, r: number): number {
  if (Number.isNaN(h) || Number.isNaN(k) || Number.isNaN(r)) return NaN;
  if (r >= 1) return normCdf(Math.min(h, k));
  if (r <= -1) return Math.max(0, normCdf(h) - normCdf(-k));
  if (h === -Infinity || k === -Infinity) return 0;
  if (h === Infinity) return normCdf(k);
  if (k === Infinity) return normCdf(h);
  if (Math.abs(r) <= 0.925) {
    if (r === 0) return normCdf(h) * normCdf(k);
    return normCdf(h) * normCdf(k) + owenArcGL(h, k, 0, Math.asin(r));
  }
  if (r > 0) return Math.max(0, normCdf(Math.min(h, k)) - upperArc(h, k, r));
  // r < −0.925: Φ2(h, k; r) = Φ(h) − Φ2(h, −k; −r).
  return Math.max(0, normCdf(h) - bvnCdf(h, -k, -r));
}

/** E[g(u + c)] for u ~ N(0, s). */
export function eG(s: number, c: number): number {
  return erf(c / Math.sqrt(2 * (1 + s)));
}

/** E[g'(u + c)] for u ~ N(0, s). */
export function eGp(s: number, c: number): number {
  return (SQRT_TWO_OVER_PI / Math.sqrt(1 + s)) * Math.exp((-0.5 * c * c) / (1 + s));
}

/** E[g''(u + c)] for u ~ N(0, s). */
export function eGpp(s: number, c: number): number {
  const a = 1 + s;
  return (-SQRT_TWO_OVER_PI * c * Math.exp((-0.5 * c * c) / a)) / (a * Math.sqrt(a));
}

/**
 * E[g(u1 + c1) g(u2 + c2)] for zero-mean (u1, u2) with variances s11, s22 and covariance s12
 * (biases / means in c1, c2).  Closed form (I2) when c1 = c2 = 0, otherwise via Φ2.
 */
export function eGG(s11: number, s22: number, s12: number, c1: number, c2: number): number {
  if (c1 === 0 && c2 === 0) return I2(s11, s22, s12);
  const a1 = Math.sqrt(1 + s11), a2 = Math.sqrt(1 + s22);
  const h1 = c1 / a1, h2 = c2 / a2;
  const r = clampUnit(s12 / (a1 * a2));
  return 4 * bvnCdf(h1, h2, r) - 2 * normCdf(h1) - 2 * normCdf(h2) + 1;
}

/**
 * E[g'(u1 + c1) g'(u2 + c2)] for zero-mean (u1, u2) (closed form):
 *   (2/π) det(I + S)^{-1/2} exp(−½ cᵀ (I + S)⁻¹ c).
 */
export function eGpGp(s11: number, s22: number, s12: number, c1: number, c2: number): number {
  const a = 1 + s11, d = 1 + s22, det = a * d - s12 * s12;
  const quad = (d * c1 * c1 - 2 * s12 * c1 * c2 + a * c2 * c2) / det;
  return (TWO_OVER_PI / Math.sqrt(det)) * Math.exp(-0.5 * quad);
}

/**
 * A K-dimensional Gaussian N(m, C) that can be "tilted" by Gaussian factors e^{−a(u_k+b_k)²/2}
 * (the derivative g' of the erf activation) in place, accumulating the normalisation.
 * Pre-allocated; reuse one instance in hot loops via `reset`.
 */
export class TiltedGaussian {
  readonly mean: Float64Array;
  readonly cov: Float64Array;
  /** Accumulated prefactor (product of the Z's and of √(2/π) per g'). */
  weight = 1;
  private col: Float64Array;
  constructor(readonly K: number) {
    this.mean = new Float64Array(K);
    this.cov = new Float64Array(K * K);
    this.col = new Float64Array(K);
  }

  /** Start from N(mean, cov) (mean = 0 if omitted). */
  reset(cov: ArrayLike<number>, mean?: ArrayLike<number>): this {
    const K = this.K;
    for (let i = 0; i < K * K; i++) this.cov[i] = cov[i];
    for (let i = 0; i < K; i++) this.mean[i] = mean ? mean[i] : 0;
    this.weight = 1;
    return this;
  }

  /** Copy another instance's state (same K). */
  copyFrom(o: TiltedGaussian): this {
    this.mean.set(o.mean);
    this.cov.set(o.cov);
    this.weight = o.weight;
    return this;
  }

  /**
   * Multiply the density by g'(u_k + b)^a = (√(2/π))^a e^{−a(u_k+b)²/2} (a = 1 for one g' factor,
   * a = 2 for g'²); renormalise and multiply `weight` by (√(2/π))^a Z.
   */
  tiltGp(k: number, b: number, a = 1): this {
    const K = this.K, C = this.cov, m = this.mean, col = this.col;
    const s = C[k * K + k];
    const den = 1 + a * s;
    const mk = m[k] + b;
    this.weight *= Math.pow(SQRT_TWO_OVER_PI, a) * Math.exp((-0.5 * a * mk * mk) / den) / Math.sqrt(den);
    for (let i = 0; i < K; i++) col[i] = C[i * K + k];
    const f = a / den;
    for (let i = 0; i < K; i++) {
      m[i] -= f * col[i] * mk;
      const ci = f * col[i];
      for (let j = 0; j < K; j++) C[i * K + j] -= ci * col[j];
    }
    return this;
  }

  /** E'[g(u_j + b)] under the current (tilted, normalised) Gaussian. */
  eG(j: number, b: number): number {
    return eG(this.cov[j * this.K + j], this.mean[j] + b);
  }

  /** E'[g'(u_j + b)]. */
  eGp(j: number, b: number): number {
    return eGp(this.cov[j * this.K + j], this.mean[j] + b);
  }

  /** E'[g(u_i + bi) g(u_j + bj)]. */
  eGG(i: number, j: number, bi: number, bj: number): number {
    const K = this.K, C = this.cov;
    return eGG(C[i * K + i], C[j * K + j], C[i * K + j], this.mean[i] + bi, this.mean[j] + bj);
  }

  /** E'[(u_i + bi) g(u_j + bj)] (Stein). */
  eXG(i: number, bi: number, j: number, bj: number): number {
    const K = this.K;
    return (this.mean[i] + bi) * this.eG(j, bj) + this.cov[i * K + j] * this.eGp(j, bj);
  }
}

/**
 * All the expectations the erf network ODEs need for one Gaussian class of pre-activations
 * λ ~ N(0, Ω) (K×K) with biases b: filled into pre-allocated arrays by `compute`.
 *
 *   g[k]        = E[g(λ_k+b_k)]
 *   gp[k]       = E[g'(λ_k+b_k)]
 *   gpp[k]      = E[g''(λ_k+b_k)]
 *   gg[k,l]     = E[g_k g_l]
 *   gpgp[k,l]   = E[g'_k g'_l]
 *   gpg[k,l]    = E[g'_k g_l]
 *   gppg[k,l]   = E[g''_k g_l]
 * and, when `second` is requested (η² terms), for the output error e = y − Σ_j v_j g_j:
 *   ee[k,l]     = E[e² g'_k g'_l]
 */
export class ErfExpectations {
  readonly g: Float64Array;
  readonly gp: Float64Array;
  readonly gpp: Float64Array;
  readonly gg: Float64Array;
  readonly gpgp: Float64Array;
  readonly gpg: Float64Array;
  readonly gppg: Float64Array;
  readonly ee: Float64Array;
  private t1: TiltedGaussian;
  private zeros: Float64Array;
  private act: Int32Array;
  private tetraWs: TetraWorkspace | null = null;
  constructor(readonly K: number) {
    this.g = new Float64Array(K);
    this.gp = new Float64Array(K);
    this.gpp = new Float64Array(K);
    this.gg = new Float64Array(K * K);
    this.gpgp = new Float64Array(K * K);
    this.gpg = new Float64Array(K * K);
    this.gppg = new Float64Array(K * K);
    this.ee = new Float64Array(K * K);
    this.t1 = new TiltedGaussian(K);
    this.zeros = new Float64Array(K);
    this.act = new Int32Array(K);
  }

  /**
   * Fill the first-order tables for covariance Ω (row-major K×K) and biases b.
   * `needGG` controls the (Φ2-based) E[g g] table; `second` also fills `ee` for label y and
   * second-layer weights v.
   */
  compute(Om: ArrayLike<number>, b: ArrayLike<number>, opts: { needGG?: boolean; second?: { y: number; v: ArrayLike<number> } } = {}): this {
    return this.computeWith(Om, b, opts.needGG ?? false, opts.second !== undefined, opts.second?.y ?? 0, opts.second?.v ?? b);
  }

  /** Allocation-free form of `compute` for hot loops (`y`, `v` are used only when `second`). */
  computeWith(Om: ArrayLike<number>, b: ArrayLike<number>, needGG: boolean, second: boolean, y: number, v: ArrayLike<number>): this {
    const K = this.K;
    for (let k = 0; k < K; k++) {
      const s = Om[k * K + k];
      this.g[k] = eG(s, b[k]);
      this.gp[k] = eGp(s, b[k]);
      this.gpp[k] = eGpp(s, b[k]);
    }
    for (let k = 0; k < K; k++) {
      for (let l = k; l < K; l++) {
        const v = k === l
          ? (TWO_OVER_PI / Math.sqrt(1 + 2 * Om[k * K + k])) * Math.exp((-b[k] * b[k]) / (1 + 2 * Om[k * K + k]))
          : eGpGp(Om[k * K + k], Om[l * K + l], Om[k * K + l], b[k], b[l]);
        this.gpgp[k * K + l] = this.gpgp[l * K + k] = v;
      }
    }
    if (needGG) {
      for (let k = 0; k < K; k++) {
        for (let l = k; l < K; l++) {
          const v = eGG(Om[k * K + k], Om[l * K + l], Om[k * K + l], b[k], b[l]);
          this.gg[k * K + l] = this.gg[l * K + k] = v;
        }
      }
    }
    const t1 = this.t1;
    for (let k = 0; k < K; k++) {
      t1.reset(Om).tiltGp(k, b[k]);
      const w = t1.weight;
      for (let l = 0; l < K; l++) {
        this.gpg[k * K + l] = w * t1.eG(l, b[l]);
        // g''(x) = −x g'(x): E[g''_k g_l] = −w E'[(u_k + b_k) g(u_l + b_l)].
        this.gppg[k * K + l] = -w * t1.eXG(k, b[k], l, b[l]);
      }
    }
    if (second) this.computeSecond(Om, b, y, v);
    return this;
  }

  /**
   * ee[k,l] = E[(y − Σ_j v_j g_j)² g'_k g'_l]: two tilts (the k-tilted Gaussian is shared by every
   * l > k), then, under the tilted N(m', C'), with h_j = (m'_j + b_j)/√(1 + C'_jj),
   *   E'[g_j g_m] = E'[g_j] E'[g_m] + 4 T(h_j, h_m; r_jm),   T = Φ2 − Φ(h_j)Φ(h_m)
   * (the bivariate identity of eGG with 2Φ(h) − 1 = E'[g]), so
   *   E'[(y − Σ v_j g_j)²] = (y − Σ v_j E'[g_j])² + 4 Σ_jm v_j v_m T_jm,
   * and T comes from the tetrachoric (Mehler) series (see `tetrachoricT`), whose per-index factors
   * are computed once per tilt: O(K·N) set-up and N multiply–adds per pair, no transcendental
   * function per pair.  Pairs with |r| > TETRA_R_MAX use bvnCdf (Genz) instead, added after the
   * series pairs.
   *
   * The second tilt is a rank-one update C' = C − f c cᵀ, m' = m − f c (m_l + b_l) of the base
   * (Ω for k = l with a = 2, the k-tilted Gaussian otherwise): it is never formed; its diagonal and
   * mean are O(K) here, and its off-diagonal entries are formed pair by pair inside the series sum
   * (src/kernels/tetra.ts: TS reference and WebAssembly-SIMD kernel, bit-identical), with the same
   * floating-point operations as `TiltedGaussian.tiltGp`.  Indices with v_j = 0 are left out.
   */
  private computeSecond(Om: ArrayLike<number>, b: ArrayLike<number>, y: number, v: ArrayLike<number>): void {
    const K = this.K, t1 = this.t1;
    const ws = (this.tetraWs ??= new TetraWorkspace(K, TETRA_TABLES));
    const act = this.act;
    let n = 0;
    for (let j = 0; j < K; j++) if (v[j] !== 0) act[n++] = j;
    const { B0, B1, col, fc, isq, h, phi, vv } = ws;
    for (let jj = 0; jj < n; jj++) {
      vv[jj] = v[act[jj]];
      const o = act[jj] * K;
      for (let mm = 0; mm < n; mm++) B0[jj * K + mm] = Om[o + act[mm]];
    }
    const zeroMean = this.zeros;
    for (let k = 0; k < K; k++) {
      if (k + 1 < K) {
        t1.reset(Om).tiltGp(k, b[k]);
        const C1 = t1.cov;
        for (let jj = 0; jj < n; jj++) {
          const o = act[jj] * K;
          for (let mm = 0; mm < n; mm++) B1[jj * K + mm] = C1[o + act[mm]];
        }
      }
      for (let l = k; l < K; l++) {
        // Base Gaussian and the second tilt g'(u_l + b_l)^a, as in TiltedGaussian.tiltGp.
        const diag = k === l;
        const C = diag ? Om : t1.cov, mean = diag ? zeroMean : t1.mean, a = diag ? 2 : 1;
        const s = C[l * K + l];
        const den = 1 + a * s;
        const mk = mean[l] + b[l];
        const w = (diag ? 1 : t1.weight) * (Math.pow(SQRT_TWO_OVER_PI, a) * Math.exp((-0.5 * a * mk * mk) / den) / Math.sqrt(den));
        const f = a / den;
        let s1 = 0;
        for (let jj = 0; jj < n; jj++) {
          const j = act[jj];
          const cl = C[j * K + l];
          const fcj = f * cl;
          col[jj] = cl;
          fc[jj] = fcj;
          const cjj = C[j * K + j] - fcj * cl;
          const sj = 1 + cjj, cj = mean[j] - fcj * mk + b[j];
          const egj = erf(cj / Math.sqrt(2 * sj));
          s1 += v[j] * egj;
          const q = Math.sqrt(sj);
          const x = cj / q;
          h[jj] = x;
          isq[jj] = 1 / q;
          phi[jj] = INV_SQRT_2PI * Math.exp(-0.5 * x * x);
        }
        let tsum = ws.sum(n, diag ? B0 : B1);
        if (ws.big > 0) {
          const np = ws.stride(n), R = ws.R;
          for (let jj = 0; jj < n; jj++) {
            for (let mm = jj; mm < n; mm++) {
              const r = R[jj * np + mm];
              if ((r < 0 ? -r : r) <= TETRA_R_MAX) continue;
              const t = vv[jj] * vv[mm] * (bvnCdf(h[jj], h[mm], r) - normCdf(h[jj]) * normCdf(h[mm]));
              tsum += jj === mm ? t : 2 * t;
            }
          }
        }
        const e = y - s1;
        const val = w * (e * e + 4 * tsum);
        this.ee[k * K + l] = this.ee[l * K + k] = val;
      }
    }
  }
}

/**
 * Tetrachoric (Mehler) series of the bivariate normal CDF:
 *   Φ2(h, k; r) − Φ(h)Φ(k) = Σ_{n≥0} r^{n+1}/(n+1) ψ_n(h) ψ_n(k),   ψ_n = φ He_n / √(n!)
 * (integrate Mehler's φ2 = φφ Σ rⁿ/n! He_n He_n over (−∞, h] × (−∞, k]; ∫φ He_n = −φ He_{n−1}).
 * Cramér's inequality |He_n(x)| e^{−x²/4} ≤ κ √(n!), κ = 1.086435, bounds |ψ_n| ≤ κ e^{−x²/4}/√(2π),
 * so the tail after N terms is at most  κ²/(2π) · |r|^{N+1} / ((N+1)(1 − |r|))  for every h, k.
 * `tetraTerms(|r|)` is the smallest N making that ≤ TETRA_TOL (tabulated on a 1/512 grid at each
 * cell's upper edge); the series is used up to |r| = TETRA_R_MAX (N ≤ TETRA_N_MAX).
 */
export const TETRA_R_MAX = 0.8;
const TETRA_TOL = 2e-17;
const TETRA_BINS = 512;
const CRAMER_K2 = (1.086435 * 1.086435) / (2 * Math.PI);
const TETRA_TABLE: Int32Array = (() => {
  const t = new Int32Array(Math.ceil(TETRA_R_MAX * TETRA_BINS) + 1);
  for (let i = 0; i < t.length; i++) {
    const r = Math.min(0.999, (i + 1) / TETRA_BINS);
    let N = 0;
    while (CRAMER_K2 * Math.pow(r, N + 1) / ((N + 1) * (1 - r)) > TETRA_TOL) N++;
    t[i] = N;
  }
  return t;
})();
export const TETRA_N_MAX = TETRA_TABLE[TETRA_TABLE.length - 1];

/** Number of series terms for |r| = a ≤ TETRA_R_MAX (tail ≤ TETRA_TOL). */
export function tetraTerms(a: number): number {
  return TETRA_TABLE[(a * TETRA_BINS) | 0];
}

/**
 * out[o + n] = c ψ_n(x) / √(n+1) for n < N, by the three-term recurrence of the normalised Hermite
 * functions ψ_{n+1} = (x ψ_n − √n ψ_{n−1}) / √(n+1), ψ_0 = φ(x) (stable forward).
 */
function hermiteFactors(x: number, c: number, N: number, out: Float64Array, o: number): void {
  let p0 = 0, p1 = INV_SQRT_2PI * Math.exp(-0.5 * x * x);
  for (let n = 0; n < N; n++) {
    out[o + n] = c * p1 * INV_SQRT[n + 1];
    const p2 = (x * p1 - SQRT_INT[n] * p0) * INV_SQRT[n + 1];
    p0 = p1;
    p1 = p2;
  }
}
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const SQRT_INT = Float64Array.from({ length: TETRA_N_MAX + 2 }, (_, n) => Math.sqrt(n));
const INV_SQRT = Float64Array.from({ length: TETRA_N_MAX + 2 }, (_, n) => (n === 0 ? Infinity : 1 / Math.sqrt(n)));
/** The series tables as the pair-sum kernel (src/kernels/tetra.ts) takes them. */
export const TETRA_TABLES: TetraTables = { terms: TETRA_TABLE, bins: TETRA_BINS, rMax: TETRA_R_MAX, nMax: TETRA_N_MAX, sqrtInt: SQRT_INT, invSqrt: INV_SQRT };

/**
 * T(h, k; r) = Φ2(h, k; r) − Φ(h)Φ(k) by the tetrachoric series (|r| ≤ TETRA_R_MAX, absolute error
 * ≤ 2e-17 plus rounding); exported for the tests.
 */
export function tetrachoricT(h: number, k: number, r: number): number {
  const a = Math.abs(r);
  if (!(a <= TETRA_R_MAX)) throw new RangeError(`tetrachoricT: |r| must be ≤ ${TETRA_R_MAX} (got ${r})`);
  const N = tetraTerms(a);
  const U = new Float64Array(2 * TETRA_N_MAX);
  hermiteFactors(h, 1, N, U, 0);
  hermiteFactors(k, 1, N, U, TETRA_N_MAX);
  let acc = 0;
  for (let n = N - 1; n >= 0; n--) acc = (acc + U[n] * U[TETRA_N_MAX + n]) * r;
  return acc;
}
