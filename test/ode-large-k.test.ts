/**
 * Issue 14 (order-parameter ODEs at larger K): the restructured Saad–Solla I4 sum, the CSR guard
 * rows, and the mixture ODE's η² term through the tetrachoric series must reproduce the
 * implementations they replaced.  Those are kept verbatim in test/fixtures/ode-reference/ (copied
 * from commit f11529f) and serve as the reference here.
 *
 * Tolerance: "relative 1e-10" means max_i |new_i − ref_i| / max(|ref_i|, 1e-6 ‖ref‖∞) ≤ 1e-10 (the
 * floor keeps components that vanish by symmetry from dividing by zero; 1e-6 of the largest).
 */
import { describe, expect, it } from "vitest";
import { SaadSollaOde, teacherStudentProblem, type TeacherStudentParams } from "../src/theory/saad-solla.js";
import { setI4Backend, type I4Backend } from "../src/theory/i4-sums.js";
import { SaadSollaOde as RefSaadSolla, teacherStudentProblem as refTeacherStudentProblem } from "./fixtures/ode-reference/saad-solla.js";
import { MixtureOde, mixtureProblem, type MixtureOdeParams } from "../src/theory/mixture-ode.js";
import { MixtureOde as RefMixtureOde, mixtureProblem as refMixtureProblem } from "./fixtures/ode-reference/mixture-ode.js";
import { ErfExpectations, TETRA_N_MAX, TETRA_R_MAX, bvnCdf, tetrachoricT, tetraTerms } from "../src/stats/gaussian-integrals.js";
import { ErfExpectations as RefErfExpectations } from "./fixtures/ode-reference/gaussian-integrals.js";
import { normCdf } from "../src/stats/special.js";
import { solve } from "../src/integrate/index.js";
import { Rng } from "../src/stats/rng.js";
import { kernelRow, spectrumOfRow, type Geometry } from "../src/data/kernels.js";

/** max_i |a_i − b_i| / max(|b_i|, 1e-6‖b‖∞). */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-6 * scale);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : Math.max(m, d);
  }
  return m;
}

/** Overlaps XYᵀ/N of row-major K×N and M×N matrices. */
function overlap(X: Float64Array, K: number, Y: Float64Array, M: number, N: number): Float64Array {
  const out = new Float64Array(K * M);
  for (let i = 0; i < K; i++) for (let j = 0; j < M; j++) {
    let s = 0;
    for (let t = 0; t < N; t++) s += X[i * N + t] * Y[j * N + t];
    out[i * M + j] = s / N;
  }
  return out;
}

/** Random teacher–student order parameters from explicit weights (a valid joint covariance). */
function randomTeacherStudent(K: number, M: number, seed: number, trained: boolean) {
  const N = 40;
  const rng = new Rng(seed);
  const B = rng.fillNormal(new Float64Array(M * N), 1);
  // Students: a random mix of teacher directions and noise, so that R is far from 0 and |r| spans (0, 1).
  const W = new Float64Array(K * N);
  for (let i = 0; i < K; i++) {
    const n = i % M, a = 0.3 + 0.6 * rng.uniform(), s = 0.2 + 1.5 * rng.uniform();
    for (let t = 0; t < N; t++) W[i * N + t] = s * (a * B[n * N + t] + (1 - a) * rng.normal());
  }
  const A = Float64Array.from({ length: M }, () => 0.5 + rng.uniform());
  const v = Float64Array.from({ length: K }, () => (rng.uniform() < 0.15 ? 0 : rng.normal()));
  const params: TeacherStudentParams = {
    K, M, lr: 0.7, lrSecondLayer: 0.3, trainSecondLayer: trained, noise: 0.05, weightDecay: 0.01, A, T: overlap(B, M, B, M, N),
  };
  return { params, init: { Q: overlap(W, K, W, K, N), R: overlap(W, K, B, M, N), v } };
}

