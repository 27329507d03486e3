/**
 * The unit pool (src/parallel/pool.ts) and the durable unit driver (src/experiments/units.ts):
 *   - results reassembled in unit order are byte-identical for -j 1, 2, 3 (synthetic units of uneven
 *     durations and a real lsg sweep);
 *   - batching and work stealing happen (pool stats), the pool is started once and reused;
 *   - a unit that throws and a worker that dies are reported with clear errors naming the unit;
 *   - an interrupt in the middle of a batch keeps the finished units (in the store) and a resumed run
 *     ends with the same values as an uninterrupted one.
 * No timing assertions: durations only shape the schedule (which worker runs what), never the outcome.
 */
import { afterAll, describe, expect, it } from "vitest";
import { closeUnitPool, prestartUnitPool, runUnits, type PoolStats, type UnitTask } from "../src/parallel/pool.js";
import { unitModulesFor } from "../src/experiments/index.js";
import { runUnitsDurably } from "../src/experiments/units.js";
import { parseSweepModel, runSweep } from "../src/experiments/sweep.js";
import { memoryStore } from "../src/run/store.js";
import { UserError } from "../src/run/errors.js";
import { crash, spin } from "./fixtures/pool-units.js";
import { compareExperiment } from "../src/experiments/compare.js";
import { golden } from "./cli-harness.js";
import { loadedModules } from "./fixtures/module-closure.js";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const units = new URL("./fixtures/pool-units.ts", import.meta.url).href;
afterAll(() => closeUnitPool());

const spinTasks = (ms: (id: number) => number, n: number): UnitTask[] =>
  Array.from({ length: n }, (_, id) => ({ id, module: units, fn: "spin", payload: { id, ms: ms(id) } }));

const inOrder = (rs: { id: number; value?: unknown }[]) => JSON.stringify([...rs].sort((a, b) => a.id - b.id).map((r) => r.value));

describe("unit pool: same results for every thread count", () => {
  it("uneven synthetic units give byte-identical ordered results for -j 1, 2, 3", async () => {
    const tasks = spinTasks((id) => 1 + ((id * 7) % 13), 60);
    const out: string[] = [];
    for (const threads of [1, 2, 3]) {
      const rs = await runUnits(tasks, { threads });
      expect(rs.length).toBe(60);
      expect(rs.every((r) => r.ok)).toBe(true);
      out.push(inOrder(rs));
    }
    expect(out[1]).toBe(out[0]);
    expect(out[2]).toBe(out[0]);
    // The values are the in-process function's own.
    expect(JSON.parse(out[0])[17]).toEqual(await spin({ id: 17, ms: 0 }, { aborted: false }));
  });

  it("an lsg sweep gives byte-identical records for -j 1, 2, 3", async () => {
    const m = parseSweepModel({
      kind: "sweep", name: "pool",
      base: { kind: "lsg", seed: 1, dynamics: "ode", data: { geometry: { dim: 1, L: 12 }, marginal: { kind: "sign" }, classes: [{ xi: 0.3 }, { xi: 0.7 }] }, ode: { t1: 40, samples: 3 } },
      grid: [{ name: "nlgp", set: { "data.marginal": { kind: "nlgp", convention: "ig22" } }, axes: { "data.marginal.gain": { logspace: [-1, 1, 4] } } }],
      seeds: { from: 3, count: 4 },
      metrics: ["ipr", "norm"],
    });
    const recs: string[] = [];
    for (const threads of [1, 2, 3]) {
      const stats = {} as PoolStats;
      const r = await runSweep(m, { threads, poolStats: stats });
      expect(r.complete).toBe(true);
      expect(r.runs.length).toBe(16);
      if (threads > 1) expect(stats.workers).toBe(threads);
      recs.push(JSON.stringify(r.runs));
    }
    expect(recs[1]).toBe(recs[0]);
    expect(recs[2]).toBe(recs[0]);
  });
});

describe("compare seeds are pool units", () => {
  for (const name of ["saad-solla-plateau", "ig22-fig3-compare"]) {
    it(`${name} (quick variant, 3 seeds): -j 2 gives the same result as -j 1 (timings aside)`, async () => {
      const raw = golden(name);
      raw.sgd.seeds = 3;
      const m = compareExperiment.parse(raw);
      const clock = new Set(["timings", "wallTime", "trainTime", "stepsPerSecond", "message"]); // wall-clock fields (the mixture message quotes seconds)
      const strip = (r: Record<string, unknown>) => JSON.stringify(r, (k, v) => (clock.has(k) ? undefined : ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v));
      const stats = {} as PoolStats;
      const r1 = await compareExperiment.run(m, { threads: 1 });
      const r2 = await compareExperiment.run(m, { threads: 2, poolStats: stats });
      expect(r1.status).toBe("done");
      expect(stats.workers).toBe(2);
      expect(strip(r2 as unknown as Record<string, unknown>)).toBe(strip(r1 as unknown as Record<string, unknown>));
    });
  }
});

