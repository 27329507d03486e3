/**
 * Model-file schema for kind "lsg": LSG24's single ReLU neuron (no bias, labels {0, 1}) on two
 * classes of LSG24-style data, integrated either with the effective ODE ("dynamics": "ode") or by
 * online SGD ("dynamics": "sgd", same initial weights for the same seed).
 *
 *   {
 *     "kind": "lsg", "seed": 1, "dynamics": "ode",
 *     "data": { "geometry": {"dim": 1, "L": 40},
 *               "marginal": {"kind": "kur", "k": 8},          // shared by both classes …
 *               "classes": [{"xi": 0.3}, {"xi": 0.7}] },       // … unless a class gives its own
 *     "init": {"scale": 1},                                     // w_i ~ N(0, scale²/D)
 *     "ode": {"t1": 1000, "method": "gbs", "steadyTol": 1e-9},
 *     "sgd": {"lr": 0.01, "t1": 1000,                           // steps = 2 t1/lr (ODE time units)
 *             "divergence": {"maxGrowth": 1e6}}                 // diverged when |w| > 1e6·max(1, |w(0)|)
 *   }
 *
 * LSG24's published training (github leonlufkin/Localization): "init": {"kind": "xavier-truncated",
 * "initScale": 0.001} (truncated xavier-normal, init_scale on the variance), "sgd": {"lr": 0.1,
 * "steps": 1000, "batchSize": 50000, "loss": "lsg24"} (loss (y − ŷ)² without ½, minibatch mean,
 * fresh data every step).  Time: one step advances ODE time by lr/2 with loss "half" (the default,
 * ½(y − ŷ)²) and by lr with loss "lsg24" (the gradient doubles); the minibatch mean does not change it.
 *
 * Marginals: gaussian | sign | nlgp {gain, convention "ig22" (erf(g z/√2), default) | "lsg24"
 * (erf(g z))} | kur {k > 4} | ising {J} (1D; ξ ignored) | elliptical {radius: lognormal {s} |
 * student {nu > 4}}.
 */
import { z } from "zod";
import { geometrySchema, marginalSchema, parseWith, posInt, seed } from "./common.js";
export { marginalSchema, radiusSchema } from "./common.js";
import { UserError } from "../run/errors.js";

const classSchema = z.object({ xi: z.number().min(0).max(1e6), marginal: marginalSchema.optional() }).strict();

export const lsgDataSchema = z
  .object({
    geometry: geometrySchema,
    marginal: marginalSchema.optional(),
    classes: z.tuple([classSchema, classSchema]),
  })
  .strict();

export const lsgSchema = z
  .object({
    kind: z.literal("lsg"),
    name: z.string().max(200).optional(),
    description: z.string().max(2000).optional(),
    seed,
    dynamics: z.enum(["ode", "sgd"]).default("ode"),
    data: lsgDataSchema,
    init: z
      .object({
        // "gaussian" (default): w_i ~ N(0, scale²/D).  "xavier-truncated": LSG24's init, variance initScale·2/(1+D).
        kind: z.enum(["gaussian", "xavier-truncated"]).optional(),
        scale: z.number().gt(0).max(1e6).default(1),
        initScale: z.number().gt(0).max(1e6).optional(),
      })
      .strict()
      .default({ scale: 1 }),
    ode: z
      .object({
        t1: z.number().gt(0).max(1e9).default(1000),
        method: z.enum(["gbs", "dop853", "rodas", "bdf", "rk4", "euler"]).default("gbs"),
        rtol: z.number().gt(0).lt(1).default(1e-8),
        atol: z.number().gt(0).max(1).default(1e-10),
        dt: z.number().gt(0).max(1e6).optional(),
        // Stop at a fixed point: |dw/dt|∞ ≤ steadyTol·max(1, |w|∞).  Needed in practice: near a fixed
        // point the adaptive GBS step control is driven by the ~1e-13 noise of the φ table and its step
        // size collapses (seen at t ≈ 241 for NLGP g = 12.9); 0 disables the test.
        steadyTol: z.number().min(0).max(1).default(1e-10),
        samples: posInt(100000).default(60),
        maxSteps: posInt(1e9).optional(),
        phiTol: z.number().gt(0).max(1e-6).default(1e-12),
      })
      .strict()
      .default({ t1: 1000, method: "gbs", rtol: 1e-8, atol: 1e-10, steadyTol: 1e-10, samples: 60, phiTol: 1e-12 }),
    sgd: z
      .object({
        lr: z.number().gt(0).max(10).default(0.01),
        t1: z.number().gt(0).max(1e9).default(1000),
        samples: posInt(100000).default(60),
        // Number of SGD steps; when given it replaces t1 (t1 = steps × time per step).
        steps: posInt(1e10).optional(),
        // Fresh samples averaged per step (default 1).
        batchSize: posInt(1e7).optional(),
        // "half": ½(y − ŷ)² (default, rfdyn and the effective ODE); "lsg24": (y − ŷ)² as in LSG24's code.
        loss: z.enum(["half", "lsg24"]).optional(),
        // Runaway guard: status "diverged" when |w| > maxGrowth·max(1, |w(0)|) (src/sim/single-relu.ts).
        divergence: z.object({ maxGrowth: z.number().gt(1).max(1e300).default(1e6) }).strict().default({ maxGrowth: 1e6 }),
      })
      .strict()
      .default({ lr: 0.01, t1: 1000, samples: 60, divergence: { maxGrowth: 1e6 } }),
  })
  .strict();

