/**
 * The implicit solvers behind `solve`: "rodas" (Rosenbrock, order 4, src/integrate/rodas.ts) and
 * "bdf" (variable-order NDF 1–5, src/integrate/bdf.ts), with their dense LU (linalg.ts).
 *
 * What is checked, and against what:
 *  - Robertson's chemical kinetics (Hairer & Wanner II, Sect. IV.1) to t = 1e11: y(40) against the
 *    classical reference [0.7158270687, 9.185534764e-6, 0.2841637457] and y(1e11) against the IVP
 *    test set (Mazzia & Magherini, Bari) reference, mass conservation y1 + y2 + y3 = 1.
 *  - Van der Pol, μ = 1000 in Hairer's scaled form (ε = 1/μ² = 1e-6, y0 = (2, 0), t ∈ [0, 2]) against
 *    the test-set reference y(2) = (1.706167732170483, −0.8928097010248125).
 *  - Order: Rodas with fixed steps (hMax = h0 = h, tolerances that accept every step) on a
 *    non-autonomous nonlinear problem with a closed form (y' = −2ty², z' = z(1 − z)): global error
 *    ratio for h → h/2 is 2⁴ (observed order in [3.7, 4.3]); bdf's global error shrinks with rtol.
 *  - Dense output (saveat between steps) against the closed form at 200 interior times.
 *  - LU with partial pivoting against a residual, with a zero leading pivot.
 *  - Checkpoint / resume (solve and solveAsync, state through the file encoding) bit-identical to an
 *    uninterrupted run; solveAsync pausing at every step equals solve bit for bit.
 *  - Retcodes: finite-time blow-up (y' = y²) fails with unstable / dtmin / maxiters at t < 1,
 *    maxSteps → "maxiters", steady state and events stop after all earlier outputs.
 *  - stats.nJac counts calls of the analytic Jacobian; FD Jacobians add n RHS each.
 */
import { describe, expect, it } from "vitest";
import { solve, solveAsync, type Jac, type OdeProblem, type Rhs, type SolveOptions } from "../src/integrate/index.js";
import { luFactor, luSolve } from "../src/integrate/linalg.js";
import { expectSameSolution, resumedTwice } from "./fixtures/solutions.js";
import { Rng } from "../src/stats/rng.js";

const rober: Rhs = (_t, y, dy) => {
  dy[0] = -0.04 * y[0] + 1e4 * y[1] * y[2];
  dy[2] = 3e7 * y[1] * y[1];
  dy[1] = -dy[0] - dy[2];
};
const roberJ: Jac = (_t, y, J) => {
  J[0] = -0.04; J[1] = 1e4 * y[2]; J[2] = 1e4 * y[1];
  J[3] = 0.04; J[4] = -1e4 * y[2] - 6e7 * y[1]; J[5] = -1e4 * y[1];
  J[6] = 0; J[7] = 6e7 * y[1]; J[8] = 0;
};
const R40 = [0.7158270687, 9.185534764e-6, 0.2841637457];
const R1E11 = [0.2083340149701255e-7, 0.8333360770334713e-13, 0.9999999791665050];

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe("Robertson (stiff chemical kinetics) to t = 1e11", () => {
  const cases: ["rodas" | "bdf", boolean, number][] = [
    ["rodas", true, 1e-5],
    ["rodas", false, 1e-5],
    ["bdf", true, 1e-5],
    ["bdf", false, 1e-5],
  ];
  for (const [method, withJac, tol] of cases) {
    it(`${method}, ${withJac ? "analytic" : "finite-difference"} Jacobian`, () => {
      let calls = 0;
      const jac: Jac | undefined = withJac ? (t, y, J) => { calls++; roberJ(t, y, J); } : undefined;
      const s = solve({ rhs: rober, jac, autonomous: true, y0: [1, 0, 0], tspan: [0, 1e11], saveat: [0, 40, 1e11] }, method, { rtol: 1e-8, atol: 1e-14 });
      expect(s.retcode).toBe("success");
      expect(s.t).toEqual([0, 40, 1e11]);
      for (let i = 0; i < 3; i++) expect(rel(s.y[1][i], R40[i])).toBeLessThan(tol);
      // y2(1e11) ≈ 8e-14 is below atol-level accuracy in relative terms: 1e-3 relative there.
      for (let i = 0; i < 3; i++) expect(rel(s.y[2][i], R1E11[i])).toBeLessThan(i === 1 ? 1e-3 : 5e-5);
      for (const y of s.y) expect(Math.abs(y[0] + y[1] + y[2] - 1)).toBeLessThan(1e-12);
      expect(s.stats.nJac).toBeGreaterThan(0);
      if (withJac) expect(s.stats.nJac).toBe(calls);
      // Stiff: an explicit method would need ~1e11 / (2/ρ) steps; these need a few thousand at most.
      expect(s.stats.nSteps).toBeLessThan(5000);
    });
  }
});

