/**
 * Gaussian expectations of products of derivatives of g(x) = erf(x/√2), in closed form:
 *   U_p(n)        = E[g^{(n)}(u_p)]
 *   B_pq(n, m)    = E[g^{(n)}(u_p) g^{(m)}(u_q)]      (p ≠ q: bivariate;  p = q: univariate product)
 * for u ~ N(μ, S) (μ includes the biases) and derivative orders n, m ≥ 0 with n + m ≤ maxOrder.
 *
 * g^{(n)}(x) = √(2/π) e^{−x²/2} p_n(x) for n ≥ 1, with p_1 = 1, p_{n+1} = p_n' − x p_n (Hermite:
 * p_n = (−1)^{n−1} He_{n−1}).  Each Gaussian factor e^{−x²/2} is absorbed into the density ("tilting":
 * N(μ, S)·e^{−x_p²/2} ∝ N(μ', S') with S' = S − S e_p e_pᵀ S/(1+S_pp), μ' = μ − S e_p μ_p/(1+S_pp)),
 * leaving polynomial moments (Isserlis recursion) and, when one factor is g itself, E[u^j g(u_c)]
 * from Stein's lemma:
 *   E[u_a^{j+1} g(u_c)] = μ_a E[u_a^j g] + j S_aa E[u_a^{j−1} g] + S_ac E[u_a^j g'(u_c)],
 * where E[u_a^j g'(u_c)] is again a tilt plus a polynomial moment.  Only B_pq(0, 0) = E[g g] with
 * biases needs the bivariate normal CDF (eGG of gaussian-integrals.ts, ≲ 1e-13).  Everything else is
 * exact to rounding.  Used by the cumulant (Edgeworth) theory, src/theory/cumulant-theory.ts.
 */
import { erf } from "./special.js";
import { eGG } from "./gaussian-integrals.js";

const SQ2PI = Math.sqrt(2 / Math.PI);
/** Highest derivative order supported. */
export const MAX_ERF_ORDER = 7;

/** Coefficients of p_n (n = 1..MAX_ERF_ORDER): POLY[n][i] is the coefficient of x^i. */
const POLY: number[][] = (() => {
  const out: number[][] = [[], [1]];
  for (let n = 1; n < MAX_ERF_ORDER; n++) {
    const p = out[n], q = new Array(p.length + 1).fill(0);
    for (let i = 1; i < p.length; i++) q[i - 1] += i * p[i];
    for (let i = 0; i < p.length; i++) q[i + 1] -= p[i];
    out.push(q);
  }
  return out;
})();

/** g^{(n)}(x) evaluated directly (n ≥ 0), for tests and quadrature. */
export function erfDerivative(n: number, x: number): number {
  if (n === 0) return erf(x / Math.SQRT2);
  const p = POLY[n];
  let s = 0;
  for (let i = p.length - 1; i >= 0; i--) s = s * x + p[i];
  return SQ2PI * Math.exp(-0.5 * x * x) * s;
}

/** Univariate moments E[u^j], u ~ N(m, s), j = 0..J, into out. */
function moments1(m: number, s: number, J: number, out: Float64Array): void {
  out[0] = 1;
  if (J >= 1) out[1] = m;
  for (let j = 1; j < J; j++) out[j + 1] = m * out[j] + j * s * out[j - 1];
}

/**
 * Tables of U and B for one Gaussian N(μ, S) (K-dimensional, S row-major K×K).  Pre-allocated;
 * `compute` refills them.  Index: B[((p*K + q)*O + n)*O + m] with O = maxOrder + 1.
 */
export class ErfDerivativeTables {
  readonly O: number;
  readonly U: Float64Array;
  readonly B: Float64Array;
  private readonly m1: Float64Array;
  private readonly m1b: Float64Array;
  private readonly M2: Float64Array;
  private readonly F: Float64Array;
  private readonly G: Float64Array;

  constructor(readonly K: number, readonly maxOrder: number) {
    if (maxOrder > MAX_ERF_ORDER) throw new RangeError(`maxOrder must be ≤ ${MAX_ERF_ORDER}`);
    const O = maxOrder + 1;
    this.O = O;
    this.U = new Float64Array(K * O);
    this.B = new Float64Array(K * K * O * O);
    this.m1 = new Float64Array(2 * O + 2);
    this.m1b = new Float64Array(2 * O + 2);
    this.M2 = new Float64Array(O * O);
    this.F = new Float64Array(O + 1);
    this.G = new Float64Array(O + 1);
  }

