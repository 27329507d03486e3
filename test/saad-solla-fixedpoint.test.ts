/**
 * Independent checks of the Saad–Solla ODEs (src/theory/saad-solla.ts):
 *  - the RHS against the SGD drift written from first principles and evaluated by brute-force 4-D
 *    tensor trapezoidal quadrature over (λ, ν) ~ N(0, [[Q, R], [Rᵀ, T]]) — no I2/I3/I4 closed forms:
 *      dR_in/dt = η v_i E[g'(λ_i) ν_n e] − ηκ R_in,
 *      dQ_ik/dt = η (v_i E[g'(λ_i) λ_k e] + v_k E[g'(λ_k) λ_i e]) − 2ηκ Q_ik
 *                 + η² v_i v_k (E[g'(λ_i) g'(λ_k) e²] + σ² E[g'(λ_i) g'(λ_k)]),
 *      dv_i/dt  = η_v E[e g(λ_i)],     e = Σ_n A_n g(ν_n) − Σ_j v_j g(λ_j),  g(h) = erf(h/√2)
 *    (from w_i ← w_i + (η/√N) v_i (e + σζ) g'(λ_i) x − (ηκ/N) w_i with |x|²/N → 1, t = steps/N);
 *  - the symmetric plateau as a fixed point solved by Newton's method to 1e-13, its level confirmed by
 *    the independent RHS, and compared with the ODE trajectory.
 */
import { describe, expect, it } from "vitest";
import { integrateTeacherStudent, SaadSollaOde, type TeacherStudentParams } from "../src/theory/saad-solla.js";
import { erf } from "../src/stats/special.js";
import { gaussianGrid, trapezoidRule } from "./independent-quadrature.js";

/**
 * 4-D rule: trapezoid step 0.35 on |z_i| ≤ 7.6, restricted to the ball |z| ≤ 8 (≈ 1.3·10⁶ points); the
 * mass outside the ball is P(χ²_4 > 64) = 33 e^{−32} ≈ 4e-13.
 */
const RULE4 = trapezoidRule(0.35, 7.6);

const g = (h: number) => erf(h / Math.SQRT2);
const gp = (h: number) => Math.sqrt(2 / Math.PI) * Math.exp(-0.5 * h * h);

interface TS { Q: number[]; R: number[]; T: number[]; v: number[]; A: number[]; eta: number; etaV: number; kappa: number; sigma2: number }

/** First-principles RHS (K = M = 2) in the ODE's state order: R (row-major), Q upper triangle, v; and ε = ½E[e²]. */
function quadRhs(s: TS, rule: number | { x: Float64Array; w: Float64Array } = RULE4): { dy: number[]; eps: number } {
  const K = 2, M = 2, n = 4;
  const S = new Float64Array(n * n);
  for (let i = 0; i < K; i++) for (let k = 0; k < K; k++) S[i * n + k] = s.Q[i * K + k];
  for (let i = 0; i < K; i++) for (let m = 0; m < M; m++) S[i * n + K + m] = S[(K + m) * n + i] = s.R[i * M + m];
  for (let a = 0; a < M; a++) for (let b = 0; b < M; b++) S[(K + a) * n + K + b] = s.T[a * M + b];
  const EgpNuE = new Float64Array(K * M), EgpLamE = new Float64Array(K * K), Egpgpe2 = new Float64Array(K * K), Egpgp = new Float64Array(K * K), Eeg = new Float64Array(K);
  let Ee2 = 0;
  const gpv = new Float64Array(K), gv = new Float64Array(K);
  gaussianGrid(S, n, rule, (u, w) => {
    let e = 0;
    for (let m = 0; m < M; m++) e += s.A[m] * g(u[K + m]);
    for (let j = 0; j < K; j++) { gv[j] = g(u[j]); gpv[j] = gp(u[j]); e -= s.v[j] * gv[j]; }
    Ee2 += w * e * e;
    for (let i = 0; i < K; i++) {
      Eeg[i] += w * e * gv[i];
      for (let m = 0; m < M; m++) EgpNuE[i * M + m] += w * gpv[i] * u[K + m] * e;
      for (let k = 0; k < K; k++) {
        EgpLamE[i * K + k] += w * gpv[i] * u[k] * e;
        Egpgpe2[i * K + k] += w * gpv[i] * gpv[k] * e * e;
        Egpgp[i * K + k] += w * gpv[i] * gpv[k];
      }
    }
  }, 8);
  const { eta, kappa, sigma2, v } = s;
  const dy: number[] = [];
  for (let i = 0; i < K; i++) for (let m = 0; m < M; m++) dy.push(eta * v[i] * EgpNuE[i * M + m] - eta * kappa * s.R[i * M + m]);
  for (let i = 0; i < K; i++) for (let k = i; k < K; k++) {
    dy.push(eta * (v[i] * EgpLamE[i * K + k] + v[k] * EgpLamE[k * K + i]) - 2 * eta * kappa * s.Q[i * K + k]
      + eta * eta * v[i] * v[k] * (Egpgpe2[i * K + k] + sigma2 * Egpgp[i * K + k]));
  }
  for (let i = 0; i < K; i++) dy.push(s.etaV * Eeg[i]);
  return { dy, eps: 0.5 * Ee2 };
}

