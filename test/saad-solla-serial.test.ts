/**
 * The serial (non-pair-sum) part of the guarded Saad–Solla RHS and integrator, made cheaper without
 * changing a bit:
 *   - `errorRate` (each symmetric (i, k) term computed once) equals the previous loop, which computed
 *     all K² terms, bit for bit — trained and fixed second layer;
 *   - the guarded problem's RHS gives the same bits with dy in the kernels' memory (SIMD row sums, as
 *     under the GBS integrator) and in a plain array (TS row sums);
 *   - a K = M = 16 guarded run (≈ 4,800 components: the Float64Array GBS port with its SIMD loops) is
 *     bit-identical on the TS and the SIMD kernel backends: same RHS count, same states.
 */
import { afterEach, describe, expect, it } from "vitest";
import { allocResident, kernelBackend, setKernelBackend, simdAvailable, type KernelBackend } from "../src/kernels/index.js";
import { Rng } from "../src/stats/rng.js";
import { SaadSollaOde, integrateTeacherStudent, teacherStudentProblem, type TeacherStudentParams } from "../src/theory/saad-solla.js";
import { overlaps, teacherStudentInit } from "../src/sim/teacher-student.js";
// errorRate as it was (every (i, k) term computed): the reference implementation of the ODEs.
import { SaadSollaOde as RefSaadSolla } from "./fixtures/ode-reference/saad-solla.js";

const initial: KernelBackend = kernelBackend();
afterEach(() => { setKernelBackend(initial); });

function setting(K: number, M: number, trained: boolean, seed: number): { params: TeacherStudentParams; init: ReturnType<typeof state> } {
  const N = 400;
  const { B, W } = teacherStudentInit({ N, K, M, initScale: 0.3, seed });
  const rng = new Rng(seed + 1);
  // second-layer weights of both signs (so that the fixed layer's zero terms dv·v are ±0)
  const v = Float64Array.from({ length: K }, (_, i) => (i % 3 === 1 ? -1 : 1) * (0.5 + rng.uniform()));
  return {
    params: { K, M, lr: 0.5, trainSecondLayer: trained, noise: 0.01, weightDecay: 0.001, A: Array.from({ length: M }, () => 0.5 + rng.uniform()), T: overlaps(B, M, B, M, N) },
    init: state(W, B, K, M, N, v),
  };
}
function state(W: Float64Array, B: Float64Array, K: number, M: number, N: number, v: Float64Array) {
  return { Q: overlaps(W, K, W, K, N), R: overlaps(W, K, B, M, N), v };
}

describe("Saad–Solla serial part: same bits as before", () => {
  it("errorRate equals the all-terms loop bit for bit", () => {
    for (const trained of [false, true]) {
      for (const [K, M] of [[1, 1], [3, 2], [5, 4], [8, 8]]) {
        const { params, init } = setting(K, M, trained, K * 10 + M);
        const ode = new SaadSollaOde(params, init.v);
        const ref = new RefSaadSolla(params, init.v);
        const y = ode.pack(init);
        const dy = new Float64Array(ode.dim);
        ode.rhs(0, y, dy);
        const rng = new Rng(K + M);
        for (let rep = 0; rep < 4; rep++) {
          const a = ode.errorRate(y, dy), b = ref.errorRate(y, dy);
          expect(Object.is(a, b), `K = ${K}, M = ${M}, trained ${trained}, rep ${rep}: ${a} vs ${b}`).toBe(true);
          for (let i = 0; i < dy.length; i++) dy[i] = rng.normal();
          // exact zero overlaps of both signs (asin(±0) = ±0), R and Q off-diagonal
          if (rep === 2) for (let i = 0; i < K * M; i += 2) y[i] = i % 4 === 0 ? 0 : -0;
        }
      }
    }
  });

  it.skipIf(!simdAvailable())("the guarded RHS: resident dy (SIMD row sums) = plain dy (TS row sums)", () => {
    setKernelBackend("wasm-simd");
    for (const [K, M] of [[3, 3], [7, 5]]) {
      const { params, init } = setting(K, M, true, 3);
      const { ode, problem } = teacherStudentProblem(params, init, { times: [0, 1] });
      const n = problem.y0.length;
      const y = Float64Array.from(problem.y0);
      const plain = new Float64Array(n), res = allocResident(n);
      problem.rhs(0, y, plain);
      problem.rhs(0, y, res);
      expect(res.length).toBe(n);
      let same = true;
      for (let i = 0; i < n; i++) if (!Object.is(plain[i], res[i])) same = false;
      expect(same).toBe(true);
      // the guard rows were filled (the state is not at a fixed point)
      expect(plain.subarray(ode.dim).some((x) => x !== 0)).toBe(true);
      ode.close();
    }
  });

  it.skipIf(!simdAvailable())("K = M = 16 guarded run (GBS port): bit-identical on the TS and SIMD kernel backends", async () => {
    const runs = [];
    for (const b of ["ts", "wasm-simd"] as const) {
      setKernelBackend(b);
      const { params, init } = setting(16, 16, false, 16);
      runs.push(await integrateTeacherStudent(params, init, { times: [0, 0.5, 1], rtol: 1e-9, atol: 1e-12 }));
    }
    const [a, b] = runs;
    expect(a.nRhs).toBeGreaterThan(20);
    expect(b.nRhs).toBe(a.nRhs);
    expect(b.nSteps).toBe(a.nSteps);
    for (let t = 0; t < a.states.length; t++) {
      for (const key of ["Q", "R"] as const) {
        const x = a.states[t][key], z = b.states[t][key];
        let same = true;
        for (let i = 0; i < x.length; i++) if (!Object.is(x[i], z[i])) same = false;
        expect(same, `${key} at output ${t}`).toBe(true);
      }
      expect(Object.is(a.eps[t], b.eps[t])).toBe(true);
    }
  });
});
