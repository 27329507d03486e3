import { describe, expect, it } from "vitest";
import { integrateTeacherStudent, SaadSollaOde, type TeacherStudentParams } from "../src/theory/saad-solla.js";
import { overlaps, simulateTeacherStudent, teacherStudentInit, type TeacherStudentSimConfig } from "../src/sim/teacher-student.js";
import { I3At, I4At, I2 } from "../src/stats/gaussian-integrals.js";
import { meanSe } from "../src/stats/summary.js";

function eye(n: number): Float64Array {
  const I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  return I;
}

/** ODE parameters and initial state from the exact initial weights of an SGD configuration. */
function odeFromSim(cfg: TeacherStudentSimConfig, secondOrder = true) {
  const { B, W } = teacherStudentInit(cfg);
  const { N, K, M } = cfg;
  const T = overlaps(B, M, B, M, N);
  const params: TeacherStudentParams = {
    K, M, lr: cfg.lr, lrSecondLayer: cfg.lrSecondLayer, trainSecondLayer: cfg.trainSecondLayer, noise: cfg.noise,
    weightDecay: cfg.weightDecay, A: cfg.A, T, secondOrder,
  };
  const init = { Q: overlaps(W, K, W, K, N), R: overlaps(W, K, B, M, N), v: Float64Array.from(cfg.v0) };
  return { params, init };
}

describe("Saad–Solla ODE: closed-form checks", () => {
  it("ε(0) = (K+M)/6 for Q = I, R = 0, T = I, v = A = 1", () => {
    for (const [K, M] of [[2, 2], [3, 1], [4, 4]]) {
      const ode = new SaadSollaOde({ K, M, lr: 0.5, trainSecondLayer: false, noise: 0, weightDecay: 0, A: new Float64Array(M).fill(1), T: eye(M) }, new Float64Array(K).fill(1));
      const y = ode.pack({ Q: eye(K), R: new Float64Array(K * M), v: new Float64Array(K).fill(1) });
      expect(ode.error(y)).toBeCloseTo((K + M) / 6, 14);
    }
  });

  it("the perfect student (W = B, v = A) is a fixed point, including the η² terms and the v equation", () => {
    const K = 3, T = Float64Array.from([1.1, 0.2, -0.1, 0.2, 0.9, 0.3, -0.1, 0.3, 1.3]);
    const A = [0.7, -1.2, 0.4];
    const ode = new SaadSollaOde({ K, M: K, lr: 0.8, trainSecondLayer: true, noise: 0, weightDecay: 0, A, T }, A);
    const y = ode.pack({ Q: T, R: T, v: Float64Array.from(A) });
    const dy = new Float64Array(ode.dim);
    ode.rhs(0, y, dy);
    for (const d of dy) expect(Math.abs(d)).toBeLessThan(1e-14);
    expect(ode.error(y)).toBeLessThan(1e-15);
  });

  it("the RHS equals the defining sums of I2, I3 and I4 evaluated term by term", () => {
    const K = 2, M = 2, eta = 0.7, sig2 = 0.05, kappa = 0.02, etaV = 0.3;
    const Q = [1.2, 0.3, 0.3, 0.8], R = [0.4, -0.1, 0.2, 0.5], T = [1, 0.1, 0.1, 0.9], v = [0.6, 1.1], A = [1, 0.8];
    const ode = new SaadSollaOde({ K, M, lr: eta, lrSecondLayer: etaV, trainSecondLayer: true, noise: sig2, weightDecay: kappa, A, T }, v);
    const y = ode.pack({ Q: Float64Array.from(Q), R: Float64Array.from(R), v: Float64Array.from(v) });
    const dy = new Float64Array(ode.dim);
    ode.rhs(0, y, dy);
    const n = K + M;
    const C = new Float64Array(n * n);
    for (let i = 0; i < K; i++) for (let k = 0; k < K; k++) C[i * n + k] = Q[i * K + k];
    for (let i = 0; i < K; i++) for (let m = 0; m < M; m++) C[i * n + K + m] = C[(K + m) * n + i] = R[i * M + m];
    for (let a = 0; a < M; a++) for (let b = 0; b < M; b++) C[(K + a) * n + K + b] = T[a * M + b];
    const w = [-v[0], -v[1], A[0], A[1]];
    const S = (i: number, a: number) => w.reduce((s, wb, b) => s + wb * I3At(C, n, i, a, b), 0);
    const dR = (i: number, m: number) => eta * v[i] * S(i, K + m) - eta * kappa * R[i * M + m];
    const dQ = (i: number, k: number) => {
      let s4 = 0;
      for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) s4 += w[a] * w[b] * I4At(C, n, i, k, a, b);
      const j2 = (2 / Math.PI) / Math.sqrt((1 + C[i * n + i]) * (1 + C[k * n + k]) - C[i * n + k] ** 2);
      return eta * (v[i] * S(i, k) + v[k] * S(k, i)) - 2 * eta * kappa * Q[i * K + k] + eta * eta * v[i] * v[k] * (s4 + sig2 * j2);
    };
    const dv = (i: number) => etaV * w.reduce((s, wb, b) => s + wb * I2(C[i * n + i], C[b * n + b], C[i * n + b]), 0);
    const expected = [dR(0, 0), dR(0, 1), dR(1, 0), dR(1, 1), dQ(0, 0), dQ(0, 1), dQ(1, 1), dv(0), dv(1)];
    for (let j = 0; j < expected.length; j++) expect(dy[j]).toBeCloseTo(expected[j], 13);
  });
});

