/**
 * Files of a "compare" result (result.json last):
 * mode "teacher-student": compare.csv (per output time: ode_<o>, sgd_<o>, sgd_<o>_se, z_<o>, zpaired_<o>
 *   for o = eps, meanQdiag, meanRmax), runs.csv (per seed), eps.svg, zscore.svg.
 * mode "mixture": compare.csv (log times), snapshots.csv (GET of the SGD weights, Ω^μ), runs.csv,
 *   pmse.svg, ipr.svg, zscore.svg.
 * Always result.json with the model, status, message, timings and the deviation summaries.
 */
import { join } from "node:path";
import { writeJsonAtomic } from "../atomic.js";
import { writeCsv } from "../csv.js";
import { hconcat, lineChart, type LineSeries } from "../../plot/render.js";
import { writePlot } from "../plots.js";
import type { CompareMixtureResult, CompareResult, CompareTeacherStudentResult } from "../../experiments/compare.js";
import { rfdynVersion } from "../version.js";
import { peakRss } from "../resources.js";

export async function writeCompareResult(out: string, result: CompareResult): Promise<void> {
  if (result.mode === "teacher-student") return writeTeacherStudent(out, result);
  return writeMixture(out, result);
}

async function writeTeacherStudent(out: string, result: CompareTeacherStudentResult): Promise<void> {
  const { model: m, table: rows, times, observables: obs } = result;
  const N = m.teacherStudent.N;
  writeCsv(join(out, "compare.csv"), rows);
  writeCsv(join(out, "runs.csv"), result.runs);
  const col = (k: string) => rows.map((r) => r[k]);
  const logX = m.time.spacing === "log";
  await writePlot(join(out, "eps"), lineChart([
    { name: "ODE", x: times, y: col("ode_eps") },
    { name: `SGD mean (${result.seeds} seeds)`, x: times, y: col("sgd_eps") },
    { name: "SGD mean + 2 SE", x: times, y: rows.map((r) => r.sgd_eps + 2 * r.sgd_eps_se) },
    { name: "SGD mean − 2 SE", x: times, y: rows.map((r) => r.sgd_eps - 2 * r.sgd_eps_se) },
  ], { title: `ε: ODE vs SGD (N = ${N})`, xLabel: "t = steps/N", yLabel: "ε", logY: true, logX }));
  await writePlot(join(out, "zscore"), lineChart(obs.map((o) => ({ name: `z_paired ${o}`, x: times.slice(1), y: col(`zpaired_${o}`).slice(1) })), { title: "paired deviation (SGD − ODE) in SE units", xLabel: "t = steps/N", yLabel: "z (SE units)", logX }));
  writeJsonAtomic(join(out, "result.json"), {
    kind: "compare", mode: m.mode, version: rfdynVersion(), status: result.status, message: result.message, seed: m.seed, seeds: result.seeds, model: m,
    wallTime: result.timings.wall, odeRhsEvaluations: result.nRhs, timings: peakRss(),
    summary: result.deviations,
    conventions: {
      z: "(ODE mean − SGD mean) / SGD standard error", zPaired: "mean(SGD_s − ODE_s) / SE, each ODE from its own seed's initial weights",
      eps: "noise-free ½E[(y* − φ)²] computed exactly from the order parameters (no test-set noise)",
    },
    files: ["compare.csv", "runs.csv", "eps.svg", "zscore.svg"],
  });
}

