/**
 * Kind "flow": the single-neuron gradient flow of IG22 (gaussian | full | cp | exact), optionally
 * swept over the input gain (IG22 Fig. 4B) with independent replicates.
 *
 * For each (gain, replicate): draw the data set, split it per class, build the class covariances and
 * (variant cp) the CP factors — given inline, exact diagonal, or computed from the class's samples
 * (src/cp) — and integrate the flow (src/theory/flow-trajectory.ts), recording IPR(t), q^μ(t), |w|(t)
 * and the weights.  No file I/O: factor and weight files are loaded into the model beforehand
 * (src/io/model-files.ts `resolveModelFiles`).
 *
 * Seeding: replicate r draws its data set from Rng.stream(seed, 2r) and its initial weights from
 * Rng.stream(seed, 2r+1), the same for every gain of a sweep (common random numbers: the NLGP's
 * underlying Gaussian fields are identical across gains, only the non-linearity changes).  Every
 * run depends only on its own (gain, replicate), so runs are independent units: with
 * `hooks.threads` > 1 they run on worker threads (`flowRunUnit`) with results identical to a serial run.
 */
import { parseWith } from "../schema/common.js";
import { flowSchema, type FlowModel } from "../schema/flow.js";
import type { ExperimentHooks, Experiment, ResultBase } from "./types.js";
import type { RunStatus } from "../run/hooks.js";
import type { FlowCoefficients } from "../theory/coefficients.js";
import { quartiles } from "../stats/summary.js";
import { runUnitsDurably } from "./units.js";
import { flowRun, flowUnitModule, gainSetup, prepare, type FlowRunPayload, type FlowRunRecord, type FlowRunValue } from "./flow-unit.js";

export { factorsFromRows, flowRunUnit, type FlowRunPayload, type FlowRunRecord, type FlowRunValue } from "./flow-unit.js";

export interface FlowResult extends ResultBase<"flow", FlowModel> {
  D: number;
  coefficients: FlowCoefficients;
  /** The runs that finished (or were interrupted during integration), in (gain, replicate) order. */
  runs: FlowRunRecord[];
}

function runLine(rec: FlowRunRecord, R: number): string {
  const tr = rec.trajectory;
  return `${rec.gain === null ? "" : `g = ${rec.gain}: `}${R > 1 ? `replicate ${rec.replicate}: ` : ""}IPR = ${tr.ipr[tr.ipr.length - 1].toFixed(4)} at t = ${tr.tEnd.toPrecision(4)} (${tr.status}${tr.reason ? `: ${tr.reason}` : ""}, ${tr.nRhs} RHS)`;
}

/** Run every (gain, replicate) of a validated flow model. */
export async function runFlow(model: FlowModel, hooks: ExperimentHooks = {}): Promise<FlowResult> {
  const wall0 = performance.now();
  const s = await prepare(model);
  const R = model.replicates;
  const total = s.gains.length * R;
  const runs: FlowRunRecord[] = [];
  let interrupted = false;
  const phaseOf = (gi: number, r: number) => {
    const g = s.gains[gi];
    const parts = [g === null ? "" : `g=${g}`, R > 1 ? `rep ${r}` : ""].filter((x) => x);
    return parts.length > 0 ? parts.join(" ") : undefined;
  };
  // One unit per (gain, replicate); in-process, the class samplers of a gain are built once.
  let cached: { gi: number; gs: ReturnType<typeof gainSetup> } | null = null;
  const { values, interrupted: cut } = await runUnitsDurably<FlowRunPayload, FlowRunValue>(
    Array.from({ length: total }, (_, run) => ({ model, run })),
    {
      module: flowUnitModule,
      fn: "flowRunUnit",
      inProcess: (p, h, threads) => {
        const gi = Math.floor(p.run / R);
        if (cached?.gi !== gi) cached = { gi, gs: gainSetup(s, gi) };
        return flowRun(s, cached.gs, p.run % R, h, threads);
      },
      isFinal: (v) => !v.interrupted && v.record !== null,
      unit: "runs",
      describe: (id) => `flow run ${id}${phaseOf(Math.floor(id / R), id % R) ? ` (${phaseOf(Math.floor(id / R), id % R)})` : ""}`,
      label: (id) => phaseOf(Math.floor(id / R), id % R),
      onFinal: (_id, v) => { if (v.record) hooks.log?.(runLine(v.record, R)); },
    },
    hooks,
  );
  for (let id = 0; id < total; id++) {
    const v = values.get(id);
    if (v?.record) runs.push(v.record);
  }
  interrupted = cut;
  hooks.onProgress?.({ done: interrupted ? runs.length : total, total, unit: "runs" });

  // Status: interrupted; else the status of the runs if every run failed (e.g. a single run that
  // blew up), else done (a sweep records failed runs as results).
  const statuses = runs.map((x) => x.trajectory.status);
  let status: RunStatus = "done";
  if (interrupted) status = "interrupted";
  else if (statuses.length > 0 && statuses.every((x) => x === "diverged" || x === "failed")) status = statuses.includes("diverged") ? "diverged" : "failed";
  const finals = runs.map((x) => x.trajectory.ipr[x.trajectory.ipr.length - 1]);
  const last = runs.at(-1);
  const bad = runs.filter((x) => x.trajectory.status === "diverged" || x.trajectory.status === "failed").length;
  const message = `${runs.length}/${total} run(s) of the ${model.variant} flow, ${status}`
    + (last ? `; last IPR ${finals[finals.length - 1].toFixed(4)} at t = ${last.trajectory.tEnd.toPrecision(4)} (${last.trajectory.status}${last.trajectory.reason ? `: ${last.trajectory.reason}` : ""})` : "")
    + (bad > 0 ? `; ${bad} run(s) diverged or failed` : "");
  return {
    kind: "flow",
    status,
    message,
    model,
    seed: model.seed,
    timings: { wall: (performance.now() - wall0) / 1000 },
    summary: {
      D: s.D,
      runs: runs.length,
      ipr: finals.length > 0 ? finals[finals.length - 1] : NaN,
      iprMedian: quartiles(finals).median,
      tEnd: last ? last.trajectory.tEnd : NaN,
      c4: s.coefficients.c4,
    },
    D: s.D,
    coefficients: s.coefficients,
    runs,
  };
}

export const flowExperiment: Experiment<FlowModel, FlowResult> = {
  kind: "flow",
  describe: "single-neuron gradient flow of IG22 (gaussian | full | cp | exact), optionally swept over the gain",
  parse: (raw) => parseWith(flowSchema, raw),
  run: runFlow,
};
