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
import { posInt } from "./common.js";

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

export const sweepSchema = z
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

export type SweepModel = z.infer<typeof sweepSchema>;
export type SweepBlock = z.infer<typeof blockSchema>;
export type AxisValues = z.infer<typeof axisValues>;