describe("Saad–Solla RHS from first principles (4-D quadrature)", () => {
  it("generic state with noise, decay and trained second layer: RHS and ε agree to 1e-10", () => {
    const s: TS = { Q: [0.9, 0.25, 0.25, 0.6], R: [0.35, -0.1, 0.15, 0.45], T: [1, 0.1, 0.1, 0.8], v: [0.6, 1.1], A: [1, 0.8], eta: 0.9, etaV: 0.3, kappa: 0.02, sigma2: 0.05 };
    const ode = new SaadSollaOde({ K: 2, M: 2, lr: s.eta, lrSecondLayer: s.etaV, trainSecondLayer: true, noise: s.sigma2, weightDecay: s.kappa, A: s.A, T: s.T }, s.v);
    const y = ode.pack({ Q: Float64Array.from(s.Q), R: Float64Array.from(s.R), v: Float64Array.from(s.v) });
    const dy = new Float64Array(ode.dim);
    ode.rhs(0, y, dy);
    // Trapezoid steps 0.35 and 0.4 agree to < 5e-12 (the error falls ~100× per 0.1 in the step: 0.5 is
    // still off by 3e-10), so the tolerance 1e-10 has ≥ 20× margin.  (A
    // Gauss–Hermite rule converges slowly for these integrands: 32 vs 40 nodes still differ by 3e-10.)
    const q = quadRhs(s), q2 = quadRhs(s, trapezoidRule(0.4, 7.6));
    expect(q.dy.length).toBe(ode.dim);
    for (let j = 0; j < ode.dim; j++) {
      expect(Math.abs(q.dy[j] - q2.dy[j])).toBeLessThan(5e-12);
      expect(Math.abs(dy[j] - q.dy[j])).toBeLessThan(1e-10);
    }
    expect(Math.abs(ode.error(y) - q.eps)).toBeLessThan(1e-11);
    // ε(0) = (K+M)/6 for Q = I, R = 0, T = I, v = A = 1 — here by quadrature, not by the arcsin sum.
    const q0 = quadRhs({ ...s, Q: [1, 0, 0, 1], R: [0, 0, 0, 0], T: [1, 0, 0, 1], v: [1, 1], A: [1, 1] });
    expect(Math.abs(q0.eps - 4 / 6)).toBeLessThan(1e-11);
  });
});