async function writeMixture(out: string, result: CompareMixtureResult): Promise<void> {
  const { model: m, D, K } = result;
  if (result.seeds === 0) {
    writeJsonAtomic(join(out, "result.json"), { kind: "compare", mode: m.mode, version: rfdynVersion(), status: result.status, message: result.message, seeds: 0, model: m, timings: peakRss() });
    return;
  }
  const { table: rows, snapshots: snapRows, times: T, datasets } = result;
  const nSeeds = result.seeds;
  writeCsv(join(out, "compare.csv"), rows);
  writeCsv(join(out, "snapshots.csv"), snapRows);
  writeCsv(join(out, "runs.csv"), result.runs);

  const col = (k: string) => rows.map((r) => r[k]);
  const pm: LineSeries[] = [{ name: "ODE (Gaussian equivalence)", x: T, y: col("ode_pmse") }];
  for (const ds of datasets) {
    pm.push({ name: `SGD on ${ds} (mean of ${nSeeds})`, x: T, y: col(`sgd_${ds}_pmse`) });
    pm.push({ name: `SGD on ${ds} ± 2 SE`, x: T, y: rows.map((r) => r[`sgd_${ds}_pmse`] + 2 * r[`sgd_${ds}_pmse_se`]) });
  }
  const cum = result.cumulant.length > 0;
  if (cum) pm.push({ name: `cumulant theory (mean of ${Math.min(result.cumulant.length, nSeeds)})`, x: T, y: col("cum_pmse") });
  const snapT = snapRows.map((r) => r.t);
  for (const ds of datasets) pm.push({ name: `GET of SGD-${ds} weights`, x: snapT, y: snapRows.map((r) => r[`sgd_${ds}_get_pmse`]) });
  const acc: LineSeries[] = [{ name: "ODE (Gaussian model)", x: T, y: col("ode_accuracy") }, ...datasets.map((ds) => ({ name: `SGD on ${ds}`, x: T, y: col(`sgd_${ds}_accuracy`) }))];
  if (cum) acc.push({ name: "cumulant theory (Edgeworth)", x: T, y: col("cum_accuracy") });
  await writePlot(join(out, "pmse"), hconcat([
    lineChart(pm, { title: "pmse ⟨(y − φ)²⟩: ODE vs SGD", xLabel: "t = steps/D", yLabel: "pmse", logX: true }),
    lineChart(acc, { title: "accuracy", xLabel: "t = steps/D", yLabel: "accuracy", logX: true }),
  ]));
  await writePlot(join(out, "ipr"), lineChart([...datasets.map((ds) => ({ name: `SGD on ${ds}: mean IPR`, x: T, y: col(`sgd_${ds}_meanIpr`) })),
    ...(cum ? [{ name: "cumulant theory: mean IPR (W + noise part)", x: T, y: col("cum_meanIpr") }, { name: "cumulant theory: mean IPR of W", x: T, y: col("cum_meanIpr_weights") }] : [])], { title: `mean IPR of the SGD weights (random ≈ 3/D = ${(3 / D).toPrecision(2)})`, xLabel: "t = steps/D", yLabel: "IPR", logX: true }));
  await writePlot(join(out, "zscore"), lineChart([...datasets.map((ds) => ({ name: `z_paired pmse (${ds})`, x: T.slice(1), y: col(`zpaired_${ds}_pmse`).slice(1) })),
    ...(cum ? datasets.map((ds) => ({ name: `z_paired pmse, cumulant theory (${ds})`, x: T.slice(1), y: col(`zpaired_cum_${ds}_pmse`).slice(1) })) : [])], { title: "paired deviation (SGD − ODE) of the test pmse in SE units", xLabel: "t = steps/D", yLabel: "z (SE units)", logX: true }));

  writeJsonAtomic(join(out, "result.json"), {
    kind: "compare", mode: m.mode, version: rfdynVersion(), status: result.status, message: result.message, seed: m.seed, seeds: nSeeds, model: m, D, K,
    wallTime: result.timings.wall, sgdWallTime: result.timings.sgd, odeWallTime: result.timings.ode, odeRhsEvaluations: result.nRhs, modeGroups: result.modeGroups, timings: peakRss(),
    summary: result.deviations,
    ...(cum ? { cumulant: result.cumulantSummary } : {}),
    conventions: {
      ...(cum ? { cumulant: "cum_*: weight-space theory with the first Edgeworth (4th-cumulant) correction, mean over the first cumulant.seeds seeds; z_cum = (theory − SGD mean)/SGD SE; gap_closed = (GET − theory)/(GET − SGD) pmse; gapClosedWindow = Σ(GET−theory)(GET−SGD)/Σ(GET−SGD)² over the times after the SGD mean IPR made 10 % of its rise; cum_meanIpr includes the evenly spread SGD-noise part" } : {}),
      pmse: "IG22 eq. (9) ⟨(y − φ)²⟩ (no ½); SGD: held-out test set of sgd.testSize examples; ODE: exact Gaussian expectation",
      z: "(ODE mean − SGD mean) / SGD standard error; zPaired: mean(SGD_s − ODE_s)/SE with each ODE from its own seed's initial weights",
      time: "t = steps/D, SGD θ ← θ − (η/D) ∂L/∂θ, λ = w·x + b",
      odeInputs: "the ODE uses the exact class covariances: exact for GP, Gaussian equivalence (GET) for NLGP",
    },
    files: ["compare.csv", "snapshots.csv", "runs.csv", "pmse.svg", "ipr.svg", "zscore.svg"],
  });
}
