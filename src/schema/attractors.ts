/**
 * Model-file schema for kind "attractors": attractor dynamics of the cp single-neuron flow between
 * CP factors (IG22 Fig. S2, SI A.2; maths in src/cp/attractors.ts and src/analysis/stability.ts).
 *
 *   {
 *     "kind": "attractors", "seed": 1,
 *     "task": { "geometry": {"dim": 1, "L": 100},
 *               "classes": [{"kind": "nlgp", "xi": 0, "gain": 3}, {"kind": "nlgp", "xi": 5, "gain": 3}] },
 *     "alpha": 100,                                   // P = alpha·D samples (both classes), or "P"
 *     "neuron": {"v": 1, "b": -1},
 *     "covariance": "exact",                          // C^μ: "exact" (NLGP closed form) | "sample"
 *     "classWeights": "uniform",                      // π_μ = 1/M | "empirical" n_μ/P
 *     "cp": { "classes": [null, {"rank": 10, "restarts": 3}] },   // per class: null (no cumulant),
 *                                                     //   {rank, …} computed from the class's samples,
 *                                                     //   {"npy": {"U": "factors.npy", "gamma": "gamma.npy"}},
 *                                                     //   {"diagonal": "exact"} (NLGP with ξ = 0),
 *                                                     //   {"inline": {"gamma": [...], "U": [[...], ...]}}
 *     "track": 1,                                     // class whose factors u_r define m_r (default: last with factors)
 *     "starts": {"factors": [1, 2], "seeds": 20, "sigma": 0.3},   // w0 = u_s + σ ε (1-based factor indices)
 *     "integration": {"T": 1000, "times": 80, "method": "gbs", "rtol": 1e-8, "atol": 1e-10, "steadyTol": 1e-9},
 *     "analysis": {"newtonTol": 1e-11, "eigTol": 1e-9, "matchThreshold": 0.5, "fpTol": 1e-6}
 *   }
 * Relative .npy paths are resolved against the model file's directory; the files are loaded into the
 * inline form by src/io/model-files.ts before a run (the experiment does no file I/O).
 */
import { z } from "zod";
import { parseWith, posInt, seed, taskSchema } from "./common.js";
import { UserError } from "../run/errors.js";

const finite = (lo: number, hi: number) => z.number().min(lo).max(hi);

export const attractorCpSource = z.union([
  z.null(),
  z
    .object({
      rank: posInt(10_000),
      restarts: posInt(10_000).default(3),
      maxIter: posInt(1e7).default(3000),
      gtol: z.number().gt(0).max(1).default(1e-7),
      method: z.enum(["reduced", "joint"]).default("reduced"),
    })
    .strict(),
  z.object({ npy: z.object({ U: z.string().min(1), gamma: z.string().min(1) }).strict() }).strict(),
  z.object({ diagonal: z.literal("exact") }).strict(),
  /** Factors given inline (what resolveModelFiles turns an npy source into; `from` = the files). */
  z
    .object({
      inline: z.object({ gamma: z.array(z.number()).min(1), U: z.union([z.array(z.array(z.number()).min(1)).min(1), z.array(z.number()).min(1)]) }).strict(),
      from: z.object({ U: z.string(), gamma: z.string() }).strict().optional(),
    })
    .strict(),
]);
export type AttractorCpSource = z.infer<typeof attractorCpSource>;

