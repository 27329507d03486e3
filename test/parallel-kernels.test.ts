/**
 * Data-parallel kernels over samples (src/kernels/parallel.ts) for -j N:
 *   - the Atomics-dispatched team runs every chunk once, workers do take chunks, a chunk's error is
 *     rethrown by the caller with its message;
 *   - the flow RHS (every variant) and a whole flow run are bit-identical for N = 1, 2, 3 with a fixed
 *     chunking (many chunks), and equal the unchunked sums (fusedRowPass over all rows) to rounding;
 *   - the CP loss and gradient (ImplicitCumulantLoss) are bit-identical for N = 1, 2, 3 and equal the
 *     one-chunk pass to rounding.
 */
import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { threadId } from "node:worker_threads";
import { KernelTeam, chunkBounds, fixedChunkRows, sharedFloat64 } from "../src/kernels/parallel.js";
import { buildSingleNeuronFlow, flowChunkRows, fusedRowPass, RowFn, translationInvariantCovariance, type FlowClass, type FlowVariant, type SingleNeuronFlow } from "../src/theory/single-neuron.js";
import { deriveFlowCoefficients } from "../src/theory/coefficients.js";
import { twoClassTask } from "../src/data/task.js";
import { classDatasets } from "../src/theory/flow-trajectory.js";
import { solve } from "../src/integrate/index.js";
import { Rng } from "../src/stats/rng.js";
import { ImplicitCumulantLoss } from "../src/cp/loss.js";
import { spinChunk, type SpinData } from "./fixtures/kernel-chunks.js";

const chunks = new URL("./fixtures/kernel-chunks.ts", import.meta.url).href;
const toClose: { close(): void }[] = [];
afterAll(() => { for (const c of toClose) c.close(); });

const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("hex");
const diffRel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let n = 0, d = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); n = Math.max(n, Math.abs(b[i])); }
  return d / n;
};

describe("kernel team (Atomics dispatch)", () => {
  it("fixed chunking: boundaries depend on the sizes only", () => {
    expect(chunkBounds(10, 4)).toEqual([0, 4, 8, 10]);
    expect(chunkBounds(8, 4)).toEqual([0, 4, 8]);
    expect(chunkBounds(3, 4)).toEqual([0, 3]);
    expect(fixedChunkRows(1000, 100, 64, 8)).toBe(104);
    expect(fixedChunkRows(100_000, 100, 64, 8)).toBe(1568); // ceil(1e5/64) = 1563 → multiple of 8
    expect(fixedChunkRows(1000, 100, 64, 8, 7)).toBe(7);
    expect(flowChunkRows(5000, 100)).toBe(1312);
  });

  it("runs each chunk once, with the same results as in-thread; workers take part", () => {
    const n = 40;
    const ref = sharedFloat64(n);
    const one: SpinData = { out: ref, by: new Int32Array(n), spinMs: 0 };
    for (let k = 0; k < n; k++) spinChunk(one, k);
    const team = new KernelTeam(3);
    toClose.push(team);
    const d: SpinData = { out: sharedFloat64(n), by: new Int32Array(new SharedArrayBuffer(4 * n)), spinMs: 2 };
    const id = team.register(chunks, "spinChunk", d);
    let byWorker = 0;
    // Workers start on the first run and join when loaded (the caller does everything meanwhile).
    for (let rep = 0; rep < 2000 && byWorker === 0; rep++) {
      d.out.fill(NaN);
      team.run(id, n, (k) => spinChunk(d, k));
      expect(bits(d.out)).toBe(bits(ref));
      byWorker = d.by.filter((t) => t !== threadId).length;
    }
    expect(byWorker).toBeGreaterThan(0);
  });

  it("an error in a chunk is rethrown by run (caller's or worker's chunk), and the team stays usable", () => {
    const n = 12;
    const team = new KernelTeam(2);
    toClose.push(team);
    const d: SpinData = { out: sharedFloat64(n), by: new Int32Array(new SharedArrayBuffer(4 * n)), spinMs: 1 };
    const bad = team.register(chunks, "failingChunk", d);
    const good = team.register(chunks, "spinChunk", d);
    for (let rep = 0; rep < 20; rep++) {
      expect(() => team.run(bad, n, (k) => { if (k === 3) throw new Error(`chunk ${k} failed on purpose`); spinChunk(d, k); })).toThrow(/^chunk 3 failed on purpose$/);
      d.out.fill(NaN);
      team.run(good, n, (k) => spinChunk(d, k));
      expect(d.out.every((x) => Number.isFinite(x))).toBe(true);
    }
  });
});