describe("Saad–Solla ODE: the plateau is the unstable symmetric fixed point", () => {
  it("a permutation-symmetric start never escapes; a slightly asymmetric one plateaus at the same ε, then escapes", async () => {
    const params: TeacherStudentParams = { K: 2, M: 2, lr: 0.5, trainSecondLayer: false, noise: 0, weightDecay: 0, A: [1, 1], T: eye(2) };
    const times = [0, 50, 100, 200, 500, 1000, 3000];
    const Q = Float64Array.from([0.0025, 0, 0, 0.0025]), v = Float64Array.from([1, 1]);
    const sym = await integrateTeacherStudent(params, { Q, R: Float64Array.from([1e-3, 1e-3, 1e-3, 1e-3]), v }, { times });
    const level = sym.eps[1];
    for (let j = 1; j < times.length; j++) expect(Math.abs(sym.eps[j] / level - 1)).toBeLessThan(5e-3);
    const Rs = sym.states[times.length - 1].R;
    expect(Math.abs(Rs[0] - Rs[1])).toBeLessThan(1e-10); // unspecialised: each student overlaps both teachers equally
    const asym = await integrateTeacherStudent(params, { Q, R: Float64Array.from([1.2e-3, 1e-3, 1e-3, 1.2e-3]), v }, { times });
    expect(Math.abs(asym.eps[1] / level - 1)).toBeLessThan(0.01);
    expect(Math.abs(asym.eps[2] / level - 1)).toBeLessThan(0.01);
    expect(asym.eps[times.length - 1]).toBeLessThan(1e-12);
    // Perfect student reached to double precision: ε(500) ≈ 1.3e-7, then ε ≤ 1e-13 at t ≈ 800–860
    // (dop853 and gbs at rtol 1e-9 … 1e-13; GBS with the default atol 1e-11: ≈ 1800) — down there ε
    // is at the rounding floor of Q + T − 2R, so the exact time is noise.
    expect(asym.status).toBe("event");
    expect(asym.message).toMatch(/^converged/);
    expect(asym.tConverged).toBeGreaterThan(500);
    expect(asym.eps[4]).toBeGreaterThan(1e-8);
    expect(asym.t).toEqual(times);
    // ε on the plateau is the value of the symmetric fixed point: 0.01464 for K = M = 2, η = 0.5.
    expect(level).toBeGreaterThan(0.0140);
    expect(level).toBeLessThan(0.0153);
  });
});

