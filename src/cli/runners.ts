/**
 * Model-kind registry: `rfdyn run model.json` reads `kind` and calls the matching runner.  Each
 * command module registers its runner here (one line per kind).
 */
import type { RunContext } from "./common.js";

export type Runner = (model: Record<string, unknown>, ctx: RunContext, modelPath: string) => Promise<void>;

/** Lazy loaders so `rfdyn run` only imports the code of the kind it runs. */
export const runners: Record<string, () => Promise<Runner>> = {
  simulate: async () => (await import("./commands/simulate.js")).runSimulate,
  flow: async () => (await import("./commands/flow.js")).runFlow,
  cp: async () => (await import("./commands/cp.js")).runCp,
  attractors: async () => (await import("./commands/attractors.js")).runAttractors,
  lsg: async () => (await import("./commands/lsg.js")).runLsgCommand,
  sweep: async () => (await import("./commands/sweep.js")).runSweepCommand,
  ode: async () => (await import("./commands/ode.js")).runOde,
  compare: async () => (await import("./commands/compare.js")).runCompare,
};