describe("Saad–Solla RHS at larger K: identical to the reference implementation (both I4 backends)", () => {
  it("the WebAssembly-SIMD backend is the default here (so the cases below test it), and ts can be forced", () => {
    const { params, init } = randomTeacherStudent(3, 2, 1, false);
    expect(new SaadSollaOde(params, init.v).i4Backend).toBe("wasm-simd");
    const prev = setI4Backend("ts");
    try {
      expect(new SaadSollaOde(params, init.v).i4Backend).toBe("ts");
    } finally {
      setI4Backend(prev);
    }
    expect(new SaadSollaOde({ ...params, secondOrder: false }, init.v).i4Backend).toBe("ts");
  });
  for (const [K, backend] of [2, 5, 8].flatMap((k) => (["wasm-simd", "ts"] as I4Backend[]).map((b) => [k, b] as const))) {
    for (const trained of [false, true]) {
      // n = K + M = 5, 10, 16: odd and even counts for the two-lane loop.
      it(`${backend}: K = ${K}, M = ${K === 2 ? 3 : K}, ${trained ? "trained" : "fixed"} second layer: RHS and guarded RHS to 1e-10`, () => {
        const prev = setI4Backend(backend);
        try {
          check();
        } finally {
          setI4Backend(prev);
        }
      });
      const check = () => {
        const M = K === 2 ? 3 : K;
        const { params, init } = randomTeacherStudent(K, M, 100 + K, trained);
        const ode = new SaadSollaOde(params, init.v), ref = new RefSaadSolla(params, init.v);
        const y = ode.pack(init);
        const dy = new Float64Array(ode.dim), dr = new Float64Array(ode.dim);
        ode.rhs(0, y, dy);
        ref.rhs(0, y, dr);
        expect(relDiff(dy, dr)).toBeLessThanOrEqual(1e-10);
        // The η² part alone (secondOrder false removes it) must agree too, so it is not hidden by the
        // first-order terms.
        const o1 = new SaadSollaOde({ ...params, secondOrder: false }, init.v);
        const d1 = new Float64Array(ode.dim), r1 = new Float64Array(ode.dim);
        o1.rhs(0, y, d1);
        new RefSaadSolla({ ...params, secondOrder: false }, init.v).rhs(0, y, r1);
        const eta2 = dy.map((x, i) => x - d1[i]), eta2Ref = dr.map((x, i) => x - r1[i]);
        expect(Math.max(...eta2Ref.map(Math.abs))).toBeGreaterThan(1e-3);
        expect(relDiff(eta2, eta2Ref)).toBeLessThanOrEqual(1e-10);
        // With the guard functionals and ε appended (the state the integrator sees).
        const p = teacherStudentProblem(params, init, { times: [0, 1] }).problem;
        const q = refTeacherStudentProblem(params, init, { times: [0, 1] }).problem;
        expect(Array.from(p.y0)).toEqual(Array.from(q.y0));
        const gy = new Float64Array(p.y0.length), gr = new Float64Array(p.y0.length);
        p.rhs(0, p.y0 as Float64Array, gy);
        q.rhs(0, q.y0 as Float64Array, gr);
        expect(relDiff(gy, gr)).toBeLessThanOrEqual(1e-10);
        expect(ode.i4Backend).toBe(backend);
      };
    }
  }
});

describe("Saad–Solla trajectory at K = 4: identical to the reference", () => {
  it("K = M = 4 through the plateau (t = 0…200, GBS rtol 1e-9): every saved state to 1e-10", () => {
    const K = 4, M = 4, N = 60;
    const rng = new Rng(7);
    const B = rng.fillNormal(new Float64Array(M * N), 1);
    const W = rng.fillNormal(new Float64Array(K * N), 0.05);
    const params: TeacherStudentParams = { K, M, lr: 0.5, trainSecondLayer: true, noise: 0, weightDecay: 0, A: [1, 1, 1, 1], T: overlap(B, M, B, M, N) };
    const init = { Q: overlap(W, K, W, K, N), R: overlap(W, K, B, M, N), v: Float64Array.from([1, 1, 1, 1]) };
    const times = Array.from({ length: 21 }, (_, j) => 10 * j);
    const opts = { rtol: 1e-9, atol: 1e-12 };
    const a = teacherStudentProblem(params, init, { times }), b = refTeacherStudentProblem(params, init, { times });
    const sa = solve(a.problem, "gbs", opts), sb = solve(b.problem, "gbs", opts);
    expect(sa.retcode).toBe(sb.retcode);
    expect(sa.t).toEqual(sb.t);
    const ra = a.finish(sa), rb = b.finish(sb);
    // The run must move (ε falls by orders of magnitude), or the comparison says little.
    expect(rb.eps[rb.eps.length - 1]).toBeLessThan(0.1 * rb.eps[0]);
    for (let j = 0; j < sa.y.length; j++) expect(relDiff(sa.y[j].subarray(0, a.ode.dim), sb.y[j].subarray(0, a.ode.dim))).toBeLessThanOrEqual(1e-10);
    expect(relDiff(ra.eps, rb.eps)).toBeLessThanOrEqual(1e-10);
  });
});

