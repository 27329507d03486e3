import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  aggregate, axisList, canonicalJson, enumerateGrid, getPath, modelHash, parseShard, pointModel, runSeed, setPath, shardPoints,
  type RunRecord,
} from "../src/experiments/sweep-grid.js";
import { sweepSchema } from "../src/schema/sweep.js";
import { parseSweepModel, runSweep as runSweepResult, type SweepRunModel } from "../src/experiments/sweep.js";
import { runModel } from "../src/experiments/index.js";
import { executeUnit } from "../src/parallel/worker.js";
import { mergeShards, writeAggregate, writeShardFiles, writeSweepResult, type ShardFile } from "../src/io/results/sweep.js";
import { UserError } from "../src/run/errors.js";

const tmp = mkdtempSync(join(tmpdir(), "rfdyn-sweep-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Ctx { out: string; threads: number; signal: AbortSignal }
const ctx = (out: string, threads = 1, signal = new AbortController().signal): Ctx => ({ out, signal, threads });

/** Run a sweep model (or shard "i/n") through the library and write its files, as the CLI does. */
async function runSweep(raw: unknown, c: Ctx, modelFile: string, shard?: string): Promise<ShardFile & { result: Awaited<ReturnType<typeof runSweepResult>> }> {
  const result = await runSweepResult(parseSweepModel(raw), { threads: c.threads, signal: c.signal, shard: parseShard(shard) });
  await writeSweepResult(c.out, result, modelFile);
  return { ...JSON.parse(readFileSync(join(c.out, "shard.json"), "utf8")), result };
}

async function runMerge(dirs: string[], c: { out: string; log?: (m: string) => void }): Promise<void> {
  const merged = mergeShards(dirs);
  writeShardFiles(c.out, merged);
  await writeAggregate(c.out, merged);
}

const baseLsg = {
  kind: "lsg", seed: 1, dynamics: "ode",
  data: { geometry: { dim: 1, L: 12 }, marginal: { kind: "sign" }, classes: [{ xi: 0.3 }, { xi: 0.7 }] },
  ode: { t1: 60, samples: 4 },
};
const sweepModel = {
  kind: "sweep", name: "t",
  base: baseLsg,
  grid: [
    { name: "nlgp", set: { "data.marginal": { kind: "nlgp", convention: "ig22" } }, axes: { "data.marginal.gain": { logspace: [-1, 1, 3] }, "data.classes[1].xi": [0.7, 1.2] } },
    { name: "kur", set: { "data.marginal": { kind: "kur" } }, axes: { "data.marginal.k": [6, 20] } },
  ],
  seeds: { from: 5, count: 2 },
  metrics: ["ipr", "kurtosis"],
  plot: { x: "kurtosis", y: "ipr" },
};

describe("grid logic", () => {
  it("axes, enumeration order, dotted paths", () => {
    expect(axisList({ linspace: [0, 1, 5] })).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(axisList({ logspace: [-2, 2, 3] })).toEqual([0.01, 1, 100]);
    expect(axisList({ from: 3, count: 3, step: 2 })).toEqual([3, 5, 7]);
    const m = parseSweepModel(sweepModel);
    const pts = enumerateGrid(m);
    expect(pts.length).toBe(3 * 2 + 2);
    // Last axis fastest.
    expect(pts.slice(0, 3).map((p) => p.values)).toEqual([
      { "data.marginal.gain": 0.1, "data.classes[1].xi": 0.7 }, { "data.marginal.gain": 0.1, "data.classes[1].xi": 1.2 }, { "data.marginal.gain": 1, "data.classes[1].xi": 0.7 },
    ]);
    const pm = pointModel(m, m.base, pts[1], 42);
    expect(getPath(pm, "data.marginal")).toEqual({ kind: "nlgp", convention: "ig22", gain: 0.1 });
    expect(getPath(pm, "data.classes.1.xi")).toBe(1.2);
    expect(getPath(pm, "seed")).toBe(42);
    expect(getPath(m.base, "data.marginal")).toEqual({ kind: "sign" }); // base untouched
    const o: Record<string, unknown> = { a: [1, 2] };
    setPath(o, "b.c", 3);
    expect(o).toEqual({ a: [1, 2], b: { c: 3 } });
    expect(() => setPath(o, "a[5]", 1)).toThrow(UserError);
    expect(() => setPath(o, "b.c.d", 1)).toThrow(/not an object/);
  });

  it("seeds: deterministic, distinct per point and replicate; common mode uses the replicate seed", () => {
    const m = parseSweepModel(sweepModel);
    const seen = new Set<number>();
    for (let p = 0; p < 8; p++) for (let r = 0; r < 2; r++) {
      const s = runSeed(m, p, r);
      expect(s).toBe(runSeed(m, p, r));
      expect(Number.isSafeInteger(s) && s >= 0).toBe(true);
      seen.add(s);
    }
    expect(seen.size).toBe(16);
    expect(runSeed({ ...m, seedMode: "common" }, 3, 1)).toBe(6);
  });

  it("shards partition the points; --shard parsing", () => {
    for (const n of [1, 3, 7]) {
      const all = Array.from({ length: n }, (_, i) => shardPoints(20, { index: i, count: n })).flat().sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: 20 }, (_, i) => i));
    }
    expect(parseShard("2/5")).toEqual({ index: 2, count: 5 });
    expect(() => parseShard("5/5")).toThrow(/--shard/);
    expect(() => parseShard("a/b")).toThrow(/--shard/);
  });

  it("hash ignores key order and formatting but not content", () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe('{"a":[1,{"c":3,"d":2}],"b":1}');
    expect(modelHash({ b: 1, a: 2 })).toBe(modelHash({ a: 2, b: 1 }));
    expect(modelHash({ a: 2 })).not.toBe(modelHash({ a: 3 }));
  });

  it("aggregate: mean and sample sd per point in replicate order, failed runs excluded", () => {
    const m = parseSweepModel(sweepModel);
    const pts = enumerateGrid(m).slice(0, 2);
    const runs: RunRecord[] = [
      { point: 0, replicate: 1, seed: 0, status: "done", summary: { ipr: 3 } },
      { point: 0, replicate: 0, seed: 0, status: "done", summary: { ipr: 1 } },
      { point: 0, replicate: 2, seed: 0, status: "done", summary: { ipr: 5 } },
      { point: 1, replicate: 0, seed: 0, status: "error", summary: {} },
      { point: 1, replicate: 1, seed: 0, status: "steady", summary: { ipr: 2 } },
    ];
    const a = aggregate(pts, runs, ["ipr"]);
    expect(a[0].mean.ipr).toBe(3);
    expect(a[0].sd.ipr).toBe(2);
    expect(a[0].n).toBe(3);
    expect(a[1].n).toBe(1);
    expect(a[1].sd.ipr).toBeNaN();
  });

  it("schema errors are one-line messages naming the field", () => {
    expect(sweepSchema.safeParse({ ...sweepModel, seeds: { count: 0 } }).success).toBe(false);
    expect(() => parseSweepModel({ ...sweepModel, grid: { axes: { "1bad": [1] } } })).toThrow(/model\.grid/);
    expect(() => parseSweepModel({ ...sweepModel, base: { kind: "sweep" } })).toThrow(/cannot sweep another sweep/);
  });
});

