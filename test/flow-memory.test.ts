/**
 * The flow holds its samples once (issue 14): per-class data drawn into one array and reordered in
 * place (src/data/task.ts `datasetByClass`, `permuteRowsInPlace`, `sampleRowsInto`), optional float32
 * storage with float64 accumulation (src/theory/single-neuron-f32.ts), peak RSS in result.json.
 *
 * What is checked, and against what:
 *  - datasetByClass gives exactly the numbers of the former split (task.dataset + copy per class,
 *    written out here) for 2 and 3 classes, with and without symmetrisation; float32 storage is the
 *    float64 data rounded (Math.fround), bit for bit;
 *  - sampleRowsInto = successive sampler.sample calls; permuteRowsInPlace = a copying permutation;
 *  - fusedRowPassF32 on float32-representable data = fusedRowPass on the same numbers in float64,
 *    bit for bit, for every row function (same summation order), including a tail of n mod 8 rows;
 *  - a float32 flow (data.precision "float32", through runFlow) ends at the float64 flow's final w to
 *    1e-6 relative at a small size (and the two really differ: the data were rounded);
 *  - memory, in a child process (test/fixtures/memory/flow-memory-child.ts): a full flow at D = 400,
 *    P = 4·10⁴ (128 MB of float64 samples; 64 MB in float32) raises the peak RSS above the baseline
 *    (modules loaded, coefficients derived) by at most 1.15 × the data size + 8 MB (fixed overhead:
 *    trajectories, scratch, heap growth).  Before this change the data set was held twice (≥ 2×).
 *  - the flow writer puts timings.peakRssBytes into result.json.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Rng } from "../src/stats/rng.js";
import { makeClassSampler, permuteRowsInPlace, sampleRowsInto, Task, twoClassTask } from "../src/data/task.js";
import { classDatasets } from "../src/theory/flow-trajectory.js";
import { isResident, kernelBackend, simdKernels } from "../src/kernels/index.js";
import { fusedRowPass, RowFn, tsFusedRowPass } from "../src/theory/single-neuron.js";
import { fusedRowPassF32 } from "../src/theory/single-neuron-f32.js";
import { runFlow } from "../src/experiments/flow.js";
import { writeFlowResult } from "../src/io/results/flow.js";
import { flowSchema } from "../src/schema/flow.js";
import { parseWith } from "../src/schema/common.js";

const root = join(__dirname, "..");

/** The former classDatasets (draw the whole set, then copy each row into its class's array). */
function splitReference(task: Task, P: number, rng: Rng, symmetrise: boolean): { X: Float64Array; n: number }[] {
  const D = task.D, M = task.classes.length;
  const { X, cls } = task.dataset(P, rng);
  const counts = new Array<number>(M).fill(0);
  for (let k = 0; k < P; k++) counts[cls[k]]++;
  const f = symmetrise ? 2 : 1;
  const out = counts.map((c) => ({ X: new Float64Array(f * c * D), n: f * c }));
  const fill = new Array<number>(M).fill(0);
  for (let k = 0; k < P; k++) {
    const mu = cls[k], dst = out[mu].X;
    for (let i = 0; i < D; i++) dst[fill[mu] * D + i] = X[k * D + i];
    fill[mu]++;
    if (symmetrise) {
      for (let i = 0; i < D; i++) dst[fill[mu] * D + i] = -X[k * D + i];
      fill[mu]++;
    }
  }
  return out;
}

function threeClassTask(): Task {
  const geom = { dim: 1 as const, L: 12 };
  return new Task([
    makeClassSampler(geom, { kind: "nlgp", xi: 0, gain: 3 }),
    makeClassSampler(geom, { kind: "gp", xi: 2 }),
    makeClassSampler(geom, { kind: "nlgp", xi: 3, gain: 1 }),
  ], [-1, 0, 1], [0.5, 0.2, 0.3]);
}

