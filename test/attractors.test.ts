import { beforeAll, describe, expect, it } from "vitest";
import { classifyJacobian, denseFromOperator, newtonFixedPoint, numericalJacobian } from "../src/analysis/stability.js";
import { cpFlowJacobian, cpFlowVector, type CpFlowSystem } from "../src/analysis/cp-flow.js";
import { makeCPTensor } from "../src/stats/cp-tensor.js";
import { factorFixedPoints, factorOverlaps, runAttractors } from "../src/cp/attractors.js";
import { buildSingleNeuronFlow, denseCovariance, type FlowClass } from "../src/theory/single-neuron.js";
import { closedFormCoefficients, deriveFlowCoefficients, type FlowCoefficients } from "../src/theory/coefficients.js";
import { Rng } from "../src/stats/rng.js";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpExperiment } from "../src/experiments/cp.js";
import { attractorsExperiment } from "../src/experiments/attractors.js";
import { writeCpResult } from "../src/io/results/cp.js";
import { writeAttractorsResult } from "../src/io/results/attractors.js";
import { resolveModelFiles } from "../src/io/model-files.js";
import { readNpy } from "../src/io/npy.js";

let coef2: FlowCoefficients; // two classes, y = ∓1
let coef1: FlowCoefficients; // one class, y = +1
beforeAll(async () => {
  coef2 = await deriveFlowCoefficients({ v: 1, b: -1, labels: [-1, 1] });
  coef1 = await deriveFlowCoefficients({ v: 1, b: -1, labels: [1] });
});

function randomSpd(D: number, rng: Rng): Float64Array {
  const A = new Float64Array(D * D);
  for (let k = 0; k < A.length; k++) A[k] = rng.normal() / Math.sqrt(D);
  const C = new Float64Array(D * D);
  for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) {
    let s = i === j ? 0.5 : 0;
    for (let k = 0; k < D; k++) s += A[i * D + k] * A[j * D + k];
    C[i * D + j] = s;
  }
  return C;
}

/** Localised unit bump centred at c with width w on a ring of D sites, cut off beyond distance 3. */
function bump(D: number, c: number, w: number): Float64Array {
  const u = new Float64Array(D);
  let s = 0;
  for (let i = 0; i < D; i++) {
    const d = Math.min(Math.abs(i - c), D - Math.abs(i - c));
    u[i] = d <= 3 ? Math.exp(-((d / w) ** 2)) : 0;
    s += u[i] ** 2;
  }
  for (let i = 0; i < D; i++) u[i] /= Math.sqrt(s);
  return u;
}

function identity(D: number): Float64Array {
  const I = new Float64Array(D * D);
  for (let i = 0; i < D; i++) I[i * D + i] = 1;
  return I;
}