  /** E[g^{(n)}(u_p)]. */
  u(p: number, n: number): number {
    return this.U[p * this.O + n];
  }

  /** E[g^{(n)}(u_p) g^{(m)}(u_q)]. */
  b(p: number, q: number, n: number, m: number): number {
    const O = this.O;
    return this.B[((p * this.K + q) * O + n) * O + m];
  }

  /** Fill the tables for u ~ N(mean, S). */
  compute(S: ArrayLike<number>, mean: ArrayLike<number>): this {
    const K = this.K, O = this.O, N = this.maxOrder;
    const m1 = this.m1;
    for (let p = 0; p < K; p++) {
      const s = S[p * K + p], mu = mean[p];
      this.U[p * O] = erf(mu / Math.sqrt(2 * (1 + s)));
      const a = 1 + s;
      const Z = SQ2PI * Math.exp((-0.5 * mu * mu) / a) / Math.sqrt(a);
      moments1(mu / a, s / a, N, m1);
      for (let n = 1; n <= N; n++) this.U[p * O + n] = Z * poly1(POLY[n], m1);
    }
    for (let p = 0; p < K; p++) {
      this.same(p, S[p * K + p], mean[p]);
      for (let q = p + 1; q < K; q++) this.pair(p, q, S[p * K + p], S[q * K + q], S[p * K + q], mean[p], mean[q]);
    }
    return this;
  }

  private set(p: number, q: number, n: number, m: number, v: number): void {
    const O = this.O, K = this.K;
    this.B[((p * K + q) * O + n) * O + m] = v;
    this.B[((q * K + p) * O + m) * O + n] = v;
  }

  /** E[g^{(n)}(u) g^{(m)}(u)], u ~ N(mu, s). */
  private same(p: number, s: number, mu: number): void {
    const N = this.maxOrder;
    const m1 = this.m1, F = this.F, G = this.G, m1b = this.m1b;
    this.set(p, p, 0, 0, eGG(s, s, s, mu, mu));
    // n, m ≥ 1: tilt by e^{−u²} (two g' factors).
    {
      const a = 1 + 2 * s;
      const Z = (2 / Math.PI) * Math.exp((-mu * mu) / a) / Math.sqrt(a);
      moments1(mu / a, s / a, 2 * N, m1);
      for (let n = 1; n <= N; n++) for (let m = n; m + n <= N; m++) this.set(p, p, n, m, Z * poly2same(POLY[n], POLY[m], m1));
    }
    // g(u) g^{(m)}(u), m ≥ 1: tilt once, then Stein on E'[u^j g(u)].
    {
      const a = 1 + s;
      const Z = SQ2PI * Math.exp((-0.5 * mu * mu) / a) / Math.sqrt(a);
      const m2 = mu / a, s2 = s / a;
      // E'[u^j g'(u)] under N(m2, s2): tilt again.
      const a2 = 1 + s2;
      const Z2 = SQ2PI * Math.exp((-0.5 * m2 * m2) / a2) / Math.sqrt(a2);
      moments1(m2 / a2, s2 / a2, N, m1b);
      for (let j = 0; j < N; j++) G[j] = Z2 * m1b[j];
      F[0] = erf(m2 / Math.sqrt(2 * a2));
      for (let j = 0; j < N - 1; j++) F[j + 1] = m2 * F[j] + (j > 0 ? j * s2 * F[j - 1] : 0) + s2 * G[j];
      for (let m = 1; m <= N; m++) this.set(p, p, 0, m, Z * poly1(POLY[m], F));
    }
  }

