/**
 * Model file of kind "simulate": SGD training of a two-layer network on a two-class task
 * (see src/sim/simulate.ts for the maths and conventions).
 *
 * Learning rates: every parameter group is updated as θ ← θ − (η_θ/D^s) ∂L/∂θ with s = lrScaling
 * (default 1: time t = steps/D).  η_W = lr, η_b = lrBias (default lr), η_v = lrSecondLayer (default lr).
 * weightDecay ℓ2 adds ℓ2·W to ∂L/∂W (first layer only).  Length of the run: `steps` or `time`
 * (t = steps/D^s), exactly one.  Batch mode: dataset size `P` or `alpha` (P = round(αD)), exactly one;
 * each epoch is a fresh permutation cut into minibatches of batchSize (last one holds P mod B).
 * Online mode with batchSize B > 1 averages the gradient over B fresh examples per step.
 * Logging: `points` log-spaced times in [1 step, end] plus t = 0; `snapshots` is a count (spread
 * evenly over the log times, first and last included) or a list of times t (nearest log time each).
 * Biases: "none" (b = 0), "fixed" or "trained" starting from `value` with `pattern` "split" (first
 * ⌈K/2⌉ neurons +value, the rest −value) or "same".  Second layer: v_k = value (default 1/K).
 * W init i.i.d. N(0, initScale²/D).  testSize examples (own RNG stream) give the test pmse/accuracy.
 */
import { z } from "zod";
import { nonNegInt, posInt, seed, taskSchema } from "./common.js";
import { UserError } from "../run/errors.js";

/** Memory guards (number of doubles) for the test set and the training dataset. */
export const MAX_ARRAY_DOUBLES = 1e8;

export const networkSchema = z
  .object({
    K: posInt(100_000),
    activation: z.enum(["erf", "relu", "tanh", "cubic"]).default("erf"),
    secondLayer: z
      .object({
        mode: z.enum(["fixed", "trained"]).default("fixed"),
        value: z.number().min(-1e3).max(1e3).optional(),
      })
      .strict()
      .default({ mode: "fixed" }),
    bias: z
      .object({
        mode: z.enum(["none", "fixed", "trained"]).default("none"),
        value: z.number().min(-1e3).max(1e3).default(0),
        pattern: z.enum(["split", "same"]).default("split"),
      })
      .strict()
      .default({ mode: "none", value: 0, pattern: "split" }),
    initScale: z.number().min(0).max(1e3).default(1),
  })
  .strict();

export const trainingSchema = z
  .object({
    mode: z.enum(["online", "batch"]).default("online"),
    steps: posInt(1e12).optional(),
    time: z.number().gt(0).max(1e9).optional(),
    lr: z.number().gt(0).max(1e6),
    lrScaling: z.number().min(0).max(3).default(1),
    lrSecondLayer: z.number().gt(0).max(1e6).optional(),
    lrBias: z.number().gt(0).max(1e6).optional(),
    weightDecay: z.number().min(0).max(1e6).default(0),
    batchSize: posInt(1e6).default(1),
    P: posInt(1e9).optional(),
    alpha: z.number().gt(0).max(1e9).optional(),
  })
  .strict();

export const loggingSchema = z
  .object({
    points: z.number().int().min(1).max(100_000).default(50),
    snapshots: z.union([nonNegInt(10_000), z.array(z.number().min(0).max(1e12)).max(10_000)]).default(5),
  })
  .strict();

export const simulateSchema = z
  .object({
    kind: z.literal("simulate"),
    description: z.string().max(10_000).optional(),
    task: taskSchema,
    network: networkSchema,
    training: trainingSchema,
    logging: loggingSchema.default({ points: 50, snapshots: 5 }),
    testSize: posInt(10_000_000).default(10_000),
    seed,
  })
  .strict()
  .superRefine((m, ctx) => {
    const tr = m.training;
    if ((tr.steps === undefined) === (tr.time === undefined)) ctx.addIssue({ code: "custom", path: ["training", "steps"], message: "give exactly one of training.steps or training.time" });
    if (tr.mode === "batch") {
      if ((tr.P === undefined) === (tr.alpha === undefined)) ctx.addIssue({ code: "custom", path: ["training", "P"], message: "batch mode needs exactly one of training.P or training.alpha" });
    } else if (tr.P !== undefined || tr.alpha !== undefined) {
      ctx.addIssue({ code: "custom", path: ["training", "mode"], message: 'training.P / training.alpha are only allowed with mode "batch"' });
    }
  });

export type SimulateModel = z.infer<typeof simulateSchema>;

/** Derived run sizes: D, total steps, P; throws a one-line UserError for impossible combinations. */
export function resolveSimulateSizes(m: SimulateModel): { D: number; steps: number; P?: number } {
  const L = m.task.geometry.L;
  const D = m.task.geometry.dim === 1 ? L : L * L;
  const tr = m.training;
  const steps = tr.steps ?? Math.round((tr.time ?? 0) * Math.pow(D, tr.lrScaling));
  if (!(steps >= 1)) throw new UserError(`model.training.time: must give at least one step (time·D^lrScaling = ${(tr.time ?? 0) * Math.pow(D, tr.lrScaling)})`);
  if (steps > 1e12) throw new UserError(`model.training.time: must give ≤ 1e12 steps (got ${steps})`);
  let P: number | undefined;
  if (tr.mode === "batch") {
    P = tr.P ?? Math.round((tr.alpha ?? 0) * D);
    if (!(P >= 1)) throw new UserError(`model.training.alpha: must give P = round(alpha·D) ≥ 1 (got ${P})`);
    if (P * D > MAX_ARRAY_DOUBLES) throw new UserError(`model.training.${tr.P !== undefined ? "P" : "alpha"}: dataset P·D must be ≤ ${MAX_ARRAY_DOUBLES} numbers (got ${P}·${D})`);
    if (tr.batchSize > P) throw new UserError(`model.training.batchSize: must be ≤ P = ${P} (got ${tr.batchSize})`);
  } else if (tr.batchSize * D > MAX_ARRAY_DOUBLES) {
    throw new UserError(`model.training.batchSize: batchSize·D must be ≤ ${MAX_ARRAY_DOUBLES} (got ${tr.batchSize}·${D})`);
  }
  if (m.testSize * D > MAX_ARRAY_DOUBLES) throw new UserError(`model.testSize: testSize·D must be ≤ ${MAX_ARRAY_DOUBLES} numbers (got ${m.testSize}·${D})`);
  if (m.network.K * D > MAX_ARRAY_DOUBLES) throw new UserError(`model.network.K: K·D must be ≤ ${MAX_ARRAY_DOUBLES} (got ${m.network.K}·${D})`);
  const nSnap = typeof m.logging.snapshots === "number" ? m.logging.snapshots : m.logging.snapshots.length;
  if (nSnap * m.network.K * D > MAX_ARRAY_DOUBLES) throw new UserError(`model.logging.snapshots: snapshots·K·D must be ≤ ${MAX_ARRAY_DOUBLES} (got ${nSnap}·${m.network.K}·${D})`);
  return { D, steps, P };
}
