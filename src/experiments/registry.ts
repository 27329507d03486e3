/**
 * The model kinds that a sweep can run, by name: `experiment(kind)` gives a kind's schema and run
 * function, `runModel(raw, hooks)` validates a raw model (its "kind" selects the schema) and runs
 * it.  Loaders are lazy so a run only loads the code of its own kind.  The sweep kind itself is
 * added on top of these in ./index.ts (it runs these, so it cannot be one of them).
 */
import { UserError } from "../run/errors.js";
import { prestartUnitPool } from "../parallel/pool.js";
import { siblingModule } from "../kernels/worker-entry.js";
import type { AbortLike, RunHooks } from "../run/hooks.js";
import type { Experiment, ExperimentHooks } from "./types.js";
import type { SimulateResult } from "./simulate.js";
import type { FlowResult } from "./flow.js";
import type { CpResult } from "./cp.js";
import type { AttractorsResult } from "./attractors.js";
import type { LsgResult } from "./lsg.js";
import type { OdeResult } from "./ode.js";
import type { CompareResult } from "./compare.js";

/** The result of any kind a sweep can run (discriminated by `kind`). */
export type BaseResult = SimulateResult | FlowResult | CpResult | AttractorsResult | LsgResult | OdeResult | CompareResult;
export type BaseKind = BaseResult["kind"];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyExperiment = Experiment<any, any>;

export const baseLoaders: Record<BaseKind, () => Promise<AnyExperiment>> = {
  simulate: async () => (await import("./simulate.js")).simulateExperiment,
  flow: async () => (await import("./flow.js")).flowExperiment,
  cp: async () => (await import("./cp.js")).cpExperiment,
  attractors: async () => (await import("./attractors.js")).attractorsExperiment,
  lsg: async () => (await import("./lsg.js")).lsgExperiment,
  ode: async () => (await import("./ode.js")).odeExperiment,
  compare: async () => (await import("./compare.js")).compareExperiment,
};

/** The kind of a raw model among `allowed`, checked (UserError naming the field otherwise). */
export function checkKind<K extends string>(raw: unknown, allowed: readonly K[], field = "model.kind"): K {
  const k = rawKind(raw);
  if (k === undefined) throw new UserError(`${field}: required, one of ${allowed.join(", ")}`);
  if (typeof k !== "string" || !(allowed as readonly string[]).includes(k)) throw new UserError(`${field}: must be one of ${allowed.join(", ")} (got ${JSON.stringify(k)})`);
  return k as K;
}

export const baseKinds = Object.keys(baseLoaders) as BaseKind[];

/** Validate and run a raw model of a kind a sweep can run. */
export async function runBaseModel(raw: unknown, hooks: ExperimentHooks = {}): Promise<BaseResult> {
  prestartUnitWorkers(raw, hooks.threads);
  const exp = await baseLoaders[checkKind(raw, baseKinds)]();
  return (await exp.run(exp.parse(raw), hooks)) as BaseResult;
}

/** URL of this module, naming its pool units (works from sources and from dist/). */
export const registryUrl = import.meta.url;

/** The "kind" field of a raw (unvalidated) model, if it is an object. */
function rawKind(raw: unknown): unknown {
  return raw !== null && typeof raw === "object" ? (raw as { kind?: unknown }).kind : undefined;
}

/** The kinds whose runs are made of pool units, and the module of their units (see units.ts). */
const unitModuleOf: Partial<Record<BaseKind, string>> = { flow: "flow-unit", cp: "cp-unit", compare: "compare-unit" };

/**
 * The URLs of the modules whose exports the pool units of a run of `raw` are (flow, cp, compare:
 * ./flow-unit.ts, ./cp-unit.ts, ./compare-unit.ts, without the model schema; sweep: this module's
 * `runModelUnit` and the base kind's module), or none
 * for kinds that do not run pool units; read from the raw model without validating it.
 */
export function unitModulesFor(raw: unknown): string[] {
  const kind = rawKind(raw);
  if (kind === "sweep") {
    const baseKind = rawKind((raw as { base?: unknown }).base);
    const base = typeof baseKind === "string" && (baseKinds as string[]).includes(baseKind) ? [siblingModule(import.meta.url, baseKind).href] : [];
    return [registryUrl, ...base];
  }
  const own = typeof kind === "string" ? unitModuleOf[kind as BaseKind] : undefined;
  return own ? [siblingModule(import.meta.url, own).href] : [];
}

/**
 * With threads > 1, start the worker pool of a run of `raw` now (src/parallel/pool.ts
 * `prestartUnitPool`) and have the workers load the modules of its units (`unitModulesFor`) —
 * before the caller loads the kind's own code, validates the model and sets up — so that a worker's
 * start-up overlaps that work instead of following it.  Called by the CLI and by
 * `runModel`/`runBaseModel`; harmless when the run turns out to need no pool (a single unit): the
 * idle workers cost their start-up only.  Never throws (a bad model is reported by its validation).
 */
export function prestartUnitWorkers(raw: unknown, threads: number | undefined): void {
  if (!(threads !== undefined && Number.isInteger(threads) && threads > 1 && threads <= 1024)) return;
  const modules = unitModulesFor(raw);
  if (modules.length > 0) void prestartUnitPool(threads, modules);
}

/** What a sweep records of one run: its status and summary, or the error of a run that failed. */
export interface ModelUnitValue {
  status: BaseResult["status"] | "error";
  message: string;
  summary: Record<string, number>;
}

/**
 * One sweep run (pool unit, see src/parallel/worker.ts, and the in-process path of a sweep).  Bad
 * input is rethrown (the sweep stops with that message); any other failure is recorded as status
 * "error" so the rest of the grid still runs.
 */
export async function runModelUnit(raw: unknown, signal: AbortLike, hooks: RunHooks = {}): Promise<ModelUnitValue> {
  try {
    const r = await runBaseModel(raw, { ...hooks, signal });
    return { status: r.status, message: r.message, summary: r.summary };
  } catch (e) {
    if (e instanceof UserError) throw e;
    return { status: "error", message: e instanceof Error ? e.message.split("\n")[0] : String(e), summary: {} };
  }
}
