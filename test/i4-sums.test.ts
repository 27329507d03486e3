/**
 * The Saad–Solla η² pair sums (src/theory/i4-sums.ts): the WebAssembly-SIMD kernel (wasm/kernels.ts
 * i4Sums, polynomial arcsine) against the TS reference `i4SumTs` (Math.asin) to 1e-13 relative, on
 * states whose correlations r cover both arcsine branches and the clamp; chunked pair ranges equal
 * the whole call bit for bit; and the ODE on 1, 2 and 3 threads gives bit-identical RHS values and
 * trajectories.
 */
import { describe, expect, it } from "vitest";
import { I4Sums, i4ChunkBounds, i4SumTs, setI4Backend } from "../src/theory/i4-sums.js";
import { i4ScratchLength, wasmKernels } from "../src/kernels/wasm.js";
import { SaadSollaOde, integrateTeacherStudent, type TeacherStudentParams } from "../src/theory/saad-solla.js";
import { overlaps, teacherStudentInit } from "../src/sim/teacher-student.js";
import { Rng } from "../src/stats/rng.js";
import { odeExperiment, type OdeTeacherStudentResult } from "../src/experiments/ode.js";
import { compareExperiment } from "../src/experiments/compare.js";

/**
 * A valid joint covariance C of (λ, ν) from explicit weights: students mixing teachers, all weights
 * times `scale` (the arcsine arguments approach ±1 only when C ≫ 1, since the correlations carry 1 + C_aa).
 */
function randomC(K: number, M: number, seed: number, mix: number, scale = 1): { C: Float64Array; w: Float64Array; n: number } {
  const N = 30, n = K + M;
  const rng = new Rng(seed);
  const B = rng.fillNormal(new Float64Array(M * N), scale);
  const W = new Float64Array(K * N);
  for (let i = 0; i < K; i++) {
    const t = i % M;
    for (let j = 0; j < N; j++) W[i * N + j] = mix * B[t * N + j] + (1 - mix) * scale * rng.normal() * (0.3 + rng.uniform());
  }
  const X = new Float64Array(n * N);
  X.set(W, 0);
  X.set(B, K * N);
  const C = overlaps(X, n, X, n, N);
  const w = Float64Array.from({ length: n }, (_, a) => (a < K ? -(rng.uniform() < 0.2 ? 0 : rng.normal()) : 0.5 + rng.uniform()));
  return { C, w, n };
}

/** The correlations r_ab of all pairs (TS algebra), for the branch coverage checks. */
function correlations(C: Float64Array, n: number, K: number): number[] {
  const r: number[] = [];
  for (let i = 0; i < K; i++) for (let k = i; k < K; k++) {
    const c11 = 1 + C[i * n + i], c22 = 1 + C[k * n + k], c12 = C[i * n + k], l4 = c11 * c22 - c12 * c12;
    const L1 = (a: number) => l4 * (1 + C[a * n + a]) - C[i * n + a] * ((1 + C[k * n + k]) * C[i * n + a] - c12 * C[k * n + a]) - C[k * n + a] * ((1 + C[i * n + i]) * C[k * n + a] - c12 * C[i * n + a]);
    for (let a = 0; a < n; a++) for (let b = a; b < n; b++) {
      const L0 = l4 * C[a * n + b] - C[i * n + a] * ((1 + C[k * n + k]) * C[i * n + b] - c12 * C[k * n + b]) - C[k * n + a] * ((1 + C[i * n + i]) * C[k * n + b] - c12 * C[i * n + b]);
      r.push(L0 / Math.sqrt(L1(a) * L1(b)));
    }
  }
  return r;
}

function tsSums(C: Float64Array, w: Float64Array, n: number, K: number): Float64Array {
  const out = new Float64Array((K * (K + 1)) / 2);
  const s = new Float64Array(n), x = new Float64Array(n), y = new Float64Array(n);
  let p = 0;
  for (let i = 0; i < K; i++) for (let k = i; k < K; k++) out[p++] = i4SumTs(C, w, n, i, k, s, x, y);
  return out;
}

/** (K, M, mixing, scale): odd and even n, |r| from ~0 to > 0.999. */
const CASES = [[2, 3, 0.5, 1], [3, 4, 0.9, 3], [5, 5, 0.3, 1], [8, 7, 0.97, 30], [13, 6, 0.6, 4], [16, 16, 0.0, 1]] as const;