describe("Saad–Solla symmetric plateau (K = M = 2, η = 0.5, v = A = 1, T = I)", () => {
  const params: TeacherStudentParams = { K: 2, M: 2, lr: 0.5, trainSecondLayer: false, noise: 0, weightDecay: 0, A: [1, 1], T: [1, 0, 0, 1] };
  const ode = new SaadSollaOde(params, [1, 1]);
  /** Symmetric state (Q_11 = Q_22 = a, Q_12 = c, all R_in = r) → packed vector. */
  const pack = (x: number[]) => ode.pack({ Q: Float64Array.from([x[0], x[1], x[1], x[0]]), R: Float64Array.from([x[2], x[2], x[2], x[2]]), v: Float64Array.from([1, 1]) });
  /** Reduced residual (dQ_11, dQ_12, dR_11); by symmetry the other components are copies. */
  const F = (x: number[]) => { const dy = new Float64Array(ode.dim); ode.rhs(0, pack(x), dy); return { F: [dy[4], dy[5], dy[0]], dy }; };

  function solve3(J: number[][], b: number[]): number[] {
    const A = J.map((r, i) => [...r, b[i]]);
    for (let c = 0; c < 3; c++) {
      let p = c;
      for (let r = c + 1; r < 3; r++) if (Math.abs(A[r][c]) > Math.abs(A[p][c])) p = r;
      [A[c], A[p]] = [A[p], A[c]];
      for (let r = 0; r < 3; r++) if (r !== c) { const f = A[r][c] / A[c][c]; for (let k = c; k < 4; k++) A[r][k] -= f * A[c][k]; }
    }
    return [0, 1, 2].map((i) => A[i][3] / A[i][i]);
  }
  function jacobian(fun: (x: number[]) => number[], x: number[]): number[][] {
    const J = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
    for (let j = 0; j < 3; j++) {
      const h = 1e-6 * Math.max(1, Math.abs(x[j]));
      const xp = [...x], xm = [...x];
      xp[j] += h; xm[j] -= h;
      const fp = fun(xp), fm = fun(xm);
      for (let i = 0; i < 3; i++) J[i][j] = (fp[i] - fm[i]) / (2 * h);
    }
    return J;
  }

  it("Newton's method finds the fixed point to 1e-13; the independent RHS vanishes there; the ODE trajectory converges to it", async () => {
    const sym0 = { Q: Float64Array.from([0.0025, 0, 0, 0.0025]), R: Float64Array.from([1e-3, 1e-3, 1e-3, 1e-3]), v: Float64Array.from([1, 1]) };
    // The plateau has a slow direction (Q_11 − Q_12 grows from ~0.003 at t = 50 to 0.042), so the
    // symmetric orbit reaches the fixed point only for t ≳ 5000; Newton starts from t = 3000 (started
    // at t = 200 it converges to the other, aligned-student (Q_11 ≈ Q_12) root of the reduced system).
    const times = [0, 50, 100, 200, 500, 1000, 2000, 3000, 8000, 12000];
    const sym = await integrateTeacherStudent(params, sym0, { times, rtol: 1e-11, atol: 1e-13 });
    const s0 = sym.states[times.indexOf(3000)];
    let x = [s0.Q[0], s0.Q[1], s0.R[0]];
    let res = Infinity;
    for (let it = 0; it < 30 && res > 1e-15; it++) {
      const f = F(x).F;
      const dx = solve3(jacobian((z) => F(z).F, x), f.map((v) => -v));
      x = x.map((v, i) => v + dx[i]);
      res = Math.max(...F(x).F.map(Math.abs));
    }
    expect(res).toBeLessThan(1e-13);
    for (const d of F(x).dy) expect(Math.abs(d)).toBeLessThan(1e-13); // the symmetric reduction is consistent
    const epsStar = ode.error(pack(x));
    // Unspecialised (Q_11 > Q_12 > 0, all R equal), within the existing test's bracket [0.0140, 0.0153].
    expect(x[0] - x[1]).toBeGreaterThan(0.01);
    expect(x[2]).toBeGreaterThan(0.1);
    expect(epsStar).toBeGreaterThan(0.0140);
    expect(epsStar).toBeLessThan(0.0153);
    expect(Math.abs(epsStar - 0.0146448497)).toBeLessThan(1e-9); // value of this computation (for the record)

    // Independent confirmation: the first-principles RHS at x* (4-D quadrature, ≲ 2e-12) is ≈ 0, and
    // one Newton step on it moves ε by < 1e-10 — the plateau level follows from the SGD drift itself,
    // not only from the I3/I4 closed forms (verified: scaling the 2/π or 4/π² constant by 1.001 fails here).
    const qs = (z: number[]): TS => ({ Q: [z[0], z[1], z[1], z[0]], R: [z[2], z[2], z[2], z[2]], T: [1, 0, 0, 1], v: [1, 1], A: [1, 1], eta: 0.5, etaV: 0.5, kappa: 0, sigma2: 0 });
    const d = quadRhs(qs(x)).dy;
    const fq = [d[4], d[5], d[0]];
    for (const v of d.slice(0, 7)) expect(Math.abs(v)).toBeLessThan(1e-10); // R and Q components (v is not trained here)
    const dxq = solve3(jacobian((z) => F(z).F, x), fq.map((v) => -v));
    const xq = x.map((v, i) => v + dxq[i]);
    const epsQ = quadRhs(qs(xq)).eps;
    expect(Math.abs(epsQ - epsStar)).toBeLessThan(1e-10);

    // The ODE trajectory from the existing test's symmetric start converges to x* (it is stable within
    // the symmetric subspace): at t = 8000 and 12000 the state and ε agree to the integrator's accuracy.
    for (const t of [8000, 12000]) {
      const j = times.indexOf(t), st = sym.states[j];
      expect(Math.abs(st.Q[0] - x[0]) + Math.abs(st.Q[1] - x[1]) + Math.abs(st.R[0] - x[2])).toBeLessThan(1e-8);
      expect(Math.abs(sym.eps[j] / epsStar - 1)).toBeLessThan(1e-9);
    }
    // Along the whole plateau t ∈ [50, 3000] ε stays within 2.5e-3 (relative) of ε* (observed max 1.9e-3
    // at t = 50; ε is not monotone along the slow direction — it dips to 0.0146429 near t = 1000 — so
    // the flattest point of the orbit is not the fixed point and is not used as the reference).
    for (const t of [50, 100, 200, 500, 1000, 2000, 3000]) expect(Math.abs(sym.eps[times.indexOf(t)] / epsStar - 1)).toBeLessThan(2.5e-3);
  });
});