describe("unit pool: batching, stealing, reuse", () => {
  it("short units are sent several per message (adaptive batch size)", async () => {
    const stats = {} as PoolStats;
    const rs = await runUnits(spinTasks(() => 2, 200), { threads: 2, stats });
    expect(rs.length).toBe(200);
    expect(stats.maxBatch).toBeGreaterThan(1);
    expect(stats.batches).toBeLessThan(200);
    expect(stats.perWorker.reduce((a, b) => a + b, 0)).toBe(200);
    expect(stats.meanUnitMs).toBeGreaterThan(1);
  });

  it("a worker that runs out of work steals from the other's range", async () => {
    // Lane 0's range (ids 0..29, the main thread) is slow, lane 1's (30..59, the worker) is fast:
    // the worker must steal.
    const stats = {} as PoolStats;
    const rs = await runUnits(spinTasks((id) => (id < 30 ? 40 : 1), 60), { threads: 2, stats });
    expect(rs.length).toBe(60);
    expect(stats.steals).toBeGreaterThanOrEqual(1);
    expect(stats.stolenUnits).toBeGreaterThanOrEqual(1);
    expect(stats.perWorker[1]).toBeGreaterThan(30);
  });

  it("the pool is started once and reused by the next call with the same thread count", async () => {
    const a = {} as PoolStats, b = {} as PoolStats;
    await runUnits(spinTasks(() => 1, 10), { threads: 2, stats: a });
    await runUnits(spinTasks(() => 1, 10), { threads: 2, stats: b });
    expect(b.started).toBe(0);
    expect(b.workers).toBe(2);
  });
});

describe("unit pool: workers started ahead of the run (prestartUnitPool)", () => {
  const marker = new URL("./fixtures/pool-preload-marker.ts", import.meta.url).href;
  const markerTasks = (n: number): UnitTask[] => Array.from({ length: n }, (_, id) => ({ id, module: units, fn: "preloadMarker", payload: { id } }));

  it("a prestarted pool has loaded the given modules before its first unit, and the run reuses it", async () => {
    await closeUnitPool();
    await prestartUnitPool(2, [marker, units]);
    const stats = {} as PoolStats;
    const rs = await runUnits(markerTasks(12), { threads: 2, stats });
    expect(stats.started).toBe(0); // the prestarted workers ran the units
    const vals = rs.map((r) => r.value as { main: boolean; marker: string | null });
    const inWorker = vals.filter((v) => !v.main);
    expect(inWorker.length).toBeGreaterThan(0); // the worker's first batch is sent at the start
    // Only the preload imported the marker, in the worker, before any of its units ran.
    expect(inWorker.every((v) => v.marker === "preloaded")).toBe(true);
    expect(vals.filter((v) => v.main).every((v) => v.marker === null)).toBe(true);
  });

  it("a module that cannot be loaded does not hang the preload; units of good modules still run", async () => {
    await closeUnitPool();
    await prestartUnitPool(2, [new URL("./fixtures/no-such-module.ts", import.meta.url).href]);
    const rs = await runUnits(spinTasks(() => 1, 6), { threads: 2 });
    expect(rs.length).toBe(6);
    expect(rs.every((r) => r.ok)).toBe(true);
  });

  it("threads ≤ 1 start nothing", async () => {
    await closeUnitPool();
    await prestartUnitPool(1, [units]);
    const stats = {} as PoolStats;
    await runUnits(spinTasks(() => 1, 4), { threads: 2, stats });
    expect(stats.started).toBe(1);
  });

  it("unitModulesFor names each unit kind's own module (which exports its unit) and nothing for the others", async () => {
    const expName = (u: string) => u.split("/").pop()!.replace(/\.(ts|js)$/, "");
    const cases: [unknown, string[], string][] = [
      [{ kind: "flow" }, ["flow-unit"], "flowRunUnit"],
      [{ kind: "cp" }, ["cp-unit"], "cpPointUnit"],
      [{ kind: "compare" }, ["compare-unit"], "compareSeedUnit"],
    ];
    for (const [raw, names, fn] of cases) {
      const mods = unitModulesFor(raw);
      expect(mods.map(expName)).toEqual(names);
      expect(typeof (await import(mods[0]))[fn]).toBe("function");
    }
    const sweep = unitModulesFor({ kind: "sweep", base: { kind: "lsg" } });
    expect(sweep.map(expName)).toEqual(["registry", "lsg"]);
    expect(typeof (await import(sweep[0])).runModelUnit).toBe("function");
    expect(unitModulesFor({ kind: "sweep", base: "other.json" }).map(expName)).toEqual(["registry"]);
    for (const raw of [{ kind: "ode" }, { kind: "simulate" }, { kind: "lsg" }, { kind: "nope" }, null, 3]) expect(unitModulesFor(raw)).toEqual([]);
  });

  it("the unit modules of flow and compare runs do not load the model schema (zod); the kinds' own modules, which validate models, do", () => {
    const dir = resolve(dirname(fileURLToPath(import.meta.url)), "../src/experiments");
    for (const [unit, own, reached] of [["flow-unit", "flow", "../theory/flow-trajectory.ts"], ["compare-unit", "compare", "../theory/saad-solla.ts"]]) {
      const u = loadedModules(join(dir, `${unit}.ts`)), o = loadedModules(join(dir, `${own}.ts`));
      expect([unit, u.has(join(dir, reached))]).toEqual([unit, true]); // the scan follows imports
      expect([own, o.has("zod")]).toEqual([own, true]);
      expect([unit, u.has("zod"), [...u].filter((f) => f.includes("/src/schema/") && !/-defaults\.ts$/.test(f))]).toEqual([unit, false, []]);
    }
  });
});

