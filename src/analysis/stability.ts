/**
 * Linear stability of fixed points of the single-neuron flow (IG22 eq. 16): classification of a
 * fixed point by the eigenvalues of its Jacobian (for the cp flow the analytic one, `cpFlowJacobian`
 * in ./cp-flow.ts).  J is symmetric for the gradient flow, so its eigenvalues are real.
 * A fixed point is an attractor if every eigenvalue is < −tol, a saddle if it has eigenvalues of
 * both signs beyond ±tol, a repeller if it has positive but no negative ones, and "marginal"
 * otherwise (some |λ| ≤ tol, none positive: linear stability is inconclusive).
 *
 * Also: the dense matrix of a linear operator, a central-difference Jacobian (for tests of any
 * RHS), and Newton's method for refining a fixed point reached by integration (damped:
 * backtracking on ‖f‖).
 */
import { mlMatrix } from "../stats/ml-matrix.js";

/** Dense matrix of a linear operator given by its action (D applications on unit vectors). */
export function denseFromOperator(apply: (x: Float64Array, out: Float64Array) => void, D: number): Float64Array {
  const C = new Float64Array(D * D);
  const e = new Float64Array(D), col = new Float64Array(D);
  for (let j = 0; j < D; j++) {
    e.fill(0);
    e[j] = 1;
    apply(e, col);
    for (let i = 0; i < D; i++) C[i * D + j] = col[i];
  }
  // Symmetrise (exact for symmetric operators up to rounding).
  for (let i = 0; i < D; i++) {
    for (let j = i + 1; j < D; j++) {
      const v = 0.5 * (C[i * D + j] + C[j * D + i]);
      C[i * D + j] = v;
      C[j * D + i] = v;
    }
  }
  return C;
}

/** Central-difference Jacobian of f at w (step h·max(1, |w_j|)), D×D row-major. */
export function numericalJacobian(f: (w: Float64Array, out: Float64Array) => void, w: Float64Array, h = 1e-6): Float64Array {
  const D = w.length;
  const J = new Float64Array(D * D);
  const wp = Float64Array.from(w), fp = new Float64Array(D), fm = new Float64Array(D);
  for (let j = 0; j < D; j++) {
    const step = h * Math.max(1, Math.abs(w[j]));
    wp[j] = w[j] + step;
    f(wp, fp);
    wp[j] = w[j] - step;
    f(wp, fm);
    wp[j] = w[j];
    for (let i = 0; i < D; i++) J[i * D + j] = (fp[i] - fm[i]) / (2 * step);
  }
  return J;
}

export type FixedPointKind = "attractor" | "saddle" | "repeller" | "marginal";

export interface StabilityReport {
  /** Eigenvalues (real parts), descending. */
  eigenvalues: number[];
  /** Largest imaginary part in absolute value (0 for symmetric J). */
  maxImag: number;
  nPositive: number;
  nNegative: number;
  nZero: number;
  kind: FixedPointKind;
  /** Tolerance used: tolRel · max|λ|. */
  tol: number;
}

/**
 * Eigenvalues of J (D×D row-major) and the classification; |λ| ≤ tolRel·max|λ| counts as zero.
 * Symmetric J (|J − Jᵀ| ≤ 1e-10·max|J|) uses the symmetric EVD.
 */
export function classifyJacobian(J: Float64Array, D: number, tolRel = 1e-9): StabilityReport {
  let mx = 0, asym = 0;
  for (let i = 0; i < D; i++) {
    for (let j = 0; j < D; j++) {
      mx = Math.max(mx, Math.abs(J[i * D + j]));
      asym = Math.max(asym, Math.abs(J[i * D + j] - J[j * D + i]));
    }
  }
  const rows: number[][] = [];
  for (let i = 0; i < D; i++) rows.push(Array.from(J.subarray(i * D, (i + 1) * D)));
  const { EigenvalueDecomposition, Matrix } = mlMatrix();
  const evd = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: asym <= 1e-10 * Math.max(mx, 1e-300) });
  const re = evd.realEigenvalues, im = evd.imaginaryEigenvalues;
  const order = re.map((_, k) => k).sort((a, b) => re[b] - re[a]);
  const eigenvalues = order.map((k) => re[k]);
  let maxImag = 0;
  for (const v of im) maxImag = Math.max(maxImag, Math.abs(v));
  const scale = Math.max(...eigenvalues.map(Math.abs), 0);
  const tol = tolRel * scale;
  let nPositive = 0, nNegative = 0, nZero = 0;
  for (const v of eigenvalues) {
    if (v > tol) nPositive++;
    else if (v < -tol) nNegative++;
    else nZero++;
  }
  let kind: FixedPointKind;
  if (nPositive > 0 && nNegative > 0) kind = "saddle";
  else if (nPositive > 0) kind = "repeller";
  else if (nZero > 0) kind = "marginal";
  else kind = "attractor";
  return { eigenvalues, maxImag, nPositive, nNegative, nZero, kind, tol };
}

export interface NewtonResult {
  w: Float64Array;
  /** ‖f(w)‖∞ at the end. */
  residual: number;
  iterations: number;
  converged: boolean;
}

/**
 * Newton's method for f(w) = 0 with analytic Jacobian `jac`; each step solves J δ = −f (LU) and
 * backtracks (halving, ≤ 30 times) until ‖f‖₂ decreases.  Converged when ‖f‖∞ ≤ tol·max(1, ‖w‖∞).
 */
export function newtonFixedPoint(
  f: (w: Float64Array, out: Float64Array) => void,
  jac: (w: Float64Array, J: Float64Array) => void,
  w0: Float64Array,
  opts: { tol?: number; maxIter?: number } = {},
): NewtonResult {
  const D = w0.length;
  const tol = opts.tol ?? 1e-12;
  const maxIter = opts.maxIter ?? 50;
  let w = Float64Array.from(w0);
  const fw = new Float64Array(D), ft = new Float64Array(D), J = new Float64Array(D * D);
  const norm2 = (v: Float64Array) => { let s = 0; for (let i = 0; i < D; i++) s += v[i] * v[i]; return Math.sqrt(s); };
  const normInf = (v: Float64Array) => { let s = 0; for (let i = 0; i < D; i++) s = Math.max(s, Math.abs(v[i])); return s; };
  f(w, fw);
  let it = 0;
  for (; it < maxIter; it++) {
    if (normInf(fw) <= tol * Math.max(1, normInf(w))) return { w, residual: normInf(fw), iterations: it, converged: true };
    jac(w, J);
    const rows: number[][] = [];
    for (let i = 0; i < D; i++) rows.push(Array.from(J.subarray(i * D, (i + 1) * D)));
    const { LuDecomposition, Matrix } = mlMatrix();
    const lu = new LuDecomposition(new Matrix(rows));
    if (lu.isSingular()) break;
    const delta = lu.solve(Matrix.columnVector(Array.from(fw, (v) => -v))).getColumn(0);
    const f0 = norm2(fw);
    let step = 1, accepted = false;
    const wt = new Float64Array(D);
    for (let k = 0; k < 30; k++) {
      for (let i = 0; i < D; i++) wt[i] = w[i] + step * delta[i];
      f(wt, ft);
      if (norm2(ft) < f0 || !(f0 > 0)) { accepted = true; break; }
      step *= 0.5;
    }
    if (!accepted) break;
    w = wt;
    fw.set(ft);
  }
  const res = normInf(fw);
  return { w, residual: res, iterations: it, converged: res <= tol * Math.max(1, normInf(w)) };
}