describe("η² pair sums: SIMD kernel against the TS reference", () => {
  it("WebAssembly SIMD is available here (so the cases below test the kernel)", () => {
    expect(wasmKernels()).not.toBeNull();
    expect(new I4Sums(5, 2).backend).toBe("wasm-simd");
    const prev = setI4Backend("ts");
    try {
      expect(new I4Sums(5, 2).backend).toBe("ts");
    } finally {
      setI4Backend(prev);
    }
  });

  for (const [K, M, mix, scale] of CASES) {
    it(`K = ${K}, M = ${M} (n = ${K + M}), mixing ${mix}, scale ${scale}: every pair to 1e-13`, () => {
      const { C, w, n } = randomC(K, M, 7 + K, mix, scale);
      const I = new I4Sums(n, K);
      I.C.set(C);
      I.w.set(w);
      const got = I.sums().slice();
      const ref = tsSums(C, w, n, K);
      let top = 0;
      for (const v of ref) top = Math.max(top, Math.abs(v));
      expect(top).toBeGreaterThan(1e-3);
      for (let p = 0; p < ref.length; p++) {
        expect(Number.isFinite(got[p])).toBe(true);
        expect(Math.abs(got[p] - ref[p])).toBeLessThanOrEqual(1e-13 * Math.max(Math.abs(ref[p]), 1e-3 * top));
      }
    });
  }

  it("the cases above cover every arcsine form: |r| < 1/32, < 1/16, < 1/8, < ½, ½ … 0.975 and > 0.975 (up to > 0.999)", () => {
    const all = CASES.flatMap(([K, M, mix, scale]) => {
      const { C, n } = randomC(K, M, 7 + K, mix, scale);
      return correlations(C, n, K);
    });
    const count = (f: (r: number) => boolean) => all.filter(f).length;
    expect(count((r) => Math.abs(r) < 0.03125)).toBeGreaterThan(1000);
    expect(count((r) => Math.abs(r) >= 0.03125 && Math.abs(r) < 0.0625)).toBeGreaterThan(1000);
    expect(count((r) => Math.abs(r) >= 0.0625 && Math.abs(r) < 0.125)).toBeGreaterThan(1000);
    expect(count((r) => Math.abs(r) >= 0.125 && Math.abs(r) < 0.5)).toBeGreaterThan(1000);
    expect(count((r) => Math.abs(r) >= 0.5 && Math.abs(r) <= 0.975)).toBeGreaterThan(100);
    expect(count((r) => Math.abs(r) > 0.975)).toBeGreaterThan(100);
    expect(count((r) => Math.abs(r) > 0.999)).toBeGreaterThan(10);
  });

  it("students close to one direction (many |r| ≥ ½: the general arcsine) still agree", () => {
    // Students all close to one direction: their partial correlations are large.
    const K = 6, M = 2, N = 30, n = K + M;
    const rng = new Rng(3);
    const B = rng.fillNormal(new Float64Array(M * N), 4);
    const W = new Float64Array(K * N);
    for (let i = 0; i < K; i++) for (let j = 0; j < N; j++) W[i * N + j] = 4 * (B[j] + 0.05 * rng.normal());
    const X = new Float64Array(n * N);
    X.set(W, 0);
    X.set(B, K * N);
    const C = overlaps(X, n, X, n, N);
    const w = Float64Array.from({ length: n }, (_, a) => (a < K ? -1 : 1));
    expect(correlations(C, n, K).filter((r) => Math.abs(r) >= 0.5).length).toBeGreaterThan(10);
    const I = new I4Sums(n, K);
    I.C.set(C);
    I.w.set(w);
    const got = I.sums();
    const ref = tsSums(C, w, n, K);
    const scale = Math.max(...ref.map(Math.abs));
    for (let p = 0; p < ref.length; p++) expect(Math.abs(got[p] - ref[p])).toBeLessThanOrEqual(1e-13 * Math.max(Math.abs(ref[p]), 1e-3 * scale));
  });

  it("pair ranges [p0, p1) of the kernel equal the whole call bit for bit", () => {
    const K = 9, M = 4;
    const { C, w, n } = randomC(K, M, 5, 0.6);
    const kern = wasmKernels()!;
    const Cr = kern.allocResident(n * n + 8)!, wr = kern.allocResident(n + 8)!, S = kern.allocResident(i4ScratchLength(n))!;
    Cr.set(C);
    wr.set(w);
    const P = (K * (K + 1)) / 2;
    const whole = kern.allocResident(P)!;
    kern.i4Sums(n, K, 0, P, Cr, wr, S, whole);
    const part = kern.allocResident(P)!;
    for (const [p0, p1] of [[0, 1], [1, 9], [9, 10], [10, 31], [31, P], [17, 17]]) {
      kern.i4Sums(n, K, p0, p1, Cr, wr, S, part);
      expect(Array.from(part.subarray(0, p1 - p0))).toEqual(Array.from(whole.subarray(p0, p1)));
    }
    expect(() => kern.i4Sums(n, K, 3, P + 1, Cr, wr, S, part)).toThrow(/pair range/);
    const notResident = new Float64Array(n * n + 8);
    expect(() => kern.i4Sums(n, K, 0, 1, notResident, wr, S, part)).toThrow(/resident/);
  });

  it("chunk bounds depend on K only and cover every pair once", () => {
    for (const K of [1, 2, 7, 32, 100]) {
      const b = Array.from(i4ChunkBounds(K));
      expect(b[0]).toBe(0);
      expect(b[b.length - 1]).toBe((K * (K + 1)) / 2);
      for (let c = 0; c + 1 < b.length; c++) expect(b[c + 1]).toBeGreaterThan(b[c]);
      expect(b.length - 1).toBeLessThanOrEqual(32);
    }
  });
});