describe("cp-flow Jacobian", () => {
  it("closed-form coefficients are what the flow uses (b = −1, v = 1)", () => {
    for (const [mu, y] of [-1, 1].entries()) {
      const cf = closedFormCoefficients(1, -1, y);
      expect(coef2.c2[mu]).toBeCloseTo(cf.c2, 12);
      expect(coef2.c4).toBeCloseTo(cf.c4, 12);
    }
  });

  it("our f(w) equals the flow module's cp RHS, and the analytic Jacobian matches finite differences of it", () => {
    const D = 9, rng = new Rng(5);
    const C0 = randomSpd(D, rng), C1 = randomSpd(D, rng);
    const r = 3;
    const U = new Float64Array(r * D);
    for (let k = 0; k < U.length; k++) U[k] = rng.normal() / Math.sqrt(D);
    const cp = makeCPTensor([-1.3, 0.7, -0.4], U, D);
    const classes: FlowClass[] = [
      { label: -1, weight: 0.4, cov: denseCovariance(C0, D) },
      { label: 1, weight: 0.6, cov: denseCovariance(C1, D), cp },
    ];
    const flow = buildSingleNeuronFlow({ variant: "cp", D, v: 1, b: -1, classes }, coef2);
    const sys: CpFlowSystem = {
      D, c4: coef2.c4,
      classes: [
        { weight: 0.4, c2: coef2.c2[0], C: denseFromOperator((x, o) => classes[0].cov !== "sample" && classes[0].cov!.apply(x, o), D) },
        { weight: 0.6, c2: coef2.c2[1], C: C1, cp },
      ],
    };
    const f = (w: Float64Array, out: Float64Array) => flow.rhs(0, w, out);
    for (let s = 0; s < 3; s++) {
      const w = new Float64Array(D);
      for (let i = 0; i < D; i++) w[i] = 0.7 * rng.normal();
      const a = new Float64Array(D), b = new Float64Array(D);
      f(w, a);
      cpFlowVector(sys, w, b);
      for (let i = 0; i < D; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-13 * (1 + Math.abs(a[i])));
      const J = cpFlowJacobian(sys, w), Jn = numericalJacobian(f, w, 1e-5);
      let err = 0, mx = 0;
      for (let k = 0; k < D * D; k++) { err = Math.max(err, Math.abs(J[k] - Jn[k])); mx = Math.max(mx, Math.abs(J[k])); }
      expect(err / mx).toBeLessThan(1e-8);
      // symmetric
      for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) expect(Math.abs(J[i * D + j] - J[j * D + i])).toBeLessThan(1e-13 * mx);
    }
  });

  it("gaussian variant: Jacobian of the flow without factors matches finite differences", () => {
    const D = 7, rng = new Rng(9);
    const C0 = randomSpd(D, rng), C1 = randomSpd(D, rng);
    const classes: FlowClass[] = [
      { label: -1, weight: 0.5, cov: denseCovariance(C0, D) },
      { label: 1, weight: 0.5, cov: denseCovariance(C1, D) },
    ];
    const flow = buildSingleNeuronFlow({ variant: "gaussian", D, v: 1, b: -1, classes }, coef2);
    const sys: CpFlowSystem = { D, c4: coef2.c4, classes: [{ weight: 0.5, c2: coef2.c2[0], C: C0 }, { weight: 0.5, c2: coef2.c2[1], C: C1 }] };
    const w = Float64Array.from({ length: D }, () => rng.normal());
    const J = cpFlowJacobian(sys, w), Jn = numericalJacobian((x, o) => flow.rhs(0, x, o), w, 1e-5);
    let err = 0, mx = 0;
    for (let k = 0; k < D * D; k++) { err = Math.max(err, Math.abs(J[k] - Jn[k])); mx = Math.max(mx, Math.abs(J[k])); }
    expect(err / mx).toBeLessThan(1e-8);
  });
});

