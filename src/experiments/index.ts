/**
 * Every model kind, by name.  `runModel(raw, hooks)` validates a raw model (its "kind" selects the
 * schema) and runs it; `experiment(kind)` gives the kind's schema and run function.  Loaders are
 * lazy so a run only loads the code of its own kind.
 */
import { baseLoaders, checkKind, prestartUnitWorkers, type AnyExperiment, type BaseResult } from "./registry.js";
import type { ExperimentHooks } from "./types.js";
import type { SweepResult } from "./sweep.js";

export type { Experiment, ExperimentHooks, ResultBase } from "./types.js";
export type { AnyExperiment, BaseKind, BaseResult } from "./registry.js";
export { prestartUnitWorkers, unitModulesFor } from "./registry.js";

/** The result of any model kind (discriminated by `kind`). */
export type AnyResult = BaseResult | SweepResult;
export type Kind = AnyResult["kind"];
/** The result type of one kind. */
export type ResultOf<K extends Kind> = Extract<AnyResult, { kind: K }>;

const loaders: Record<Kind, () => Promise<AnyExperiment>> = {
  ...baseLoaders,
  sweep: async () => (await import("./sweep.js")).sweepExperiment,
};

export const kinds = Object.keys(loaders) as Kind[];

/** The kind of a raw model, checked (UserError naming model.kind otherwise). */
export function kindOf(raw: unknown, field = "model.kind"): Kind {
  return checkKind(raw, kinds, field);
}

/** The experiment (schema + run) of a kind. */
export async function experiment(kind: Kind): Promise<AnyExperiment> {
  return loaders[checkKind({ kind }, kinds)]();
}

/** Validate a raw model of any kind (returns the kind and the validated model). */
export async function parseModel(raw: unknown): Promise<{ kind: Kind; model: unknown }> {
  const kind = kindOf(raw);
  return { kind, model: (await experiment(kind)).parse(raw) };
}

/** Validate and run a raw model of any kind. */
export async function runModel(raw: unknown, hooks: ExperimentHooks = {}): Promise<AnyResult> {
  prestartUnitWorkers(raw, hooks.threads);
  const { kind, model } = await parseModel(raw);
  return (await (await experiment(kind)).run(model, hooks)) as AnyResult;
}