describe("data sets held once, per class", () => {
  const cases: [string, () => Task][] = [
    ["two classes", () => twoClassTask({ dim: 1, L: 16 }, { kind: "nlgp", xi: 0, gain: 3 }, { kind: "nlgp", xi: 3, gain: 3 })],
    ["three classes, unequal probabilities", threeClassTask],
  ];
  for (const [name, make] of cases) {
    for (const symmetrise of [false, true]) {
      it(`${name}${symmetrise ? ", symmetrised" : ""}: the same numbers as the former split, float32 = fround(float64)`, () => {
        const P = 531;
        const ref = splitReference(make(), P, new Rng(7), symmetrise);
        const got = classDatasets(make(), P, new Rng(7), symmetrise);
        const g32 = classDatasets(make(), P, new Rng(7), symmetrise, "float32");
        expect(got.map((c) => c.n)).toEqual(ref.map((c) => c.n));
        expect(ref.every((c) => c.n > 0)).toBe(true);
        got.forEach((c, mu) => {
          expect(c.X).toBeInstanceOf(Float64Array);
          expect(c.X.length).toBe(ref[mu].X.length);
          expect(Array.from(c.X)).toEqual(Array.from(ref[mu].X));
          const x32 = g32[mu].X;
          expect(x32).toBeInstanceOf(Float32Array);
          expect(Array.from(x32)).toEqual(Array.from(ref[mu].X, Math.fround));
        });
        // One array: the class blocks are consecutive views of the same buffer.
        expect(new Set(got.map((c) => c.X.buffer)).size).toBe(1);
        const bytes = (symmetrise ? 2 : 1) * P * make().D * 8;
        for (let mu = 1; mu < got.length; mu++) expect(got[mu].X.byteOffset).toBe(got[mu - 1].X.byteOffset + got[mu - 1].X.byteLength);
        expect(got.reduce((s, c) => s + c.X.byteLength, 0)).toBe(bytes);
        if (simdKernels() !== null) {
          // SIMD backend: the samples live in wasm memory (resident, read in place, never pinned/copied).
          expect(got.every((c) => isResident(c.X as Float64Array))).toBe(true);
          expect(got[0].X.buffer).toBeInstanceOf(SharedArrayBuffer);
        } else {
          expect(got[0].X.buffer.byteLength).toBe(bytes);
        }
        expect(g32.some((c) => isResident(c.X as unknown as Float64Array))).toBe(false);
      });
    }
  }

  it("sampleRowsInto draws what successive sampler.sample calls draw (float64 in place, float32 rounded)", () => {
    const s = makeClassSampler({ dim: 1, L: 10 }, { kind: "nlgp", xi: 2, gain: 3 });
    const ref = new Float64Array(7 * 10), rng = new Rng(3);
    for (let k = 0; k < 7; k++) s.sample(ref.subarray(k * 10, (k + 1) * 10), rng);
    const a = new Float64Array(9 * 10), b = new Float32Array(9 * 10);
    sampleRowsInto(s, 7, new Rng(3), a, 2);
    sampleRowsInto(makeClassSampler({ dim: 1, L: 10 }, { kind: "nlgp", xi: 2, gain: 3 }), 7, new Rng(3), b, 2);
    expect(Array.from(a.subarray(0, 20))).toEqual(new Array(20).fill(0));
    expect(Array.from(a.subarray(20))).toEqual(Array.from(ref));
    expect(Array.from(b.subarray(20))).toEqual(Array.from(ref, Math.fround));
    expect(() => sampleRowsInto(s, 8, new Rng(3), a, 2)).toThrow(/do not fit/);
  });

  it("permuteRowsInPlace moves row k to dest[k] (random permutations, fixed points, long cycles); refuses a non-permutation", () => {
    const rng = new Rng(11);
    for (const P of [1, 2, 17, 200]) {
      const D = 3;
      const X = new Float64Array(P * D);
      rng.fillNormal(X);
      const dest = Int32Array.from({ length: P }, (_, k) => k);
      rng.shuffle(dest);
      const want = new Float64Array(P * D);
      for (let k = 0; k < P; k++) want.set(X.subarray(k * D, (k + 1) * D), dest[k] * D);
      const Y = Float32Array.from(X);
      permuteRowsInPlace(X, D, dest);
      permuteRowsInPlace(Y, D, dest);
      expect(Array.from(X)).toEqual(Array.from(want));
      expect(Array.from(Y)).toEqual(Array.from(want, Math.fround));
    }
    expect(() => permuteRowsInPlace(new Float64Array(6), 2, Int32Array.from([1, 1, 0]))).toThrow(/not a permutation/);
  });
});