describe("Saad–Solla ODE vs online SGD", () => {
  it("K = M = 2 symmetric plateau: ODE and SGD (N = 500, 4 seeds) show the same plateau and escape", async () => {
    const times = [0, 5, 10, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 250, 300];
    const base: Omit<TeacherStudentSimConfig, "seed"> = {
      N: 500, K: 2, M: 2, lr: 0.5, trainSecondLayer: false, noise: 0, weightDecay: 0, A: [1, 1], v0: [1, 1], initScale: 0.05, times,
    };
    const seeds = [1, 2, 3, 4];
    const diffs: number[][] = times.map(() => []);
    const odeEps: number[][] = [];
    const sgdEps: number[][] = [];
    for (const seed of seeds) {
      const cfg = { ...base, seed };
      const { params, init } = odeFromSim(cfg);
      const ode = await integrateTeacherStudent(params, init, { times });
      const sim = await simulateTeacherStudent(cfg);
      expect(sim.status).toBe("done");
      odeEps.push(ode.eps);
      sgdEps.push(sim.eps);
      times.forEach((_, j) => diffs[j].push(sim.eps[j] - ode.eps[j]));
    }
    // The plateau: the ODE error is flat (±5 %) over t ∈ [20, 100] at a level well above 0 and well
    // below the initial error, then escapes to < 1 % of the plateau by t = 300.
    for (const e of odeEps) {
      const plateau = e[times.indexOf(40)];
      expect(plateau).toBeGreaterThan(0.01);
      expect(plateau).toBeLessThan(0.3 * e[0]);
      for (const t of [20, 60, 80, 100]) expect(Math.abs(e[times.indexOf(t)] / plateau - 1)).toBeLessThan(0.05);
      expect(e[times.length - 1]).toBeLessThan(0.01 * plateau);
    }
    // SGD shows the same plateau level (per seed, within 10 % on t ∈ [20, 80]) and also escapes.
    for (let s = 0; s < seeds.length; s++) {
      for (const t of [20, 40, 60, 80]) {
        const j = times.indexOf(t);
        expect(Math.abs(sgdEps[s][j] / odeEps[s][j] - 1)).toBeLessThan(0.1);
      }
      expect(sgdEps[s][times.length - 1]).toBeLessThan(0.05 * sgdEps[s][times.indexOf(40)]);
    }
    // Seed-averaged SGD − ODE difference is consistent with zero within 4 standard errors (with an
    // absolute floor of 1e-4 where both are converged and the SE collapses).
    for (let j = 1; j < times.length; j++) {
      const { mean, se } = meanSe(diffs[j]);
      expect(Math.abs(mean)).toBeLessThan(4 * se + 2e-4);
    }
  });

  it("trained second layer, output noise, weight decay and the η² terms (K = 2, M = 1, η = 1.2)", async () => {
    const times = [0, 1, 2, 4, 8, 12];
    const base: Omit<TeacherStudentSimConfig, "seed"> = {
      N: 500, K: 2, M: 1, lr: 1.2, lrSecondLayer: 0.8, trainSecondLayer: true, noise: 0.09, weightDecay: 0.05, A: [1.5], v0: [0.3, -0.2], initScale: 0.5, times,
    };
    const seeds = [11, 12, 13, 14, 15, 16];
    const dQ: number[][] = times.map(() => []), dQ1: number[][] = times.map(() => []), dv: number[][] = times.map(() => []);
    const dR: number[][] = times.map(() => []);
    for (const seed of seeds) {
      const cfg = { ...base, seed };
      const { params, init } = odeFromSim(cfg);
      const ode = await integrateTeacherStudent(params, init, { times });
      const first = await integrateTeacherStudent({ ...params, secondOrder: false }, init, { times });
      const sim = await simulateTeacherStudent(cfg);
      times.forEach((_, j) => {
        dQ[j].push(sim.states[j].Q[0] - ode.states[j].Q[0]);
        dQ1[j].push(sim.states[j].Q[0] - first.states[j].Q[0]);
        dR[j].push(sim.states[j].R[1] - ode.states[j].R[1]);
        dv[j].push(sim.states[j].v[0] - ode.states[j].v[0]);
      });
    }
    let firstOrderWorst = 0;
    for (let j = 1; j < times.length; j++) {
      for (const d of [dQ[j], dR[j], dv[j]]) {
        const { mean, se } = meanSe(d);
        expect(Math.abs(mean)).toBeLessThan(4 * se + 2e-3);
      }
      const m1 = meanSe(dQ1[j]);
      firstOrderWorst = Math.max(firstOrderWorst, Math.abs(m1.mean) / (m1.se + 1e-12));
    }
    // Without the η² terms the ODE misses SGD's Q_11 by many standard errors: the terms matter here.
    expect(firstOrderWorst).toBeGreaterThan(10);
  });
});