describe("Van der Pol, μ = 1000 (ε = 1e-6 scaled form), y(2)", () => {
  const eps = 1e-6;
  const vdp: Rhs = (_t, y, dy) => { dy[0] = y[1]; dy[1] = ((1 - y[0] * y[0]) * y[1] - y[0]) / eps; };
  const vdpJ: Jac = (_t, y, J) => { J[0] = 0; J[1] = 1; J[2] = (-2 * y[0] * y[1] - 1) / eps; J[3] = (1 - y[0] * y[0]) / eps; };
  const ref = [1.706167732170483, -0.8928097010248125];
  for (const [method, jac, tol] of [["rodas", vdpJ, 2e-8], ["rodas", undefined, 2e-8], ["bdf", vdpJ, 1e-6], ["bdf", undefined, 1e-6]] as const) {
    it(`${method}, ${jac ? "analytic" : "FD"} Jacobian, rtol = atol = 1e-8 (error ≤ ${tol})`, () => {
      const s = solve({ rhs: vdp, jac, autonomous: true, y0: [2, 0], tspan: [0, 2] }, method, { rtol: 1e-8, atol: 1e-8 });
      expect(s.retcode).toBe("success");
      const y = s.y[s.y.length - 1];
      expect(Math.abs(y[0] - ref[0])).toBeLessThan(tol);
      expect(Math.abs(y[1] - ref[1])).toBeLessThan(tol);
    });
  }
});

/** y' = −2t y² (y = 1/(1 + t²)), z' = z(1 − z) (z = 1/(1 + 9e^{−t})). */
const closed: Rhs = (t, y, dy) => { dy[0] = -2 * t * y[0] * y[0]; dy[1] = y[1] * (1 - y[1]); };
const exact = (t: number) => [1 / (1 + t * t), 1 / (1 + 9 * Math.exp(-t))];
const errAt = (y: Float64Array, t: number) => Math.max(...exact(t).map((e, i) => Math.abs(y[i] - e)));

describe("convergence order and dense output on a non-stiff problem with a closed form", () => {
  it("rodas with fixed steps converges with order 4 (non-autonomous: exercises ∂f/∂t)", () => {
    const T = 1;
    const errs = [0.1, 0.05, 0.025, 0.0125].map((h) => {
      const s = solve({ rhs: closed, y0: exact(0), tspan: [0, T] }, "rodas", { rtol: 0.5, atol: 1e6, h0: h, hMax: h });
      expect(s.stats.nRejected).toBe(0);
      expect(s.stats.nSteps).toBe(Math.round(T / h));
      return errAt(s.y[1], T);
    });
    for (let k = 1; k < errs.length; k++) {
      const p = Math.log2(errs[k - 1] / errs[k]);
      expect(p).toBeGreaterThan(3.7);
      expect(p).toBeLessThan(4.3);
    }
  });

  it("declaring a non-autonomous problem autonomous is wrong (the ∂f/∂t term matters): order drops", () => {
    const run = (h: number) => errAt(solve({ rhs: closed, autonomous: true, y0: exact(0), tspan: [0, 1] }, "rodas", { rtol: 0.5, atol: 1e6, h0: h, hMax: h }).y[1], 1);
    expect(Math.log2(run(0.025) / run(0.0125))).toBeLessThan(3.5);
  });

  for (const method of ["rodas", "bdf"] as const) {
    it(`${method}: global error shrinks with rtol; interpolated outputs are as accurate as step ends`, () => {
      const times = Array.from({ length: 201 }, (_, k) => (5 * k) / 200);
      const errs = [1e-5, 1e-7, 1e-9].map((tol) => {
        const s = solve({ rhs: closed, y0: exact(0), tspan: [0, 5], saveat: times }, method, { rtol: tol, atol: tol });
        expect(s.retcode).toBe("success");
        expect(s.t).toEqual(times);
        // Far fewer steps than outputs at loose tolerance: outputs are interpolated, not stepped to.
        if (tol === 1e-5) expect(s.stats.nSteps).toBeLessThan(times.length);
        return Math.max(...s.y.map((y, k) => errAt(y, times[k])));
      });
      expect(errs[0]).toBeLessThan(1e-3);
      expect(errs[1]).toBeLessThan(errs[0] / 20);
      expect(errs[2]).toBeLessThan(errs[1] / 20);
      expect(errs[2]).toBeLessThan(1e-7);
    });
  }
});

describe("dense LU with partial pivoting", () => {
  it("solves random systems and one with a zero leading pivot to a residual ~1e-14", () => {
    const rng = Rng.stream(5, 0);
    for (const n of [1, 3, 17, 60]) {
      const A = new Float64Array(n * n);
      rng.fillNormal(A);
      if (n > 1) A[0] = 0;
      const b = new Float64Array(n);
      rng.fillNormal(b);
      const LU = A.slice(), piv = new Int32Array(n), x = b.slice();
      expect(luFactor(LU, n, piv)).toBe(true);
      luSolve(LU, n, piv, x);
      let r = 0;
      for (let i = 0; i < n; i++) {
        let s = -b[i];
        for (let j = 0; j < n; j++) s += A[i * n + j] * x[j];
        r = Math.max(r, Math.abs(s));
      }
      expect(r).toBeLessThan(1e-12 * n);
    }
  });
  it("reports a singular matrix", () => {
    const A = Float64Array.from([1, 2, 2, 4]);
    expect(luFactor(A, 2, new Int32Array(2))).toBe(false);
  });
});


