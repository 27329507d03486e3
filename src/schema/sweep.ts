/**
 * Model-file schema for kind "sweep": a grid of runs of another model kind.
 *
 *   {
 *     "kind": "sweep", "name": "lsg24-kurtosis-ode",
 *     "base": { "kind": "lsg", … }            // or "base": "other-model.json" (relative to this file)
 *     "grid": [                                // one block, or a list of blocks (their union)
 *       { "name": "NLGP", "set": {"data.marginal": {"kind": "nlgp", "convention": "ig22"}},
 *         "axes": {"data.marginal.gain": {"logspace": [-2, 2, 10]}} },
 *       { "name": "Kur(k)", "set": {"data.marginal": {"kind": "kur"}},
 *         "axes": {"data.marginal.k": {"linspace": [4.5, 50, 10]}} }
 *     ],
 *     "seeds": {"from": 1, "count": 30},       // replicate seeds (aggregated over: mean ± sd)
 *     "seedMode": "per-point",                 // run seed = Rng.stream(s, point index) draw; "common": s itself
 *     "seedPath": "seed",                      // where the run seed goes in the base model
 *     "metrics": ["ipr", "kurtosis"],          // summary figures to aggregate (default: all numeric)
 *     "plot": {"x": "kurtosis", "y": "ipr", "logX": true}
 *   }
 *
 * Axis values: a list of JSON values, {"linspace": [a, b, n]}, {"logspace": [a, b, n]} (10^a … 10^b,
 * like numpy), or {"from": a, "count": n, "step": 1}.  Paths are dotted with optional [i] indices
 * ("data.classes[1].xi" or "data.classes.1.xi").  A grid axis named like `seedPath` is not allowed:
 * replicate seeds come from "seeds".
 */
import { z } from "zod";
import { fmtGot, posInt } from "./common.js";

export const axisValues = z.union([
  z.array(z.unknown()).min(1).max(100000),
  z.object({ linspace: z.tuple([z.number(), z.number(), posInt(100000)]) }).strict(),
  z.object({ logspace: z.tuple([z.number().min(-300).max(300), z.number().min(-300).max(300), posInt(100000)]) }).strict(),
  z.object({ from: z.number(), count: posInt(100000), step: z.number().default(1) }).strict(),
]);

const pathKey = z.string().min(1).max(300).regex(/^[A-Za-z_$][\w$]*(\[\d+\]|\.[\w$]+)*$/, "must be a dotted path like data.marginal.gain");

export const blockSchema = z
  .object({
    name: z.string().min(1).max(100).optional(),
    set: z.record(pathKey, z.unknown()).default({}),
    axes: z.record(pathKey, axisValues).default({}),
  })
  .strict();

const sweepShape = z
  .object({
    kind: z.literal("sweep"),
    name: z.string().max(200).optional(),
    description: z.string().max(4000).optional(),
    base: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
    grid: z.union([blockSchema, z.array(blockSchema).min(1).max(1000)]),
    seeds: z
      .object({ from: z.number().int().min(0).max(2 ** 53 - 1).default(1), count: posInt(100000).default(1) })
      .strict()
      .default({ from: 1, count: 1 }),
    seedMode: z.enum(["per-point", "common"]).default("per-point"),
    seedPath: pathKey.default("seed"),
    metrics: z.array(z.string().min(1)).min(1).optional(),
    plot: z
      .object({
        x: z.string().min(1).optional(),
        y: z.string().min(1).optional(),
        logX: z.boolean().default(false),
        logY: z.boolean().default(false),
        title: z.string().max(200).optional(),
      })
      .strict()
      .default({ logX: false, logY: false }),
  })
  .strict();

/** Largest number of grid points (enumerated in memory) and of runs (points × seeds.count). */
export const MAX_SWEEP_POINTS = 1_000_000;
export const MAX_SWEEP_RUNS = 10_000_000;

/** Where a free-form value holds NaN or ±Infinity (1e999 in JSON): copies of the base would turn it into null. */
function nonFinite(v: unknown, path: (string | number)[]): { path: (string | number)[]; value: number } | null {
  if (typeof v === "number") return Number.isFinite(v) ? null : { path, value: v };
  if (v === null || typeof v !== "object") return null;
  for (const [k, x] of Array.isArray(v) ? v.entries() : Object.entries(v)) {
    const r = nonFinite(x, [...path, k]);
    if (r) return r;
  }
  return null;
}

/** Number of values of one axis. */
function axisLength(a: AxisValues): number {
  if (Array.isArray(a)) return a.length;
  if ("linspace" in a) return a.linspace[2];
  if ("logspace" in a) return a.logspace[2];
  return a.count;
}

/** Cross-field checks of a sweep: finite free-form values, and grid / run counts that fit in memory. */
function checkSweep(m: z.infer<typeof sweepShape>, ctx: z.core.$RefinementCtx): void {
  const blocks = Array.isArray(m.grid) ? m.grid : [m.grid];
  const bad = nonFinite(m.base, ["base"]) ??
    blocks.reduce<ReturnType<typeof nonFinite>>((r, b, i) => r ?? nonFinite(b.set, Array.isArray(m.grid) ? ["grid", i, "set"] : ["grid", "set"]) ?? nonFinite(b.axes, Array.isArray(m.grid) ? ["grid", i, "axes"] : ["grid", "axes"]), null);
  if (bad) ctx.addIssue({ code: "custom", path: bad.path, message: `must be a finite number (got ${fmtGot(bad.value)})` });
  const points = blocks.reduce((n, b) => n + Object.values(b.axes).reduce((p, a) => p * axisLength(a), 1), 0);
  if (points > MAX_SWEEP_POINTS) ctx.addIssue({ code: "custom", path: ["grid"], message: `must have ≤ ${MAX_SWEEP_POINTS} points (got ${points})` });
  else if (points * m.seeds.count > MAX_SWEEP_RUNS) ctx.addIssue({ code: "custom", path: ["seeds", "count"], message: `grid points × seeds.count must be ≤ ${MAX_SWEEP_RUNS} runs (got ${points}·${m.seeds.count})` });
}

export const sweepSchema = sweepShape.superRefine(checkSweep);

export type SweepModel = z.infer<typeof sweepSchema>;
export type SweepBlock = z.infer<typeof blockSchema>;
export type AxisValues = z.infer<typeof axisValues>;