export const attractorsSchema = z
  .object({
    kind: z.literal("attractors"),
    name: z.string().max(200).optional(),
    description: z.string().max(10_000).optional(),
    seed,
    task: taskSchema,
    P: posInt(1e9).optional(),
    alpha: z.number().gt(0).max(1e9).optional(),
    neuron: z
      .object({
        v: finite(-1e3, 1e3).default(1),
        b: finite(-1e3, 1e3).default(-1),
        alpha1: finite(-1e3, 1e3).optional(),
        alpha3: finite(-1e3, 1e3).optional(),
      })
      .strict()
      .default({ v: 1, b: -1 }),
    covariance: z.enum(["exact", "sample"]).default("exact"),
    classWeights: z.enum(["uniform", "empirical"]).default("uniform"),
    cp: z.object({ classes: z.tuple([attractorCpSource, attractorCpSource]) }).strict(),
    track: z.number().int().min(0).max(1).optional(),
    starts: z
      .object({
        factors: z.array(posInt(10_000)).min(1).max(10_000),
        seeds: posInt(100_000).default(20),
        sigma: z.number().min(0).max(1e3).default(0.3),
      })
      .strict(),
    integration: z
      .object({
        T: z.number().gt(0).max(1e9).default(1000),
        times: z.number().int().min(2).max(100_000).default(80),
        tMin: z.number().gt(0).max(1e9).optional(),
        method: z.enum(["gbs", "dop853", "rkc", "bdf", "rodas", "rk4", "euler"]).default("gbs"),
        rtol: z.number().gt(0).lt(1).default(1e-8),
        atol: z.number().gt(0).max(1).default(1e-10),
        dt: z.number().gt(0).max(1e6).default(0.01),
        steadyTol: z.number().gt(0).max(1).optional(),
        maxSteps: posInt(1e9).optional(),
      })
      .strict()
      .default({ T: 1000, times: 80, method: "gbs", rtol: 1e-8, atol: 1e-10, dt: 0.01 }),
    analysis: z
      .object({
        newtonTol: z.number().gt(0).max(1e-3).default(1e-11),
        eigTol: z.number().gt(0).max(0.1).default(1e-9),
        matchThreshold: z.number().gt(0).max(1).default(0.5),
        fpTol: z.number().gt(0).max(1).default(1e-6),
        /** Factors drawn in the overlap plots (the first k). */
        plotFactors: posInt(1000).default(5),
      })
      .strict()
      .default({ newtonTol: 1e-11, eigTol: 1e-9, matchThreshold: 0.5, fpTol: 1e-6, plotFactors: 5 }),
  })
  .strict();

export type AttractorsModel = z.infer<typeof attractorsSchema>;

/** Largest D for the attractor analysis (dense D×D Jacobians and eigendecompositions). */
export const ATTRACTORS_MAX_D = 2000;

export function parseAttractorsModel(input: unknown): AttractorsModel {
  const m = parseWith(attractorsSchema, input);
  const D = m.task.geometry.dim === 1 ? m.task.geometry.L : m.task.geometry.L ** 2;
  if (D > ATTRACTORS_MAX_D) throw new UserError(`model.task.geometry: dense Jacobians need D ≤ ${ATTRACTORS_MAX_D} (got D = ${D})`);
  if (m.P !== undefined && m.alpha !== undefined) throw new UserError(`model.P: give at most one of "P" or "alpha"`);
  const computes = m.cp.classes.some((c) => c !== null && "rank" in c);
  if ((computes || m.covariance === "sample") && m.P === undefined && m.alpha === undefined) throw new UserError(`model.alpha: required (or "P") to draw samples for the CP decomposition / sample covariance`);
  const P = m.P ?? (m.alpha !== undefined ? Math.round(m.alpha * D) : 0);
  if (P * D > 2e8) throw new UserError(`model.alpha: P·D = ${P}·${D} must be ≤ 2e8 (memory)`);
  const withFactors = m.cp.classes.map((c, i) => (c === null ? -1 : i)).filter((i) => i >= 0);
  if (withFactors.length === 0) throw new UserError(`model.cp.classes: at least one class needs factors (null means no cumulant)`);
  const track = m.track ?? withFactors[withFactors.length - 1];
  if (m.cp.classes[track] === null) throw new UserError(`model.track: class ${track} has no CP factors (model.cp.classes[${track}] is null)`);
  m.cp.classes.forEach((c, i) => {
    if (c !== null && "diagonal" in c) {
      const k = m.task.classes[i];
      if (k.kind !== "nlgp" || k.xi !== 0) throw new UserError(`model.cp.classes[${i}].diagonal: only exact for an nlgp class with xi = 0`);
    }
  });
  const tr = m.cp.classes[track]!;
  const r = "rank" in tr ? tr.rank : "diagonal" in tr ? D : undefined;
  if (r !== undefined) {
    for (const s of m.starts.factors) if (s > r) throw new UserError(`model.starts.factors: factor ${s} exceeds the rank ${r} of the tracked class`);
  }
  const it = m.integration;
  if (it.tMin !== undefined && !(it.tMin < it.T)) throw new UserError(`model.integration.tMin: must be < integration.T = ${it.T} (got ${it.tMin})`);
  return { ...m, track };
}
