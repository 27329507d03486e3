/**
 * The cp single-neuron flow of IG22 (eq. 16), its vector field and its Jacobian in one place:
 *
 *   f(w) = Σ_μ π_μ [ (c2^μ + 3 c4 q^μ) C^μ w + c4 Σ_a γ_a^μ (u_a^μ·w)³ u_a^μ ],   q^μ = wᵀ C^μ w
 *
 * (π_μ = 1/M in IG22; the cp sum is absent for the gaussian variant or a class without factors).
 * Differentiating by hand (C^μ symmetric, ∂q^μ/∂w = 2 C^μ w):
 *
 *   J(w) = Σ_μ π_μ [ (c2^μ + 3 c4 q^μ) C^μ + 6 c4 (C^μ w)(C^μ w)ᵀ + 3 c4 Σ_a γ_a^μ (u_a^μ·w)² u_a^μ u_a^μᵀ ].
 *
 * J is symmetric (the flow is the gradient flow of a quartic potential), so its eigenvalues are real.
 *
 * Two evaluations of f exist on purpose and agree to rounding (test/attractors.test.ts checks it):
 * the integrated flow (src/theory/single-neuron.ts) applies C^μ as an operator (dense, FFT for
 * large D, or the sample second moment), while the dense system here (`cpFlowVector`,
 * `cpFlowJacobian`, C^μ a dense matrix) serves Newton and the stability analysis
 * (src/analysis/stability.ts, src/cp/attractors.ts).  The cumulant term is one function,
 * `addCpContraction`, used by both; `addCpJacobian` is its derivative.
 */
import type { CPTensor } from "../stats/cp-tensor.js";

/** CP factors of a class's cumulant ΔT^μ ≈ Σ_a γ_a u_a⊗4 (a `CPTensor`, optionally flagged diagonal). */
export type CpFactors = CPTensor & {
  /** factors is the identity (r = D, u_a = e_a): contractions take the O(D) path (same numbers). */
  diagonal?: boolean;
};

/** One class of the dense system. */
export interface StabilityClass {
  /** Class weight π_μ. */
  weight: number;
  /** c2^μ. */
  c2: number;
  /** Dense symmetric covariance C^μ (D×D row-major). */
  C: Float64Array;
  /** CP factors of ΔT^μ (null/undefined: no cumulant term for this class). */
  cp?: CpFactors | null;
}

export interface CpFlowSystem {
  D: number;
  c4: number;
  classes: StabilityClass[];
}

/** out += scale · Σ_a γ_a (u_a·w)³ u_a  (O(rD); O(D) for diagonal factors). */
export function addCpContraction(f: CpFactors, w: Float64Array, scale: number, out: Float64Array): void {
  const { r, D, factors: U, weights: gamma } = f;
  if (f.diagonal) {
    for (let i = 0; i < D; i++) out[i] += scale * gamma[i] * w[i] * w[i] * w[i];
    return;
  }
  for (let a = 0; a < r; a++) {
    const o = a * D;
    let m = 0;
    for (let i = 0; i < D; i++) m += U[o + i] * w[i];
    const s = scale * gamma[a] * m * m * m;
    if (s === 0) continue;
    for (let i = 0; i < D; i++) out[i] += s * U[o + i];
  }
}

/** J += scale · Σ_a γ_a (u_a·w)² u_a u_aᵀ  (D×D row-major; the cp term of J is 3 π c4 times this). */
export function addCpJacobian(f: CpFactors, w: Float64Array, scale: number, J: Float64Array): void {
  const { r, D, factors: U, weights: gamma } = f;
  for (let a = 0; a < r; a++) {
    let m = 0;
    const ua = a * D;
    for (let i = 0; i < D; i++) m += U[ua + i] * w[i];
    const s = scale * gamma[a] * m * m;
    if (s === 0) continue;
    for (let i = 0; i < D; i++) {
      const si = s * U[ua + i], o = i * D;
      for (let j = 0; j < D; j++) J[o + j] += si * U[ua + j];
    }
  }
}

/** cw = C w (dense, row-major) and q = wᵀ C w. */
function denseCw(C: Float64Array, w: Float64Array, D: number, cw: Float64Array): number {
  let q = 0;
  for (let i = 0; i < D; i++) {
    let s = 0;
    const o = i * D;
    for (let j = 0; j < D; j++) s += C[o + j] * w[j];
    cw[i] = s;
    q += s * w[i];
  }
  return q;
}

/** The flow f(w) of the dense system (for Newton and tests; integration uses the flow module's RHS). */
export function cpFlowVector(sys: CpFlowSystem, w: Float64Array, out: Float64Array): Float64Array {
  const { D, c4 } = sys;
  out.fill(0);
  const cw = new Float64Array(D);
  for (const c of sys.classes) {
    const q = denseCw(c.C, w, D, cw);
    const s = c.weight * (c.c2 + 3 * c4 * q);
    for (let i = 0; i < D; i++) out[i] += s * cw[i];
    if (c.cp) addCpContraction(c.cp, w, c.weight * c4, out);
  }
  return out;
}

/** Analytic Jacobian J(w) of the dense system (D×D row-major, written into J); see the module comment. */
export function cpFlowJacobian(sys: CpFlowSystem, w: Float64Array, J: Float64Array = new Float64Array(sys.D * sys.D)): Float64Array {
  const { D, c4 } = sys;
  J.fill(0);
  const cw = new Float64Array(D);
  for (const c of sys.classes) {
    const q = denseCw(c.C, w, D, cw);
    const s = c.weight * (c.c2 + 3 * c4 * q);
    const t = 6 * c.weight * c4;
    for (let i = 0; i < D; i++) {
      const o = i * D, ti = t * cw[i];
      for (let j = 0; j < D; j++) J[o + j] += s * c.C[o + j] + ti * cw[j];
    }
    if (c.cp) addCpJacobian(c.cp, w, 3 * c.weight * c4, J);
  }
  return J;
}