export type LsgModel = z.infer<typeof lsgSchema>;
export type MarginalModel = z.infer<typeof marginalSchema>;

export function parseLsgModel(input: unknown): LsgModel {
  const m = parseWith(lsgSchema, input);
  m.data.classes.forEach((c, i) => {
    if (!c.marginal && !m.data.marginal) throw new UserError(`model.data.classes[${i}].marginal: required when model.data.marginal is not given`);
    const mk = (c.marginal ?? m.data.marginal)!.kind;
    if (mk === "ising" && m.data.geometry.dim !== 1) throw new UserError(`model.data.classes[${i}].marginal: "ising" needs model.data.geometry.dim = 1 (got ${m.data.geometry.dim})`);
  });
  if (m.dynamics === "ode" && (m.ode.method === "rk4" || m.ode.method === "euler") && m.ode.dt === undefined) throw new UserError(`model.ode.dt: required for method "${m.ode.method}"`);
  const D = m.data.geometry.dim === 1 ? m.data.geometry.L : m.data.geometry.L ** 2;
  if (m.dynamics === "ode" && D > 4096) throw new UserError(`model.data.geometry: the effective ODE uses dense D×D covariances, D must be ≤ 4096 (got ${D})`);
  if (m.dynamics === "sgd" && m.sgd.steps === undefined && (2 * m.sgd.t1) / m.sgd.lr > 1e10) throw new UserError(`model.sgd.t1: 2·t1/lr SGD steps must be ≤ 1e10 (got ${(2 * m.sgd.t1) / m.sgd.lr})`);
  if (m.dynamics === "sgd" && lsgSgdSteps(m) * (m.sgd.batchSize ?? 1) > 1e11) throw new UserError(`model.sgd.batchSize: steps × batchSize samples must be ≤ 1e11 (got ${lsgSgdSteps(m) * (m.sgd.batchSize ?? 1)})`);
  if (m.init.initScale !== undefined && m.init.kind !== "xavier-truncated") throw new UserError(`model.init.initScale: needs model.init.kind "xavier-truncated" (use model.init.scale for "gaussian")`);
  return m;
}

/** ODE time advanced by one SGD step: lr/2 for loss ½(y − ŷ)², lr for LSG24's (y − ŷ)². */
export function lsgTimePerStep(m: LsgModel): number {
  return m.sgd.lr * (m.sgd.loss === "lsg24" ? 1 : 0.5);
}

/** Number of SGD steps of a model: sgd.steps, else round(t1 / time per step). */
export function lsgSgdSteps(m: LsgModel): number {
  return m.sgd.steps ?? Math.round(m.sgd.t1 / lsgTimePerStep(m));
}