describe("checkpoints and cooperative runs are bit-identical", () => {
  // Mildly stiff nonlinear ring (as in test/checkpoint.test.ts) with a steady state, FD Jacobian.
  const rhs: Rhs = (_t, y, dy) => {
    const n = y.length;
    for (let i = 0; i < n; i++) {
      const l = y[(i + n - 1) % n], r = y[(i + 1) % n];
      dy[i] = 20 * (l - 2 * y[i] + r) - y[i] * y[i] * y[i] + 0.3 * Math.sin(i);
    }
  };
  const y0 = Float64Array.from({ length: 12 }, (_, i) => Math.cos(0.7 * i) + 0.1 * i);
  const times = Array.from({ length: 25 }, (_, j) => (j * j) / 40);
  const problem: OdeProblem = { rhs, y0, tspan: [0, 16], saveat: times, autonomous: true, events: { steadyTol: 1e-9 } };
  const opts: SolveOptions = { rtol: 1e-7, atol: 1e-9 };

  for (const method of ["rodas", "bdf"] as const) {
    for (const async of [false, true]) {
      it(`${method}: resumed twice from checkpoints = uninterrupted (${async ? "solveAsync, via the file encoding" : "solve"})`, async () => {
        const ref = solve(problem, method, opts);
        expect(["success", "steady"]).toContain(ref.retcode);
        expect(ref.stats.nJac).toBeGreaterThan(0);
        expectSameSolution(await resumedTwice(problem, method, opts, async), ref);
      });
    }
    it(`${method}: solveAsync pausing at every step = solve`, async () => {
      const ref = solve(problem, method, opts);
      const a = await solveAsync(problem, method, { ...opts, pauseEveryMs: 0 });
      expectSameSolution(a, ref);
    });
  }
});

describe("retcodes and events", () => {
  for (const method of ["rodas", "bdf"] as const) {
    it(`${method}: finite-time blow-up y' = y² (y(t) = 1/(1 − t)) fails near t = 1 with the last good state`, () => {
      const s = solve({ rhs: (_t, y, dy) => { dy[0] = y[0] * y[0]; }, y0: [1], tspan: [0, 2], saveat: [0, 0.5, 2] }, method, { rtol: 1e-6, atol: 1e-9 });
      expect(["unstable", "dtmin", "maxiters"]).toContain(s.retcode);
      // (An L-stable Rosenbrock step may land just past the pole before the error control notices.)
      expect(s.tEnd).toBeLessThan(1.001);
      expect(s.tEnd).toBeGreaterThan(0.99);
      expect(Math.abs(s.y[1][0] - 2)).toBeLessThan(1e-4); // the output at 0.5 is there
      expect(Number.isFinite(s.y[s.y.length - 1][0])).toBe(true);
      expect(s.message).toMatch(/integration failed at t = /);
    });

    it(`${method}: maxSteps → "maxiters"; throwOnFailure throws`, () => {
      const p: OdeProblem = { rhs: rober, jac: roberJ, y0: [1, 0, 0], tspan: [0, 1e5] };
      const s = solve(p, method, { maxSteps: 5 });
      expect(s.retcode).toBe("maxiters");
      expect(() => solve(p, method, { maxSteps: 5, throwOnFailure: true })).toThrow(/maxSteps \(5\) exceeded/);
    });

    it(`${method}: events.stop stops at a step end after every earlier output; steady state`, () => {
      const decay: Rhs = (_t, y, dy) => { dy[0] = -y[0]; dy[1] = -100 * (y[1] - y[0]); };
      const times = Array.from({ length: 50 }, (_, k) => 0.2 * k);
      const s = solve({ rhs: decay, y0: [1, 0], tspan: [0, 9.8], saveat: times, events: { stop: (_t, y) => (y[0] < 0.1 ? "small" : false) } }, method, { rtol: 1e-8, atol: 1e-10 });
      expect(s.retcode).toBe("event");
      expect(s.reason).toBe("small");
      const tStop = s.t[s.t.length - 1];
      expect(tStop).toBeGreaterThan(Math.log(10));
      // Every output time before the stop is present, with accurate interpolated values.
      const before = times.filter((t) => t < tStop);
      expect(s.t.slice(0, before.length)).toEqual(before);
      for (let k = 0; k < before.length; k++) expect(Math.abs(s.y[k][0] - Math.exp(-before[k]))).toBeLessThan(1e-6);
      expect(s.y[s.y.length - 1][0]).toBeLessThan(0.1);
      const st = solve({ rhs: decay, y0: [1, 0], tspan: [0, 100], events: { steadyTol: 1e-6 } }, method, { rtol: 1e-8, atol: 1e-12 });
      expect(st.retcode).toBe("steady");
      expect(st.tEnd).toBeLessThan(20);
    });
  }
});