describe("unit pool: failures and interruption", () => {
  it("a unit that throws is reported with the unit's name and message", async () => {
    const tasks: UnitTask[] = spinTasks(() => 1, 12);
    tasks[7] = { id: 7, module: units, fn: "crash", payload: { id: 7 } };
    const rs = await runUnits(tasks, { threads: 2 });
    const bad = rs.find((r) => !r.ok)!;
    expect(bad.id).toBe(7);
    expect(bad.error).toBe("boom in unit 7");
    expect(bad.userError).toBe(false);
    const spec = {
      module: units, fn: "spin", inProcess: async (p: { id: number; ms: number }) => (p.id === 7 ? crash(p) : spin(p, { aborted: false })),
      isFinal: () => true, unit: "units", describe: (id: number) => `unit ${id} of the test`,
    };
    const payloads = Array.from({ length: 12 }, (_, id) => ({ id, ms: 1 }));
    await expect(runUnitsDurably(payloads, spec, { threads: 1 })).rejects.toThrow(/^unit 7 of the test failed: boom in unit 7$/);
    let err: unknown;
    try { await runUnitsDurably([{ id: 0, ms: 1 }, { id: 7, ms: 1 }], { ...spec, fn: "crash" }, { threads: 2 }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(UserError);
    // Fail-fast: whichever unit failed first stops the run (the other may have been dropped unstarted).
    expect((err as Error).message).toMatch(/^unit (0 of the test failed: boom in unit 0|1 of the test failed: boom in unit 7)$/);
  });

  it("a worker that dies is reported naming the units it was running, and the next call starts a fresh pool", async () => {
    const tasks: UnitTask[] = spinTasks(() => 1, 6);
    // Unit 3 is the first of the worker's lane (units 0–2 are the main thread's): it is sent to the
    // worker before the main thread starts, so it cannot be taken back by the main lane.
    tasks[3] = { id: 3, module: units, fn: "exitWorker", payload: {} };
    await expect(runUnits(tasks, { threads: 2 })).rejects.toThrow(/^worker thread failed while running units? 3(, 4)?: worker thread exited with code 3$/);
    const stats = {} as PoolStats;
    const rs = await runUnits(spinTasks(() => 1, 6), { threads: 2, stats });
    expect(rs.every((r) => r.ok)).toBe(true);
    expect(stats.started).toBe(1); // -j 2: the main thread and one worker
  });

  it("an interrupt in the middle of a batch keeps the finished units; resuming gives the uninterrupted values", async () => {
    const n = 80;
    const payloads = Array.from({ length: n }, (_, id) => ({ id, ms: 15 }));
    const spec = {
      module: units, fn: "spin", inProcess: (p: { id: number; ms: number }, h: { signal?: { aborted: boolean } }) => spin(p, h.signal ?? { aborted: false }),
      isFinal: (v: { status: string }) => v.status === "done", unit: "units", describe: (id: number) => `unit ${id}`,
    };
    const full = await runUnitsDurably(payloads, spec, { threads: 2 });
    expect(full.interrupted).toBe(false);
    const store = memoryStore();
    const ac = new AbortController();
    const stats = {} as PoolStats;
    let seen = 0;
    const cut = await runUnitsDurably(payloads, spec, {
      threads: 2, store, signal: ac.signal, poolStats: stats,
      onProgress: (e) => { seen = e.done; if (e.done >= 25) ac.abort(); },
    });
    expect(cut.interrupted).toBe(true);
    expect(stats.maxBatch).toBeGreaterThan(1); // batches of ~TARGET_BATCH_MS / 15 ms units were in flight
    expect(seen).toBeGreaterThanOrEqual(25);
    const kept = store.keys().length;
    expect(kept).toBe(cut.values.size);
    expect(kept).toBeGreaterThanOrEqual(25);
    expect(kept).toBeLessThan(n);
    for (const [id, v] of cut.values) expect(v).toEqual(full.values.get(id));
    const resumed = await runUnitsDurably(payloads, spec, { threads: 2, store });
    expect(resumed.interrupted).toBe(false);
    expect(JSON.stringify([...resumed.values].sort((a, b) => a[0] - b[0]))).toBe(JSON.stringify([...full.values].sort((a, b) => a[0] - b[0])));
  });
});
