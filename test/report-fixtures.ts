/**
 * Run directories for the report tests: quick variants of shipped models (golden fixtures), run
 * through the library as `rfdyn run` does, once per test file, into a temporary directory:
 *   lsg-ode   LSG24 effective ODE (lsg24-single-ode quick)
 *   lsg-sgd   the same model by online SGD (overlays with lsg-ode: both write ipr and rf)
 *   flow      IG22 Fig. 4B Gaussian-only flow, IPR vs gain (the flat curve)
 *   simulate  IG22 Fig. 1 quick (heat map of receptive fields, hconcat of line charts)
 *   sweep     LSG24 kurtosis sweep by the effective ODE (layered mean ± sd plot)
 */
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runModel } from "../src/experiments/index.js";
import { inlineReferences } from "../src/io/read-model.js";
import { writeResult } from "../src/io/results/index.js";
import { writeSweepResult } from "../src/io/results/sweep.js";
import { setPlotOutput } from "../src/io/plots.js";

const root = join(__dirname, "..");
const golden = (name: string) => JSON.parse(readFileSync(join(root, "test", "fixtures", "golden", `${name}.model.json`), "utf8")) as Record<string, unknown>;

export interface ReportFixture {
  base: string;
  dirs: Record<"lsgOde" | "lsgSgd" | "flow" | "simulate" | "sweep", string>;
}

async function runInto(dir: string, raw: Record<string, unknown>): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const r = await runModel(inlineReferences(raw, join(root, "test", "fixtures", "golden")));
  if (r.status !== "done" && r.status !== "steady" && r.status !== "event") throw new Error(`${dir}: ${r.status}: ${r.message}`);
  if (r.kind === "sweep") await writeSweepResult(dir, r, "");
  else await writeResult(dir, r);
}

export async function makeReportFixture(): Promise<ReportFixture> {
  const base = mkdtempSync(join(tmpdir(), "rfdyn-report-"));
  // PNGs are not part of the report (it draws the specs): skip them to keep the tests quick.
  setPlotOutput({ png: false });
  const dirs = { lsgOde: join(base, "lsg-ode"), lsgSgd: join(base, "lsg-sgd"), flow: join(base, "flow"), simulate: join(base, "simulate"), sweep: join(base, "sweep") };
  const ode = golden("lsg24-single-ode");
  await runInto(dirs.lsgOde, ode);
  await runInto(dirs.lsgSgd, { ...ode, dynamics: "sgd", sgd: { lr: 0.05, t1: 50, samples: 20 } });
  await runInto(dirs.flow, golden("ig22-fig4b-gaussian"));
  await runInto(dirs.simulate, golden("ig22-fig1"));
  await runInto(dirs.sweep, golden("lsg24-kurtosis-ode"));
  return { base, dirs };
}