/** A mixture ODE with random weights; `scale` sets |W| and so how correlated the tilted fields are. */
function randomMixture(K: number, seed: number, scale: number, opts: { bias?: "random" | "zero"; vZero?: boolean } = {}) {
  const geom: Geometry = { dim: 1, L: 24 };
  const D = 24;
  const spectra = [1.5, 4].map((xi) => spectrumOfRow(geom, kernelRow(geom, xi)));
  const rng = new Rng(seed);
  const W = new Float64Array(K * D);
  // Shared directions make the pre-activations strongly correlated (|r| up to ~0.95 after tilting).
  const common = rng.fillNormal(new Float64Array(D), 1);
  for (let k = 0; k < K; k++) {
    const a = rng.uniform();
    for (let i = 0; i < D; i++) W[k * D + i] = (scale / Math.sqrt(D)) * (a * common[i] + (1 - a) * rng.normal());
  }
  const b = Float64Array.from({ length: K }, () => (opts.bias === "zero" ? 0 : rng.normal()));
  const v = Float64Array.from({ length: K }, (_, k) => (opts.vZero && k === 1 ? 0 : 0.3 + rng.uniform()));
  const params: MixtureOdeParams = {
    K, geometry: geom, spectra, labels: [-1, 1], probs: [0.4, 0.6], lr: 0.6, lrBias: 0.2, lrSecondLayer: 0.3,
    weightDecay: 0.01, trainBias: true, trainSecondLayer: true,
  };
  return { params, init: { W, b, v } };
}

describe("mixture ODE RHS at larger K: identical to the reference implementation", () => {
  const cases: [number, number, "random" | "zero", boolean][] = [
    [2, 1, "random", false], [5, 3, "random", false], [8, 2, "random", true], [8, 6, "random", false], [5, 2, "zero", false],
  ];
  for (const [K, scale, bias, vZero] of cases) {
    it(`K = ${K}, |W| scale ${scale}, ${bias} biases${vZero ? ", one v = 0" : ""}: RHS to 1e-10`, () => {
      const { params, init } = randomMixture(K, 10 * K + scale, scale, { bias, vZero });
      const ode = new MixtureOde(params, init.b, init.v), ref = new RefMixtureOde(params, init.b, init.v);
      const y = ode.initialState(init);
      expect(Array.from(y)).toEqual(Array.from(ref.initialState(init)));
      const dy = new Float64Array(ode.dim), dr = new Float64Array(ode.dim);
      ode.rhs(0, y, dy);
      ref.rhs(0, y, dr);
      expect(relDiff(dy, dr)).toBeLessThanOrEqual(1e-10);
      // The η² term on its own.
      const o1 = new MixtureOde({ ...params, secondOrder: false }, init.b, init.v);
      const r1 = new RefMixtureOde({ ...params, secondOrder: false }, init.b, init.v);
      const d1 = new Float64Array(ode.dim), q1 = new Float64Array(ode.dim);
      o1.rhs(0, y, d1);
      r1.rhs(0, y, q1);
      expect(relDiff(d1, q1)).toBeLessThanOrEqual(1e-10);
      const eta2 = dy.map((x, i) => x - d1[i]), eta2Ref = dr.map((x, i) => x - q1[i]);
      expect(Math.max(...eta2Ref.map(Math.abs))).toBeGreaterThan(1e-4);
      expect(relDiff(eta2, eta2Ref)).toBeLessThanOrEqual(1e-10);
    });
  }

  it("ErfExpectations.ee equals the reference's to 1e-12 absolute, on both sides of |r| = TETRA_R_MAX", () => {
    // One K = 6 covariance with correlations from 0 to 0.97 (so both the series and the bvnCdf
    // fallback run), biases of both signs and a zero.
    const K = 6;
    const rng = new Rng(5);
    const F = rng.fillNormal(new Float64Array(K * 3), 1);
    const Om = new Float64Array(K * K);
    for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) {
      let s = i === j ? 0.05 * (1 + i) : 0;
      for (let t = 0; t < 3; t++) s += F[i * 3 + t] * F[j * 3 + t] * (1 + 2 * i) * (1 + 2 * j) / 6;
      Om[i * K + j] = s;
    }
    const b = [0.8, -1.2, 0, 0.3, -0.1, 2];
    const v = [0.5, -1, 0.7, 0, 1.3, 0.2];
    let rMax = 0;
    for (let i = 0; i < K; i++) for (let j = i + 1; j < K; j++) rMax = Math.max(rMax, Math.abs(Om[i * K + j]) / Math.sqrt((1 + Om[i * K + i]) * (1 + Om[j * K + j])));
    expect(rMax).toBeGreaterThan(TETRA_R_MAX);
    for (const y of [-1, 0.5]) {
      const a = new ErfExpectations(K).compute(Om, b, { needGG: true, second: { y, v } });
      const r = new RefErfExpectations(K).compute(Om, b, { needGG: true, second: { y, v } });
      for (let i = 0; i < K * K; i++) expect(Math.abs(a.ee[i] - r.ee[i])).toBeLessThanOrEqual(1e-12);
      expect(Array.from(a.gg)).toEqual(Array.from(r.gg));
      expect(Array.from(a.gpg)).toEqual(Array.from(r.gpg));
    }
  });
});