describe("shipped LSG24 model files", () => {
  it("are valid sweeps whose every grid point is a valid lsg model", async () => {
    const { lsgExperiment } = await import("../src/experiments/lsg.js");
    const validate = (m: unknown) => lsgExperiment.parse(m);
    for (const f of ["models/lsg24-kurtosis-ode.json", "models/lsg24-kurtosis-sgd.json"]) {
      const m = parseSweepModel(JSON.parse(readFileSync(f, "utf8")));
      const pts = enumerateGrid(m);
      expect(pts.length).toBe(10 + 12 + 1);
      expect(m.seeds.count).toBe(30);
      for (const p of pts) validate(pointModel(m, m.base, p, runSeed(m, p.index, 0)));
    }
    const single = JSON.parse(readFileSync("models/lsg24-single-ode.json", "utf8"));
    validate(single);
  });
});

describe("running sweeps", () => {
  it("sharded (3 shards, 1 thread) + merge is byte-identical to unsharded on 2 worker threads", async () => {
    const full = join(tmp, "full");
    const sf = await runSweep(sweepModel, ctx(full, 2), join(tmp, "m.json"));
    expect(sf.complete).toBe(true);
    expect(sf.runs.length).toBe(16);
    const dirs = [0, 1, 2].map((i) => join(tmp, `s${i}`));
    for (let i = 0; i < 3; i++) await runSweep(sweepModel, ctx(dirs[i], 1), join(tmp, "m.json"), `${i}/3`);
    const merged = join(tmp, "merged");
    await runMerge([dirs[2], dirs[0], dirs[1]], { out: merged, log: () => {} });
    for (const f of ["summary.csv", "runs.csv"]) expect(readFileSync(join(merged, f), "utf8")).toBe(readFileSync(join(full, f), "utf8"));
    // The summary is real: NLGP gains and Kur(k) marginals (κ < 3) give distinct, finite IPRs.
    const rows = readFileSync(join(full, "summary.csv"), "utf8").trim().split("\n");
    expect(rows.length).toBe(1 + 8);
    expect(readFileSync(join(full, "sweep.svg"), "utf8")).toContain("<svg");
    // A run through the sweep equals the same run alone.
    const m: SweepRunModel = parseSweepModel(sweepModel);
    const pm = pointModel(m, m.base, enumerateGrid(m)[4], runSeed(m, 4, 1));
    const rec = sf.runs.find((r) => r.point === 4 && r.replicate === 1)!;
    expect(rec.summary.ipr).toBe((await runModel(pm)).summary.ipr);
    expect(sf.result.status).toBe("done");

    // Merge refuses: missing shard, duplicate shard, other model, incomplete shard.
    expect(() => mergeShards([dirs[0], dirs[1]])).toThrow(/missing shard\(s\) 2\/3/);
    expect(() => mergeShards([dirs[0], dirs[0], dirs[1]])).toThrow(/given twice/);
    const other = join(tmp, "other");
    await runSweep({ ...sweepModel, seeds: { from: 6, count: 2 } }, ctx(other, 1), join(tmp, "m.json"), "2/3");
    expect(() => mergeShards([dirs[0], dirs[1], other])).toThrow(/different sweep model/);
    const ac = new AbortController();
    ac.abort();
    const aborted = join(tmp, "aborted");
    const sfa = await runSweep(sweepModel, ctx(aborted, 1, ac.signal), join(tmp, "m.json"), "2/3");
    expect(sfa.complete).toBe(false);
    expect(sfa.result.status).toBe("interrupted");
    expect(() => mergeShards([dirs[0], dirs[1], aborted])).toThrow(/incomplete/);
    // Tampering with a stored model is detected.
    const tampered = join(tmp, "tampered");
    await runMerge([dirs[0], dirs[1], dirs[2]], { out: tampered, log: () => {} });
    const j = JSON.parse(readFileSync(join(tampered, "shard.json"), "utf8"));
    j.model.seeds.count = 3;
    writeFileSync(join(tampered, "shard.json"), JSON.stringify(j));
    expect(() => mergeShards([tampered])).toThrow(/does not match its hash/);
    // A merged output is itself a complete 0/1 shard.
    expect(mergeShards([merged]).runs.length).toBe(16);
  });

  it("bad grid points fail up front with the point named", async () => {
    const bad = { ...sweepModel, grid: { axes: { "data.marginal.k": [3] }, set: { "data.marginal": { kind: "kur" } } } };
    await expect(runSweep(bad, ctx(join(tmp, "bad")), join(tmp, "m.json"))).rejects.toThrow(/sweep point 0 \(data\.marginal\.k=3\): model\.data\.marginal\.k/);
  });

  it("a sweep point run as a pool unit gives the same summary as the model run alone", async () => {
    const registry = new URL("../src/experiments/registry.ts", import.meta.url).href;
    const r = await executeUnit({ id: 0, module: registry, fn: "runModelUnit", payload: { ...baseLsg, seed: 9 } }, { aborted: false });
    expect(r.ok).toBe(true);
    const alone = await runModel({ ...baseLsg, seed: 9 });
    expect((r.value as { summary: Record<string, number> }).summary).toEqual(alone.summary);
    expect(alone.summary.ipr).toBeGreaterThan(1 / 12);
  });
});

describe("work units of one command on the pool (cp grid points, flow runs)", () => {
  it("inOrderOrThrow puts results in task order and rethrows the first failure (UserError for bad input)", async () => {
    const { inOrderOrThrow } = await import("../src/parallel/pool.js");
    const ok = (id: number) => ({ id, ok: true });
    expect(inOrderOrThrow([ok(2), ok(0), ok(1)], "x").map((r) => r.id)).toEqual([0, 1, 2]);
    const bad = { id: 1, ok: false, error: "model.data.P: too small", userError: true };
    expect(() => inOrderOrThrow([ok(2), bad, ok(0)], "cp: decomposition")).toThrow(UserError);
    expect(() => inOrderOrThrow([ok(2), bad, ok(0)], "cp: decomposition")).toThrow(/^model\.data\.P: too small$/);
    const crash = { id: 3, ok: false, error: "NaN in gradient" };
    let err: unknown;
    try { inOrderOrThrow([ok(0), crash], "flow: run"); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(UserError);
    expect((err as Error).message).toBe("flow: run 3 failed: NaN in gradient");
  });
});