describe("η² pair sums on threads: bit-identical for 1, 2 and 3 threads", () => {
  const K = 24, M = 20, N = 200;
  const { B, W } = teacherStudentInit({ N, K, M, initScale: 0.3, seed: 4 });
  const params: TeacherStudentParams = { K, M, lr: 0.5, trainSecondLayer: true, noise: 0.01, weightDecay: 0.001, A: new Float64Array(M).fill(1), T: overlaps(B, M, B, M, N) };
  const init = { Q: overlaps(W, K, W, K, N), R: overlaps(W, K, B, M, N), v: new Float64Array(K).fill(1) };

  it("RHS (SIMD and TS backends)", async () => {
    for (const backend of ["wasm-simd", "ts"] as const) {
      const prev = setI4Backend(backend);
      try {
        const res: Float64Array[] = [];
        for (const threads of [1, 2, 3]) {
          const ode = new SaadSollaOde(params, init.v, { threads });
          try {
            expect(ode.threads).toBe(threads);
            expect(ode.i4Backend).toBe(backend);
            await ode.ready();
            const y = ode.pack(init);
            const dy = new Float64Array(ode.dim);
            for (let rep = 0; rep < 3; rep++) ode.rhs(0, y, dy);
            // A second state: the per-thread copies must follow the caller's C.
            const y2 = y.map((v, j) => v * (1 + 1e-3 * Math.sin(j)));
            const dy2 = new Float64Array(ode.dim);
            ode.rhs(0, y2, dy2);
            res.push(Float64Array.from([...dy, ...dy2]));
          } finally {
            ode.close();
          }
        }
        expect(Array.from(res[1])).toEqual(Array.from(res[0]));
        expect(Array.from(res[2])).toEqual(Array.from(res[0]));
      } finally {
        setI4Backend(prev);
      }
    }
  });

  it("trajectory t = 0…3 (GBS rtol 1e-9, guarded)", async () => {
    const times = [0, 1, 2, 3];
    const runs: Awaited<ReturnType<typeof integrateTeacherStudent>>[] = [];
    for (const threads of [1, 2, 3]) runs.push(await integrateTeacherStudent(params, init, { times, rtol: 1e-9, atol: 1e-12, threads }));
    expect(runs[0].status).toBe("done");
    expect(runs[0].nRhs).toBeGreaterThan(50);
    for (const r of runs.slice(1)) {
      expect(r.nRhs).toBe(runs[0].nRhs);
      expect(r.eps).toEqual(runs[0].eps);
      r.states.forEach((s, j) => {
        expect(Array.from(s.Q)).toEqual(Array.from(runs[0].states[j].Q));
        expect(Array.from(s.R)).toEqual(Array.from(runs[0].states[j].R));
        expect(Array.from(s.v)).toEqual(Array.from(runs[0].states[j].v));
      });
    }
  });

  it("small problems stay in-thread (the dispatch would cost more than the work)", () => {
    const ode = new SaadSollaOde({ ...params, K: 3, M: 3, A: [1, 1, 1], T: [1, 0, 0, 0, 1, 0, 0, 0, 1] }, [1, 1, 1], { threads: 2 });
    expect(ode.threads).toBe(1);
    ode.close();
  });
});

describe("-j N reaches the teacher–student ODE (kinds ode and compare): same results", () => {
  it("kind ode, K = M = 20: threads 1 and 2 give identical runs", async () => {
    const model = odeExperiment.parse({ kind: "ode", mode: "teacher-student", seed: 2, time: { end: 2, points: 3, spacing: "linear" }, teacherStudent: { K: 20, M: 20, N: 200, lr: 0.5 } });
    const a = (await odeExperiment.run(model, { threads: 1 })) as OdeTeacherStudentResult;
    const b = (await odeExperiment.run(model, { threads: 2 })) as OdeTeacherStudentResult;
    expect(a.status).toBe("done");
    expect(b.run.nRhs).toBe(a.run.nRhs);
    expect(b.run.eps).toEqual(a.run.eps);
    b.run.states.forEach((st, j) => expect(Array.from(st.Q)).toEqual(Array.from(a.run.states[j].Q)));
  });

  it("kind compare, K = M = 20, two seeds (on the pool at -j 2): threads 1 and 2 give identical results", async () => {
    const model = compareExperiment.parse({
      kind: "compare", mode: "teacher-student", seed: 1,
      teacherStudent: { K: 20, M: 20, N: 100, initScale: 0.05, lr: 0.5, secondLayer: { mode: "fixed", value: 1 }, teacherSecondLayer: 1, noise: 0, weightDecay: 0, secondOrder: true },
      time: { end: 1, points: 2, spacing: "linear" }, solver: { rtol: 1e-9, atol: 1e-12 }, sgd: { seeds: 2 },
    });
    const a = JSON.stringify(stripWall(await compareExperiment.run(model, { threads: 1 })));
    const b = JSON.stringify(stripWall(await compareExperiment.run(model, { threads: 2 })));
    expect(b).toEqual(a);
    expect(a).toContain("eps");
  });
});

/** The result without its wall-clock timings (which differ between runs). */
function stripWall(x: unknown): unknown {
  return JSON.parse(JSON.stringify(x, (k, v) => (k === "timings" ? undefined : v)));
}