describe("mixture ODE trajectory at K = 4: identical to the reference", () => {
  it("K = 4, trained b and v, t = 0…50 (GBS rtol 1e-8): every saved state to 1e-10", () => {
    const { params, init } = randomMixture(4, 3, 2);
    const times = [0, 5, 10, 20, 50];
    const a = mixtureProblem(params, init, { times }), b = refMixtureProblem(params, init, { times });
    const opts = { rtol: 1e-8, atol: 1e-10 };
    const sa = solve(a.problem, "gbs", opts), sb = solve(b.problem, "gbs", opts);
    expect(sa.retcode).toBe(sb.retcode);
    expect(sa.t).toEqual(sb.t);
    const moved = relDiff(sb.y[sb.y.length - 1], sb.y[0]);
    expect(moved).toBeGreaterThan(0.1);
    for (let j = 0; j < sa.y.length; j++) expect(relDiff(sa.y[j], sb.y[j])).toBeLessThanOrEqual(1e-10);
    const pa = a.finish(sa).pmse, pb = b.finish(sb).pmse;
    expect(relDiff(pa, pb)).toBeLessThanOrEqual(1e-10);
  });
});

/** ∫_0^r φ2(h, k; ρ) dρ by composite Simpson (Plackett's identity: T = Φ2 − ΦΦ), test-only. */
function plackettSimpson(h: number, k: number, r: number, n = 4000): number {
  const f = (p: number) => Math.exp(-(h * h - 2 * p * h * k + k * k) / (2 * (1 - p * p))) / (2 * Math.PI * Math.sqrt(1 - p * p));
  const dh = r / n;
  let s = f(0) + f(r);
  for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * f(i * dh);
  return (s * dh) / 3;
}

describe("tetrachoric series for Φ2 − ΦΦ", () => {
  it("agrees with Plackett's integral (Simpson, 4000 panels) to 2e-15 and with bvnCdf to 1e-13", () => {
    const rng = new Rng(11);
    for (let i = 0; i < 300; i++) {
      const h = 8 * rng.uniform() - 4, k = 8 * rng.uniform() - 4, r = (2 * rng.uniform() - 1) * TETRA_R_MAX;
      const t = tetrachoricT(h, k, r);
      expect(Math.abs(t - plackettSimpson(h, k, r))).toBeLessThanOrEqual(2e-15);
      expect(Math.abs(t + normCdf(h) * normCdf(k) - bvnCdf(h, k, r))).toBeLessThanOrEqual(1e-13);
    }
    // Unbiased: Φ2(0, 0; r) − ¼ = asin(r)/(2π), at the edge of the range too.
    for (const r of [-TETRA_R_MAX, -0.5, 0.01, 0.3, 0.79]) expect(Math.abs(tetrachoricT(0, 0, r) - Math.asin(r) / (2 * Math.PI))).toBeLessThanOrEqual(1e-15);
    expect(() => tetrachoricT(0, 0, 0.9)).toThrow(RangeError);
  });

  it("the term counts satisfy the stated tail bound, and the Cramér bound on ψ_n holds for n ≤ N_MAX", () => {
    const k2 = (1.086435 * 1.086435) / (2 * Math.PI);
    for (let a = 0; a <= TETRA_R_MAX; a += 0.001) {
      const N = tetraTerms(a);
      expect(N).toBeLessThanOrEqual(TETRA_N_MAX);
      expect(k2 * Math.pow(a, N + 1) / ((N + 1) * (1 - a))).toBeLessThanOrEqual(2e-17);
    }
    // ψ_n(x) = φ(x) He_n(x)/√n! by the unnormalised recurrence in long form, |ψ_n| e^{x²/4} √(2π) ≤ κ.
    for (let x = -12; x <= 12; x += 0.37) {
      let he0 = 1, he1 = x, logFact = 0;
      for (let n = 0; n <= TETRA_N_MAX; n++) {
        const he = n === 0 ? he0 : he1;
        if (n > 0) logFact += Math.log(n);
        const bound = Math.abs(he) * Math.exp(-x * x / 4 - logFact / 2);
        if (Number.isFinite(bound)) expect(bound).toBeLessThanOrEqual(1.086435 + 1e-9);
        if (n > 0) { const next = x * he1 - n * he0; he0 = he1; he1 = next; }
      }
    }
  });
});