describe("rfdyn ode / compare (teacher-student mode)", () => {
  it("bad model fields give one-line UserErrors naming the field", async () => {
    const { parseOdeModel, parseCompareModel } = await import("../src/schema/ode.js");
    const base = { kind: "ode", mode: "teacher-student", teacherStudent: { K: 2, M: 2, lr: 0.5 }, time: { end: 10 } };
    expect(() => parseOdeModel({ ...base, teacherStudent: { K: 2, M: 2, lr: -1 } })).toThrow(/^model\.teacherStudent\.lr: must be > 0 \(got -1\)$/);
    expect(() => parseOdeModel({ ...base, teacherStudent: { K: 2, M: 2, lr: 0.5, secondLayer: { value: [1, 2, 3] } } })).toThrow(/model\.teacherStudent\.secondLayer\.value: must be a number or an array of length 2/);
    expect(() => parseOdeModel({ ...base, time: { end: 0 } })).toThrow(/model\.time\.end: must be > 0/);
    expect(() => parseCompareModel({ ...base, kind: "compare", sgd: { seeds: 1 } })).toThrow(/model\.sgd\.seeds: must be ≥ 2/);
    const parsed = parseOdeModel(base);
    expect(parsed.mode === "teacher-student" && parsed.teacherStudent.N).toBe(1000);
  });

  it("runs end to end and writes result.json, CSV tables and plots", async () => {
    const { mkdtempSync, readFileSync, existsSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { odeExperiment } = await import("../src/experiments/ode.js");
    const { compareExperiment } = await import("../src/experiments/compare.js");
    const { writeOdeResult } = await import("../src/io/results/ode.js");
    const { writeCompareResult } = await import("../src/io/results/compare.js");
    const out = mkdtempSync(join(tmpdir(), "rfdyn-ode-"));
    const model = { kind: "ode", mode: "teacher-student", seed: 3, teacherStudent: { K: 2, M: 1, N: 200, lr: 0.5, initScale: 0.5 }, time: { end: 20, points: 11, spacing: "linear" } };
    const odeRes = await odeExperiment.run(odeExperiment.parse(model));
    expect(odeRes.summary.eps).toBeLessThan(0.05);
    await writeOdeResult(out, odeRes);
    const res = JSON.parse(readFileSync(join(out, "result.json"), "utf8"));
    expect(res.status).toBe("done");
    expect(res.final.eps).toBeLessThan(0.05);
    expect(readFileSync(join(out, "ode.csv"), "utf8").split("\n")[0]).toBe("t,eps,Q_00,Q_01,Q_11,R_00,R_10,v_0,v_1");
    expect(existsSync(join(out, "eps.svg"))).toBe(true);
    const out2 = mkdtempSync(join(tmpdir(), "rfdyn-cmp-"));
    const phases = new Set<string>();
    const cmpRes = await compareExperiment.run(compareExperiment.parse({ ...model, kind: "compare", sgd: { seeds: 3 } }), { onProgress: (e) => e.phase && phases.add(e.phase.split(" ").slice(0, 3).join(" ")) });
    expect(cmpRes.status).toBe("done");
    expect(cmpRes.summary.seeds).toBe(3);
    expect(Number.isFinite(cmpRes.summary.ode_eps) && Number.isFinite(cmpRes.summary.zpaired_eps)).toBe(true);
    expect(phases.has("seed 3/3 SGD")).toBe(true);
    await writeCompareResult(out2, cmpRes);
    const cmp = JSON.parse(readFileSync(join(out2, "result.json"), "utf8"));
    expect(cmp.seeds).toBe(3);
    // (the statistical agreement itself is tested above with more seeds; here: the scores exist)
    expect(Number.isFinite(cmp.summary.eps.zPaired.maxAbsZ)).toBe(true);
    const lines = readFileSync(join(out2, "compare.csv"), "utf8").trim().split("\n");
    expect(lines.length).toBe(12);
    expect(lines[0]).toContain("zpaired_eps");
  });
});

describe("teacher–student simulator and ODE: seeds and interruption", () => {
  it("the same seed gives bit-identical SGD runs; different seeds differ", async () => {
    const cfg: TeacherStudentSimConfig = { N: 100, K: 2, M: 2, lr: 0.5, trainSecondLayer: true, noise: 0.01, weightDecay: 0.01, A: [1, 1], v0: [0.5, 0.5], initScale: 0.3, times: [0, 1, 2], seed: 7 };
    const a = await simulateTeacherStudent(cfg), b = await simulateTeacherStudent(cfg), c = await simulateTeacherStudent({ ...cfg, seed: 8 });
    expect(a.eps).toEqual(b.eps);
    expect(Array.from(a.states[2].Q)).toEqual(Array.from(b.states[2].Q));
    expect(a.eps[2]).not.toBe(c.eps[2]);
  });

  it("an aborted signal stops the ODE with status interrupted and the SGD with its partial state", async () => {
    const ac = new AbortController();
    ac.abort();
    const params: TeacherStudentParams = { K: 2, M: 2, lr: 0.5, trainSecondLayer: false, noise: 0, weightDecay: 0, A: [1, 1], T: eye(2) };
    const run = await integrateTeacherStudent(params, { Q: eye(2), R: new Float64Array(4), v: Float64Array.from([1, 1]) }, { times: [0, 10, 20] }, { signal: ac.signal });
    expect(run.status).toBe("interrupted");
    expect(run.t[run.t.length - 1]).toBeLessThan(20);
    const sim = await simulateTeacherStudent({ N: 100, K: 2, M: 2, lr: 0.5, trainSecondLayer: false, noise: 0, weightDecay: 0, A: [1, 1], v0: [1, 1], initScale: 0.3, times: [0, 100], seed: 1 }, { signal: ac.signal });
    expect(sim.status).toBe("interrupted");
    expect(sim.t[sim.t.length - 1]).toBeLessThan(100);
  });
});
