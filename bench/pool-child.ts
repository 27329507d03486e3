/**
 * One run of the pool benchmark's grid models (bench/pool.ts), in its own process as a user's run
 * would be:  node pool-child.js <cp|flow|compare|sweep> <threads>.
 * Prints one JSON line {wall, cpu, digest, perLane, steals, meanUnitMs}: wall and CPU seconds of the
 * whole process from its start (module loading included), a sha256 of the result without its
 * wall-clock fields, and the pool's statistics.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { runBaseModel } from "../src/experiments/registry.js";
import { parseSweepModel, runSweep } from "../src/experiments/sweep.js";
import { closeUnitPool, type PoolStats } from "../src/parallel/pool.js";

const golden = (n: string) => JSON.parse(readFileSync(resolve("test/fixtures/golden", `${n}.model.json`), "utf8"));

/** The grid models: golden quick variants scaled up to about 10 s at -j 1 on an idle core. */
export function gridModel(kind: string): Record<string, unknown> {
  if (kind === "cp") {
    const m = golden("ig22-fig4c-cp");
    m.sweep.gain = [1, 2, 3, 5];
    m.sweep.samples = 8;
    m.data.geometry.L = 100;
    return m; // 4 gains × 2 ξ × 8 samples = 64 decompositions
  }
  if (kind === "flow") {
    const m = golden("ig22-fig4b-full");
    m.gains = [0.3, 1, 3, 10, 30, 100];
    m.replicates = 6;
    m.task.geometry.L = 100;
    m.alpha = 40;
    return m; // 6 gains × 6 replicates = 36 flow runs
  }
  if (kind === "compare") {
    const m = golden("saad-solla-plateau");
    m.sgd.seeds = 16;
    m.teacherStudent.N = 500;
    m.time.end = 100;
    return m; // 16 seeds, an ODE and an SGD run each
  }
  const raw = JSON.parse(readFileSync(resolve("models/lsg24-kurtosis-ode.json"), "utf8"));
  raw.grid = [raw.grid[0]];
  raw.seeds.count = 20;
  return raw; // 10 gains × 20 seeds
}

const clockFields = new Set(["timings", "wallTime", "wallSeconds", "trainTime", "stepsPerSecond", "message", "started", "peakRssMB", "seconds"]);
const strip = (r: unknown) => JSON.stringify(r, (k, v) => (clockFields.has(k) ? undefined : ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v));

async function main(): Promise<void> {
  const kind = process.argv[2];
  const threads = Number(process.argv[3]);
  const stats = {} as PoolStats;
  const raw = gridModel(kind);
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
    steals: stats.steals ?? 0,
    meanUnitMs: stats.meanUnitMs ?? 0,
  };
  process.stdout.write(JSON.stringify(out) + "\n");
}

await main();
