/**
 * One run of the pool benchmark's grid models (bench/pool.ts), in its own process as a user's run
 * would be:  node pool-child.js <cp|flow|compare|sweep> <threads> [scale].
 * Prints one JSON line {wall, cpu, digest, perLane, steals, meanUnitMs}: wall and CPU seconds of the
 * whole process from its start (module loading included), a sha256 of the result without its
 * wall-clock fields, and the pool's statistics.
 */
import { createHash } from "node:crypto";
import { closeUnitPool, type PoolStats } from "../src/parallel/pool.js";
import { gridModel } from "./grid-models.js";
import { prestartUnitWorkers, runBaseModel } from "../src/experiments/registry.js";

const clockFields = new Set(["timings", "wallTime", "wallSeconds", "trainTime", "stepsPerSecond", "message", "started", "peakRssMB", "seconds"]);
const strip = (r: unknown) => JSON.stringify(r, (k, v) => (clockFields.has(k) ? undefined : ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v));

async function main(): Promise<void> {
  const kind = process.argv[2];
  const threads = Number(process.argv[3]);
  const stats = {} as PoolStats;
  // As the CLI does: the model first, the workers started, then the run code loaded (the registry and
  // the pool are light; each kind's code, and the sweep driver, load on demand).
  const raw = gridModel(kind, Number(process.argv[4] ?? 1));
  if (process.env.RFDYN_NO_PRESTART !== "1") prestartUnitWorkers(raw, threads);
  const { parseSweepModel, runSweep } = await import("../src/experiments/sweep.js");
  const r = kind === "sweep"
    ? (await runSweep(parseSweepModel(raw), { threads, poolStats: stats })).runs
    : await runBaseModel(raw, { threads, poolStats: stats });
  await closeUnitPool();
  const c = process.cpuUsage();
  const out = {
    wall: performance.now() / 1000, // since the process started
    cpu: (c.user + c.system) / 1e6,
    digest: createHash("sha256").update(strip(r)).digest("hex"),
    perLane: stats.perWorker ?? [],
    busyMs: (stats.busyMs ?? []).map(Math.round),
    firstDoneMs: (stats.firstDoneMs ?? []).map(Math.round),
    steals: stats.steals ?? 0,
    meanUnitMs: stats.meanUnitMs ?? 0,
  };
  process.stdout.write(JSON.stringify(out) + "\n");
}

await main();