  /** Bivariate entries for p ≠ q. */
  private pair(p: number, q: number, spp: number, sqq: number, spq: number, mp: number, mq: number): void {
    const N = this.maxOrder, O = this.O;
    this.set(p, q, 0, 0, eGG(spp, sqq, spq, mp, mq));
    // n, m ≥ 1: tilt by e^{−(u_p² + u_q²)/2}:  Z = det(I+S)^{−1/2} e^{−μᵀ(I+S)⁻¹μ/2},
    // S' = S(I+S)⁻¹, μ' = (I+S)⁻¹μ.
    if (N >= 2) {
      const a = 1 + spp, d = 1 + sqq, det = a * d - spq * spq;
      const i11 = d / det, i22 = a / det, i12 = -spq / det;
      const quad = i11 * mp * mp + 2 * i12 * mp * mq + i22 * mq * mq;
      const Z = (2 / Math.PI) * Math.exp(-0.5 * quad) / Math.sqrt(det);
      const n1 = i11 * mp + i12 * mq, n2 = i12 * mp + i22 * mq;
      // S' = S (I+S)^{-1} = I − (I+S)^{-1}
      const c11 = 1 - i11, c22 = 1 - i22, c12 = -i12;
      const M2 = this.M2;
      const J = N - 1;
      // M2[i*O + j] = E'[x^i y^j], i + j ≤ J ... we need i ≤ N−2, j ≤ N−2 (degrees of p_n, p_m).
      for (let i = 0; i <= J; i++) {
        for (let j = 0; j <= J - i; j++) {
          let v: number;
          if (i === 0 && j === 0) v = 1;
          else if (i === 0) v = n2 * M2[j - 1] + (j > 1 ? (j - 1) * c22 * M2[j - 2] : 0);
          else v = n1 * M2[(i - 1) * O + j] + (i > 1 ? (i - 1) * c11 * M2[(i - 2) * O + j] : 0) + (j > 0 ? j * c12 * M2[(i - 1) * O + j - 1] : 0);
          M2[i * O + j] = v;
        }
      }
      for (let n = 1; n <= N; n++) {
        for (let m = 1; n + m <= N; m++) {
          const P = POLY[n], Q = POLY[m];
          let s = 0;
          for (let i = 0; i < P.length; i++) {
            if (P[i] === 0) continue;
            for (let j = 0; j < Q.length; j++) if (Q[j] !== 0) s += P[i] * Q[j] * M2[i * O + j];
          }
          this.set(p, q, n, m, Z * s);
        }
      }
    }
    // g(u_c) g^{(m)}(u_a): both orientations.
    this.mixed(p, q, spp, sqq, spq, mp, mq);
    this.mixed(q, p, sqq, spp, spq, mq, mp);
  }

  /** E[g(u_c) g^{(m)}(u_a)], m = 1..N, stored at B(c, a, 0, m). */
  private mixed(c: number, a: number, scc: number, saa: number, sac: number, mc: number, ma: number): void {
    const N = this.maxOrder;
    const F = this.F, G = this.G, m1 = this.m1;
    // Tilt by e^{−u_a²/2}.
    const A = 1 + saa;
    const Z = SQ2PI * Math.exp((-0.5 * ma * ma) / A) / Math.sqrt(A);
    const maP = ma / A, mcP = mc - (sac * ma) / A;
    const saaP = saa / A, sacP = sac / A, sccP = scc - (sac * sac) / A;
    // G[j] = E'[u_a^j g'(u_c)]: tilt by e^{−u_c²/2}.
    const C = 1 + sccP;
    const Zc = SQ2PI * Math.exp((-0.5 * mcP * mcP) / C) / Math.sqrt(C);
    moments1(maP - (sacP * mcP) / C, saaP - (sacP * sacP) / C, N, m1);
    for (let j = 0; j < N; j++) G[j] = Zc * m1[j];
    F[0] = erf(mcP / Math.sqrt(2 * C));
    for (let j = 0; j < N - 1; j++) F[j + 1] = maP * F[j] + (j > 0 ? j * saaP * F[j - 1] : 0) + sacP * G[j];
    for (let m = 1; m <= N; m++) this.set(c, a, 0, m, Z * poly1(POLY[m], F));
  }
}

function poly1(P: number[], mom: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < P.length; i++) if (P[i] !== 0) s += P[i] * mom[i];
  return s;
}

function poly2same(P: number[], Q: number[], mom: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < P.length; i++) {
    if (P[i] === 0) continue;
    for (let j = 0; j < Q.length; j++) if (Q[j] !== 0) s += P[i] * Q[j] * mom[i + j];
  }
  return s;
}