describe("flow RHS over chunks of samples: bit-identical for every thread count", () => {
  const D = 24;
  const geom = { dim: 1 as const, L: D };
  const task = twoClassTask(geom, { kind: "nlgp", xi: 0, gain: 3 }, { kind: "nlgp", xi: 2, gain: 3 });
  const cls = classDatasets(task, 2000, new Rng(7), false);
  const w = Float64Array.from({ length: D }, (_, i) => Math.sin(1 + i) * 0.4);

  const make = async (variant: FlowVariant, cov: "sample" | "exact", threads: number, chunkRows?: number): Promise<SingleNeuronFlow> => {
    const coef = await deriveFlowCoefficients({ v: 1, b: -1, labels: [-1, 1] });
    const f = buildSingleNeuronFlow({
      variant, D, v: 1, b: -1, threads, chunkRows, activation: "erf",
      classes: cls.map((c, mu): FlowClass => ({ label: mu ? 1 : -1, weight: c.n / 2000, X: c.X, n: c.n, cov: cov === "sample" ? "sample" : translationInvariantCovariance(geom, task.classes[mu].covarianceRow()) })),
    }, coef);
    toClose.push(f);
    return f;
  };

  for (const [variant, cov] of [["full", "sample"], ["full", "exact"], ["gaussian", "sample"], ["exact", "sample"]] as const) {
    it(`${variant} (covariance ${cov}): N = 1, 2, 3 give the same bits; = the unchunked RHS to rounding`, async () => {
      const out: string[] = [];
      for (const threads of [1, 2, 3]) {
        const f = await make(variant, cov, threads, 40); // ~25 chunks per pass
        await f.ready();
        const dw = new Float64Array(D);
        // Repeat until the workers have taken part (cheap passes, e.g. the SIMD linear pass, can be
        // finished by the caller before a sleeping worker wakes: allow many repetitions).
        for (let rep = 0; rep < 200_000; rep++) {
          f.rhs(0, w, dw);
          if (rep === 0) out.push(bits(dw));
          else expect(bits(dw)).toBe(out[out.length - 1]);
          if (threads === 1 || f.kernelChunks().byWorkers > 20) break;
        }
        if (threads > 1) expect(f.kernelChunks().byWorkers).toBeGreaterThan(20);
        else expect(f.kernelChunks().byWorkers).toBe(0);
      }
      expect(out[1]).toBe(out[0]);
      expect(out[2]).toBe(out[0]);
      // One chunk per pass (the default chunking at this size) is the former unchunked summation.
      const whole = await make(variant, cov, 1);
      const ref = new Float64Array(D), got = new Float64Array(D);
      whole.rhs(0, w, ref);
      (await make(variant, cov, 1, 40)).rhs(0, w, got);
      expect(diffRel(got, ref)).toBeLessThan(1e-13);
      expect(diffRel(got, ref)).toBeGreaterThanOrEqual(0);
    });
  }

  it("the chunk sums equal fusedRowPass over all rows (exact erf pass) to rounding", async () => {
    const c = cls[1];
    const ref = new Float64Array(D);
    const ss = fusedRowPass(c.X, c.n, D, w, ref, RowFn.Erf, 0.5, 0, 0, 1, 1, -1);
    expect(ss).toBeGreaterThan(0);
    const f = await make("exact", "sample", 2, 40);
    const dw = new Float64Array(D);
    f.rhs(0, w, dw);
    // dw = Σ_μ (π_μ v / n_μ) Σ_ν f_μ(λ_ν) x_ν: check against the unchunked two-class sum.
    const ref2 = new Float64Array(D);
    cls.forEach((k, mu) => fusedRowPass(k.X, k.n, D, w, ref2, RowFn.Erf, (k.n / 2000) / k.n, 0, 0, mu ? 1 : -1, 1, -1));
    expect(diffRel(dw, ref2)).toBeLessThan(1e-13);
  });

  it("a whole flow run (RKC, full with sample covariance) is bit-identical for N = 1 and 2", async () => {
    const runs: string[] = [];
    for (const threads of [1, 2]) {
      const f = await make("full", "sample", threads, 64);
      await f.ready();
      const sol = solve({ rhs: f.rhs, y0: w, tspan: [0, 4], saveat: [0, 1, 2, 4] }, "rkc", { rtol: 1e-6, atol: 1e-9 });
      expect(sol.retcode).toBe("success");
      expect(sol.stats.nRhs).toBeGreaterThan(20);
      runs.push(sol.y.map(bits).join("|"));
      if (threads === 2) expect(f.kernelChunks().byWorkers).toBeGreaterThan(0);
    }
    expect(runs[1]).toBe(runs[0]);
  });
});

