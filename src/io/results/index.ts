/**
 * Write any Result into an output directory: CSV tables, .npy arrays, SVG plots with their
 * Vega-Lite specs, and result.json last (so its presence means the files are complete).
 */
import type { AnyResult } from "../../experiments/index.js";

export async function writeResult(out: string, result: AnyResult): Promise<void> {
  switch (result.kind) {
    case "simulate": return (await import("./simulate.js")).writeSimulateResult(out, result);
    case "flow": return (await import("./flow.js")).writeFlowResult(out, result);
    case "cp": return (await import("./cp.js")).writeCpResult(out, result);
    case "attractors": return (await import("./attractors.js")).writeAttractorsResult(out, result);
    case "lsg": return (await import("./lsg.js")).writeLsgResult(out, result);
    case "ode": return (await import("./ode.js")).writeOdeResult(out, result);
    case "compare": return (await import("./compare.js")).writeCompareResult(out, result);
    case "sweep": return (await import("./sweep.js")).writeSweepResult(out, result);
  }
}