describe("fixed points and their stability (closed forms, C = I, one class y = +1, b = −1)", () => {
  // f(w) = (c2 + 3c4|w|²) w + c4 Σ_a γ_a (u_a·w)³ u_a with c2 = 1.169 > 0, c4 = −0.106 < 0.
  // On w = s u (single factor γ): s² = −c2/(c4(3+γ)); eigenvalues −2c2 (along u) and
  // c2 γ/(3+γ) (D−1 times, ⊥ u): an attractor for −3 < γ < 0 (γ·c4 > 0), a saddle for γ > 0.
  const D = 16;
  const sysFor = (gammas: number[], us: Float64Array[]): CpFlowSystem => {
    const U = new Float64Array(us.length * D);
    us.forEach((u, a) => U.set(u, a * D));
    return { D, c4: coef1.c4, classes: [{ weight: 1, c2: coef1.c2[0], C: identity(D), cp: { weights: Float64Array.from(gammas), factors: U, r: us.length, D } }] };
  };

  for (const gamma of [-1.5, -0.4, 0.8, 2]) {
    it(`single localised factor, γ = ${gamma}: amplitude and eigenvalues match the closed form; ${gamma < 0 ? "attractor" : "saddle"}`, () => {
      const c2 = coef1.c2[0], c4 = coef1.c4;
      expect(c2).toBeGreaterThan(0);
      expect(c4).toBeLessThan(0);
      const u = bump(D, 5, 1.5);
      const sys = sysFor([gamma], [u]);
      const [ffp] = factorFixedPoints(sys, sys.classes[0].cp!);
      const s = Math.sqrt(-c2 / (c4 * (3 + gamma)));
      expect(Math.abs(ffp.amplitude - s)).toBeLessThan(1e-12 * s);
      const fp = ffp.fixedPoint!;
      expect(fp.newtonConverged).toBe(true);
      expect(Math.abs(fp.norm - s)).toBeLessThan(1e-10 * s);
      expect(Math.abs(fp.overlaps[0])).toBeGreaterThan(1 - 1e-12);
      const ev = fp.stability.eigenvalues;
      const perp = (c2 * gamma) / (3 + gamma), along = -2 * c2;
      const want = [...new Array(D - 1).fill(perp), along].sort((a, b) => b - a);
      for (let k = 0; k < D; k++) expect(Math.abs(ev[k] - want[k])).toBeLessThan(1e-10);
      expect(fp.kind).toBe(gamma < 0 ? "attractor" : "saddle");
      if (gamma > 0) expect(fp.stability.nPositive).toBe(D - 1);
    });
  }

  it("the symmetric mixture of two attracting factors is a saddle with one unstable direction u1 − u2", () => {
    const c2 = coef1.c2[0], c4 = coef1.c4, gamma = -1.5;
    const u1 = bump(D, 3, 1.2), u2 = bump(D, 11, 1.2); // disjoint supports: u1·u2 = 0
    const sys = sysFor([gamma, gamma], [u1, u2]);
    // w = s(u1 + u2), s² = −c2/(c4(6+γ)); unstable eigenvalue 2c4γs² along u1 − u2.
    const s = Math.sqrt(-c2 / (c4 * (6 + gamma)));
    const w0 = new Float64Array(D);
    for (let i = 0; i < D; i++) w0[i] = 1.05 * s * (u1[i] + u2[i]);
    const nr = newtonFixedPoint((x, o) => { cpFlowVector(sys, x, o); }, (x, J) => { cpFlowJacobian(sys, x, J); }, w0);
    expect(nr.converged).toBe(true);
    for (let i = 0; i < D; i++) expect(Math.abs(nr.w[i] - s * (u1[i] + u2[i]))).toBeLessThan(1e-10);
    const rep = classifyJacobian(cpFlowJacobian(sys, nr.w), D);
    expect(rep.kind).toBe("saddle");
    expect(rep.nPositive).toBe(1);
    expect(Math.abs(rep.eigenvalues[0] - 2 * c4 * gamma * s * s)).toBeLessThan(1e-10);
    // The pure factor states of the same system are attractors.
    for (const ff of factorFixedPoints(sys, sys.classes[0].cp!)) expect(ff.fixedPoint!.kind).toBe("attractor");
  });

  it("the origin is a repeller when c2 > 0 and an attractor when c2 < 0", () => {
    const u = bump(D, 5, 1.5);
    const up = sysFor([-1], [u]);
    expect(classifyJacobian(cpFlowJacobian(up, new Float64Array(D)), D).kind).toBe("repeller");
    const down: CpFlowSystem = { ...up, classes: [{ ...up.classes[0], c2: -0.3 }] };
    expect(classifyJacobian(cpFlowJacobian(down, new Float64Array(D)), D).kind).toBe("attractor");
  });
});

describe("attractor runs (integration with the flow module's cp RHS)", () => {
  it("noisy starts near each attracting factor end on it; basin table is diagonal; fixed points are attractors", async () => {
    const D = 16, gamma = -1.5;
    const u1 = bump(D, 3, 1.2), u2 = bump(D, 11, 1.2);
    const U = new Float64Array(2 * D);
    U.set(u1, 0);
    U.set(u2, D);
    const cp = makeCPTensor([gamma, gamma], U, D);
    const flow = buildSingleNeuronFlow({ variant: "cp", D, v: 1, b: -1, classes: [{ label: 1, weight: 1, cov: denseCovariance(identity(D), D), cp }] }, coef1);
    const sys: CpFlowSystem = { D, c4: coef1.c4, classes: [{ weight: 1, c2: coef1.c2[0], C: identity(D), cp }] };
    const opts = { starts: [0, 1], seeds: 3, sigma: 0.15, seed: 4, T: 200, count: 30, steadyTol: 1e-10 };
    const res = await runAttractors(flow, sys, cp, opts);
    expect(res.status).toBe("done");
    // Bit-reproducible for a seed.
    const again = await runAttractors(flow, sys, cp, opts);
    expect(Array.from(again.runs[4].overlaps)).toEqual(Array.from(res.runs[4].overlaps));
    expect(res.basin).toEqual([[3, 0, 0], [0, 3, 0]]);
    // Two distinct fixed points (±u1 and ±u2 are identified), both attractors.
    expect(res.fixedPoints.length).toBe(2);
    for (const fp of res.fixedPoints) {
      expect(fp.kind).toBe("attractor");
      expect(Math.abs(fp.overlaps[fp.factor])).toBeGreaterThan(1 - 1e-10);
    }
    // Overlap trajectories: m at t = 0 equals the overlap of w0, and grows to ≈ 1.
    for (const run of res.runs) {
      const m0 = factorOverlaps(run.w0, cp);
      expect(run.overlaps[run.start]).toBeCloseTo(m0[run.start], 12);
      expect(Math.abs(run.overlaps[(run.t.length - 1) * 2 + run.start])).toBeGreaterThan(0.999);
    }
    // An aborted signal stops before the first run; progress is reported in runs.
    const ac = new AbortController();
    ac.abort();
    const stopped = await runAttractors(flow, sys, cp, opts, { signal: ac.signal });
    expect(stopped.status).toBe("interrupted");
    expect(stopped.runs.length).toBe(0);
    const fractions: number[] = [];
    await runAttractors(flow, sys, cp, { ...opts, seeds: 1 }, { onProgress: (e) => fractions.push(e.done / e.total) });
    expect(fractions.length).toBeGreaterThan(0);
    expect(Math.max(...fractions)).toBeLessThanOrEqual(1);
  });
});


