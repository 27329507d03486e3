/**
 * Model-file schema for kind "cp": symmetric CP decomposition of one class's sample 4th-order
 * cumulant ΔT ≈ Σ_a γ_a u_a⊗4 (IG22 Fig. 4, SI A.4), optionally swept over gain, ξ, α = P/D and L.
 *
 *   {
 *     "kind": "cp", "seed": 1,
 *     "data": { "geometry": {"dim": 1, "L": 100},
 *               "class": {"kind": "nlgp", "xi": 5, "gain": 3},    // the class whose cumulant is decomposed
 *               "alpha": 100 },                                    // P = alpha·D samples (or "P": 10000)
 *     "decomposition": { "rank": 20, "restarts": 3, "maxIter": 3000, "gtol": 1e-7, "ftol": 1e-12,
 *                        "memory": 10, "method": "reduced" },
 *     "output": { "plotFactors": 10, "topK": 20, "reconstructionError": "auto", "implicitMaxFlops": 2e10 },
 *     "sweep": { "gain": [1, 2, 3], "xi": [3, 5], "alpha": [10, 100], "L": [50, 100], "samples": 30 }
 *   }
 *
 * Sweeps take the Cartesian product of the listed axes (unlisted axes keep the values in "data");
 * each grid point is repeated for `samples` independent data sets (sample s uses data stream s, the
 * same across grid points: common random numbers).
 */
import { z } from "zod";
import { classGeometryIssue, classSchema, geometrySchema, parseWith, posInt, seed } from "./common.js";
import { UserError } from "../run/errors.js";

const positiveList = (max: number) => z.array(z.number().gt(0).max(max)).min(1).max(1000);

export const cpDecompositionSchema = z
  .object({
    rank: posInt(10000).default(20),
    restarts: posInt(10000).default(3),
    maxIter: posInt(1e7).default(3000),
    gtol: z.number().gt(0).max(1).default(1e-7),
    ftol: z.number().min(0).max(1).default(1e-12),
    memory: posInt(1000).default(10),
    method: z.enum(["reduced", "joint"]).default("reduced"),
  })
  .strict();

const decompositionDefaults = { rank: 20, restarts: 3, maxIter: 3000, gtol: 1e-7, ftol: 1e-12, memory: 10, method: "reduced" as const };

export const cpOutputSchema = z
  .object({
    /** Number of leading factors drawn in the profile plot. */
    plotFactors: z.number().int().min(0).max(1000).default(10),
    /** "max IPR among the first topK factors" (IG22 Fig. 4E uses 20). */
    topK: posInt(10000).default(20),
    /**
     * Relative reconstruction error ‖ΔT − T̂‖/‖ΔT‖: "explicit" forms ΔT (D ≤ 40); "implicit" computes
     * ‖ΔT‖² from the samples in O(P²D); "auto" = explicit for D ≤ 40, implicit if P²D ≤
     * implicitMaxFlops, else not computed; "none" skips it.
     */
    reconstructionError: z.enum(["auto", "explicit", "implicit", "none"]).default("auto"),
    implicitMaxFlops: z.number().gt(0).max(1e16).default(2e10),
    /** Write factors.npy/gamma.npy for every sweep run (runs/<tag>/); otherwise only sample 0. */
    allRuns: z.boolean().default(false),
  })
  .strict();

export const cpSweepSchema = z
  .object({
    gain: positiveList(1e6).optional(),
    xi: z.array(z.number().min(0).max(1e6)).min(1).max(1000).optional(),
    alpha: positiveList(1e6).optional(),
    L: z.array(posInt(1 << 20)).min(1).max(1000).optional(),
    samples: posInt(100000).default(1),
  })
  .strict();

export const cpSchema = z
  .object({
    kind: z.literal("cp"),
    name: z.string().max(200).optional(),
    description: z.string().max(4000).optional(),
    seed,
    data: z
      .object({
        geometry: geometrySchema,
        class: classSchema,
        alpha: z.number().gt(0).max(1e6).optional(),
        P: posInt(1e9).optional(),
      })
      .strict(),
    decomposition: cpDecompositionSchema.default(decompositionDefaults),
    output: cpOutputSchema.default({ plotFactors: 10, topK: 20, reconstructionError: "auto", implicitMaxFlops: 2e10, allRuns: false }),
    sweep: cpSweepSchema.optional(),
  })
  .strict();

export type CpModel = z.infer<typeof cpSchema>;

/** Largest number of stored sample entries P·D (8 bytes each). */
export const CP_MAX_ENTRIES = 2e8;

/** Validate a "cp" model; cross-field checks give one-line UserErrors. */
export function parseCpModel(input: unknown): CpModel {
  const m = parseWith(cpSchema, input);
  const d = m.data;
  if ((d.alpha === undefined) === (d.P === undefined)) throw new UserError(`model.data: give exactly one of "alpha" (P = alpha·D) or "P"`);
  const sw = m.sweep;
  if (sw?.alpha && d.P !== undefined) throw new UserError(`model.sweep.alpha: needs model.data.alpha instead of model.data.P`);
  if (sw?.gain && !("gain" in d.class)) throw new UserError(`model.sweep.gain: class kind "${d.class.kind}" has no gain (use "nlgp" or "gp-clone")`);
  const geomIssue = classGeometryIssue(d.class, d.geometry.dim);
  if (geomIssue) throw new UserError(`model.data.class.marginal: ${geomIssue}`);
  const Ls = sw?.L ?? [d.geometry.L];
  const alphas = sw?.alpha ?? (d.alpha !== undefined ? [d.alpha] : [NaN]);
  for (const L of Ls) {
    const D = d.geometry.dim === 1 ? L : L * L;
    if (d.geometry.dim === 2 && L > 4096) throw new UserError(`model.sweep.L: must be ≤ 4096 for dim 2 (got ${L})`);
    for (const a of alphas) {
      const P = d.P ?? Math.round(a * D);
      if (P < 1) throw new UserError(`model.data.alpha: alpha·D must be ≥ 1 (got ${a}·${D})`);
      if (P * D > CP_MAX_ENTRIES) throw new UserError(`model.data: P·D = ${P}·${D} samples×dimension must be ≤ ${CP_MAX_ENTRIES} (memory)`);
    }
    if (m.decomposition.rank * D > 1e8) throw new UserError(`model.decomposition.rank: rank·D must be ≤ 1e8 (got ${m.decomposition.rank}·${D})`);
    if (m.output.reconstructionError === "explicit" && D > 40) throw new UserError(`model.output.reconstructionError: "explicit" needs D ≤ 40 (got D = ${D})`);
  }
  return m;
}