describe("float32 samples, float64 accumulation", () => {
  it("fusedRowPassF32 = fusedRowPass on the same (float32-representable) numbers, bit for bit, every row function", () => {
    const n = 203, D = 37, rng = new Rng(5);
    const x32 = new Float32Array(n * D);
    for (let i = 0; i < x32.length; i++) x32[i] = rng.normal();
    const x64 = Float64Array.from(x32);
    const w = new Float64Array(D);
    rng.fillNormal(w, 0.3);
    for (const kind of [RowFn.Linear, RowFn.Cubic, RowFn.Erf, RowFn.CubicNeuron]) {
      const o64 = new Float64Array(D).fill(0.25), o32 = new Float64Array(D).fill(0.25), oDispatch = new Float64Array(D).fill(0.25);
      const args = [kind, 0.7, 1.3, -0.4, 1, 0.9, -1] as const;
      const s64 = tsFusedRowPass(x64, 0, n, D, w, o64, ...args); // the TS reference (the SIMD erf may differ by an ulp)
      const s32 = fusedRowPassF32(x32, n, D, w, o32, ...args);
      const sD = fusedRowPass(x32, n, D, w, oDispatch, ...args); // dispatches on the element type
      expect(s32).toBe(s64);
      expect(Array.from(o32)).toEqual(Array.from(o64));
      expect(sD).toBe(s64);
      expect(Array.from(oDispatch)).toEqual(Array.from(o64));
      expect(o64.some((v) => v !== 0.25)).toBe(true);
    }
  });

  const model = (precision?: "float64" | "float32") => parseWith(flowSchema, {
    kind: "flow", variant: "full", seed: 4,
    task: { geometry: { dim: 1, L: 30 }, classes: [{ kind: "nlgp", xi: 0, gain: 3 }, { kind: "nlgp", xi: 3, gain: 3 }] },
    neuron: { v: 1, b: -1 }, P: 3000, ...(precision ? { data: { precision } } : {}),
    integration: { T: 200, times: 5, rtol: 1e-9, atol: 1e-12 },
  });

  it("the float32 flow ends at the float64 flow's final w to 1e-6 relative (D = 30, P = 3000, t = 200)", async () => {
    const res0 = simdKernels()?.residentTotal();
    const a = (await runFlow(model())).runs[0].trajectory, b = (await runFlow(model("float32"))).runs[0].trajectory;
    expect(simdKernels()?.residentTotal() ?? 0).toBeLessThanOrEqual(res0 ?? 0); // each run frees its resident samples (earlier tests' blocks may be collected meanwhile)
    const c = (await runFlow(model("float64"))).runs[0].trajectory;
    expect(Array.from(c.wFinal)).toEqual(Array.from(a.wFinal)); // "float64" = the default, bit for bit
    let d = 0, s = 0;
    for (let i = 0; i < a.wFinal.length; i++) { d += (a.wFinal[i] - b.wFinal[i]) ** 2; s += a.wFinal[i] ** 2; }
    const rel = Math.sqrt(d / s);
    console.log(`float32 vs float64 samples: final w relative difference ${rel.toExponential(2)}, IPR ${a.ipr.at(-1)} vs ${b.ipr.at(-1)}`);
    expect(rel).toBeGreaterThan(0); // the data really were rounded
    expect(rel).toBeLessThan(1e-6);
  }, 60_000);

  it("schema: float32 is refused with cp.factors compute; the float32 size limit is twice the float64 one", () => {
    const base = {
      kind: "flow", variant: "cp", seed: 1, P: 100,
      task: { geometry: { dim: 1, L: 10 }, classes: [{ kind: "nlgp", xi: 0, gain: 3 }, { kind: "nlgp", xi: 3, gain: 3 }] },
      integration: { T: 1 }, cp: { factors: [null, { compute: { rank: 2 } }] },
    };
    expect(() => parseWith(flowSchema, { ...base, data: { precision: "float32" } })).toThrow(/model\.data\.precision: float32 samples cannot be used with cp\.factors "compute"/);
    expect(() => parseWith(flowSchema, { ...base, data: { precision: "float16" } })).toThrow(/model\.data\.precision/);
    const big = { ...base, variant: "full", cp: undefined, P: 3e7 }; // 3e8 numbers at D = 10
    expect(() => parseWith(flowSchema, big)).toThrow(/P·D must be ≤ 200000000 numbers/);
    expect(() => parseWith(flowSchema, { ...big, data: { precision: "float32" } })).not.toThrow();
  });
});

