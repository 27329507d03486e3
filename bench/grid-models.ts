/**
 * The models of the pool benchmarks (bench/pool.ts, bench/pool-child.ts), in a module of their own
 * that imports nothing of the library, so a child process can build its model before loading any
 * run code (as the CLI reads the model file first).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const golden = (n: string) => JSON.parse(readFileSync(resolve("test/fixtures/golden", `${n}.model.json`), "utf8"));

/**
 * The models of the pool benchmarks (run from the repository root): golden quick variants scaled up
 * to 4–10 s at -j 1 on an idle core, and ("sweep") models/lsg24-kurtosis-ode.json reduced to its
 * NLGP block × 20 seeds.  `scale` multiplies the number of units (samples, replicates, seeds) and
 * leaves each unit as it is: scale 4 gives grid runs of 15–40 s, still far shorter than the shipped
 * paper models they are cut from (minutes to tens of minutes).
 */
export function gridModel(kind: string, scale = 1): Record<string, unknown> {
  if (kind === "cp") {
    const m = golden("ig22-fig4c-cp");
    m.sweep.gain = [1, 2, 3, 5];
    m.sweep.samples = 8 * scale;
    m.data.geometry.L = 100;
    return m; // 4 gains × 2 ξ × 8 samples = 64 decompositions (× scale)
  }
  if (kind === "flow") {
    const m = golden("ig22-fig4b-full");
    m.gains = [0.3, 1, 3, 10, 30, 100];
    m.replicates = 6 * scale;
    m.task.geometry.L = 100;
    m.alpha = 40;
    return m; // 6 gains × 6 replicates = 36 flow runs (× scale)
  }
  if (kind === "compare") {
    const m = golden("saad-solla-plateau");
    m.sgd.seeds = 16 * scale;
    m.teacherStudent.N = 500;
    m.time.end = 100;
    return m; // 16 seeds (× scale), an ODE and an SGD run each
  }
  const raw = JSON.parse(readFileSync(resolve("models/lsg24-kurtosis-ode.json"), "utf8")); // from the repository root
  raw.grid = [raw.grid[0]];
  raw.seeds.count = 20 * scale;
  return raw; // 10 gains × 20 seeds (× scale)
}