describe("end to end: cp experiment → factors.npy/gamma.npy → attractors experiment (npy source)", () => {
  it("writes flow-compatible factor files and an attractor analysis that reads them back", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rfdyn-cp-"));
    try {
      const cpModel = {
        kind: "cp", seed: 4, data: { geometry: { dim: 1, L: 18 }, class: { kind: "nlgp", xi: 2, gain: 3 }, alpha: 60 },
        decomposition: { rank: 4, restarts: 2 },
      };
      await writeCpResult(join(dir, "cp"), await cpExperiment.run(cpExperiment.parse(cpModel)));
      const U = readNpy(join(dir, "cp", "factors.npy")), g = readNpy(join(dir, "cp", "gamma.npy"));
      expect(U.shape).toEqual([4, 18]);
      expect(g.shape).toEqual([4]);
      const res = JSON.parse(readFileSync(join(dir, "cp", "result.json"), "utf8"));
      expect(res.status).toBe("done");
      expect(res.gamma).toEqual(Array.from(g.data));
      expect(res.summary.relErrorMethod).toBe("explicit");
      for (let a = 0; a < 4; a++) {
        let s = 0;
        for (let i = 0; i < 18; i++) s += U.data[a * 18 + i] ** 2;
        expect(Math.abs(s - 1)).toBeLessThan(1e-12);
      }
      const attr = {
        kind: "attractors", seed: 1,
        task: { geometry: { dim: 1, L: 18 }, classes: [{ kind: "nlgp", xi: 0, gain: 3 }, { kind: "nlgp", xi: 2, gain: 3 }] },
        cp: { classes: [null, { npy: { U: join(dir, "cp", "factors.npy"), gamma: join(dir, "cp", "gamma.npy") } }] },
        starts: { factors: [1], seeds: 3, sigma: 0.1 }, integration: { T: 500, times: 20, steadyTol: 1e-9 },
      };
      writeFileSync(join(dir, "attr.json"), JSON.stringify(attr));
      const resolved = resolveModelFiles(attr, dir);
      expect((resolved.cp as { classes: unknown[] }).classes[1]).toHaveProperty("inline");
      const result = await attractorsExperiment.run(attractorsExperiment.parse(resolved));
      expect(result.status).toBe("done");
      expect(result.summary.runs).toBe(3);
      await writeAttractorsResult(join(dir, "attr"), result);
      const ar = JSON.parse(readFileSync(join(dir, "attr", "result.json"), "utf8"));
      expect(ar.status).toBe("done");
      expect(ar.message).toBe(result.message);
      expect(ar.cp[1]).toMatchObject({ class: 1, source: "npy", U: join(dir, "cp", "factors.npy"), gamma: join(dir, "cp", "gamma.npy"), r: 4 });
      expect(ar.summary.runs).toBe(3);
      // The factors used are exactly the ones written by `rfdyn cp`.
      expect(Array.from(readNpy(join(dir, "attr", "cp", "class1", "factors.npy")).data)).toEqual(Array.from(U.data));
      const basin = readFileSync(join(dir, "attr", "basin.csv"), "utf8").trim().split("\n");
      expect(basin[0]).toBe("start,u1,u2,u3,u4,none");
      const counts = basin[1].split(",").slice(1).map(Number);
      expect(counts.reduce((x, y) => x + y, 0)).toBe(3);
      for (const fp of ar.summary.fixedPoints) expect(["attractor", "saddle", "repeller", "marginal"]).toContain(fp.kind);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