describe("CP loss + gradient over chunks of samples: bit-identical for every thread count", () => {
  const D = 12, P = 3000, r = 5;
  const X = new Float64Array(P * D);
  const rng = new Rng(11);
  for (let k = 0; k < X.length; k++) { const z = rng.normal(); X[k] = z * z * z / 3; } // non-Gaussian
  const theta = Float64Array.from({ length: r + r * D }, (_, k) => (k < r ? 0.5 + k / 10 : Math.cos(k) / Math.sqrt(D)));

  for (const useCovariance of [true, false]) {
    it(`loss, gradient and projections (${useCovariance ? "stored C" : "C u accumulated in the pass"}): N = 1, 2, 3 give the same bits`, async () => {
      const out: string[] = [];
      for (const threads of [1, 2, 3]) {
        const L = new ImplicitCumulantLoss(X, P, D, r, { threads, chunkRows: 64, useCovariance }); // 47 chunks
        toClose.push(L);
        await L.ready();
        // Repeat until the workers have taken part (tiny chunks: the caller may take them all at first).
        for (let rep = 0; rep < 5000; rep++) {
          const g = new Float64Array(L.n);
          const f = L.fg(theta, g);
          const proj = L.projections(theta.subarray(r), new Float64Array(r));
          const b = bits(Float64Array.of(f)) + bits(g) + bits(proj);
          if (rep === 0) out.push(b);
          else expect(b).toBe(out[out.length - 1]);
          if (threads === 1 || L.chunksByWorkers() > 20) break;
        }
        if (threads > 1) expect(L.chunksByWorkers()).toBeGreaterThan(20);
      }
      expect(out[1]).toBe(out[0]);
      expect(out[2]).toBe(out[0]);
      // Against one chunk (the former unchunked pass): equal to rounding.
      const one = new ImplicitCumulantLoss(X, P, D, r, { useCovariance });
      const many = new ImplicitCumulantLoss(X, P, D, r, { chunkRows: 64, useCovariance });
      const g1 = new Float64Array(one.n), g2 = new Float64Array(one.n);
      const f1 = one.fg(theta, g1), f2 = many.fg(theta, g2);
      expect(Math.abs(f1 - f2) / Math.abs(f1)).toBeLessThan(1e-12);
      expect(diffRel(g2, g1)).toBeLessThan(1e-12);
    });
  }
});

describe("a kernel team left open does not keep the process alive", () => {
  // Workers and ports are unref'd while idle and ref'd only while `ready()` is awaited: a script that
  // never calls close() still exits (it hung before), and one that awaits ready() still gets there.
  for (const mode of ["rhs", "ready"]) {
    it(`Saad–Solla ODE on two threads, ${mode === "ready" ? "ready() awaited, " : ""}no close(): the child exits by itself`, () => {
      const file = fileURLToPath(new URL("./fixtures/team-exit.ts", import.meta.url));
      const r = spawnSync(process.execPath, ["--import", "tsx", file, mode], { encoding: "utf8", timeout: 30_000 });
      expect(r.signal).toBeNull(); // not killed by the timeout
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^dy0 -?\d/);
    }, 60_000);
  }
});