describe("memory and result.json", () => {
  // The child runs on the selected backend (SIMD when available, unless RFDYN_KERNELS=ts): on it the
  // float64 samples live in wasm memory, read in place — no pinned copy may double the resident size.
  const backend = kernelBackend() === "wasm-simd" ? "wasm" : "ts";
  function child(L: number, P: number, precision: string) {
    const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", "test/fixtures/memory/flow-memory-child.ts", String(L), String(P), precision], {
      cwd: root, encoding: "utf8", env: { ...process.env, RFDYN_KERNELS: backend },
    });
    if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split("\n")[0]) as { dataBytes: number; baseline: number; peak: number; status: string; backend: string; pinnedBytes: number };
  }
  for (const precision of ["float64", "float32"]) {
    it(`a full flow at D = 400, P = 4·10⁴ (${precision}) holds its samples once: peak RSS − baseline ≤ 1.15 × data + 8 MB`, () => {
      const m = child(400, 40_000, precision);
      const extra = m.peak - m.baseline;
      console.log(`${precision} (${m.backend}, pinned ${m.pinnedBytes} B): data ${(m.dataBytes / 2 ** 20).toFixed(1)} MiB, peak RSS − baseline ${(extra / 2 ** 20).toFixed(1)} MiB (${(extra / m.dataBytes).toFixed(3)} × data), baseline ${(m.baseline / 2 ** 20).toFixed(0)} MiB`);
      expect(m.status).toBe("done");
      expect(m.backend).toBe(backend === "wasm" ? "wasm-simd" : "ts");
      expect(m.pinnedBytes).toBeLessThan(0.01 * m.dataBytes); // no copy of the samples in wasm memory
      expect(extra).toBeGreaterThan(0.9 * m.dataBytes); // the data set is really resident
      expect(extra).toBeLessThanOrEqual(1.15 * m.dataBytes + 8 * 2 ** 20);
    }, 300_000);
  }

  it("result.json records the peak RSS (timings.peakRssBytes)", async () => {
    const m = parseWith(flowSchema, {
      kind: "flow", variant: "gaussian", seed: 1,
      task: { geometry: { dim: 1, L: 8 }, classes: [{ kind: "nlgp", xi: 0, gain: 3 }, { kind: "nlgp", xi: 3, gain: 3 }] },
      integration: { T: 1, times: 3 },
    });
    const out = mkdtempSync(join(tmpdir(), "rfdyn-rss-"));
    try {
      await writeFlowResult(out, await runFlow(m));
      const res = JSON.parse(readFileSync(join(out, "result.json"), "utf8"));
      expect(res.timings.peakRssBytes).toBeGreaterThan(10 * 2 ** 20);
      expect(res.timings.peakRssBytes).toBe(Math.round(res.timings.peakRssBytes));
      expect(res.timings.peakRssBytes).toBeLessThanOrEqual(process.resourceUsage().maxRSS * 1024);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
