/**
 * Shared pieces of the model-file schemas (zod) and the loader that turns validation failures into
 * one-line messages naming the field and the allowed range.
 *
 * Every model file is JSON with a `kind` ("simulate", "flow", "cp", "ode", "compare", "lsg", …) that
 * selects its schema; `rfdyn run` dispatches on it.
 */
import { z } from "zod";
import { UserError } from "../run/errors.js";

/** Positive integer with a field-specific upper bound. */
export const posInt = (max = 1e9) => z.number().int().min(1).max(max);
export const nonNegInt = (max = 1e9) => z.number().int().min(0).max(max);
export const seed = z.number().int().min(0).max(2 ** 53 - 1).default(1);

export const geometrySchema = z.discriminatedUnion("dim", [
  z.object({ dim: z.literal(1), L: posInt(1 << 20) }).strict(),
  z.object({ dim: z.literal(2), L: posInt(4096) }).strict(),
]);

export const gainConvention = z.enum(["ig22", "lsg24"]).default("ig22");

/** Radial law of an elliptical field (LSG24's non-localising control). */
export const radiusSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("lognormal"), s: z.number().min(0).max(3) }).strict(),
  z.object({ kind: z.literal("student"), nu: z.number().gt(4).max(1e6) }).strict(),
]);

/** Single-site marginal of a field: a pointwise transform of a GP (NORTA), an Ising chain or an elliptical law. */
export const marginalSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("gaussian") }).strict(),
  z.object({ kind: z.literal("sign") }).strict(),
  z.object({ kind: z.literal("nlgp"), gain: z.number().gt(0).max(1e6), convention: gainConvention }).strict(),
  z.object({ kind: z.literal("kur"), k: z.number().gt(4).max(1e6) }).strict(),
  z.object({ kind: z.literal("ising"), J: z.number().min(-50).max(50) }).strict(),
  z.object({ kind: z.literal("elliptical"), radius: radiusSchema }).strict(),
]);

/**
 * One class's input distribution.  "field": a translation-invariant field with kernel length ξ
 * and any marginal of marginalSchema (Kur(k) and NLGP marginals by NORTA, 1D Ising chains sampled
 * exactly, elliptical controls; see src/data/marginals.ts); "field-clone": the Gaussian process with
 * exactly that field's covariance (its Gaussian control, as "gp-clone" is for "nlgp").
 */
export const classSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("gp"), xi: z.number().min(0).max(1e6) }).strict(),
  z.object({ kind: z.literal("nlgp"), xi: z.number().min(0).max(1e6), gain: z.number().gt(0).max(1e6), convention: gainConvention }).strict(),
  z.object({ kind: z.literal("gp-clone"), xi: z.number().min(0).max(1e6), gain: z.number().gt(0).max(1e6), convention: gainConvention }).strict(),
  z.object({ kind: z.literal("field"), xi: z.number().min(0).max(1e6), marginal: marginalSchema }).strict(),
  z.object({ kind: z.literal("field-clone"), xi: z.number().min(0).max(1e6), marginal: marginalSchema }).strict(),
]);

export type ClassSchema = z.infer<typeof classSchema>;

/** Two-class task: class "minus" (label −1 or 0) and "plus" (label +1 or 1). */
export const taskSchema = z
  .object({
    geometry: geometrySchema,
    classes: z.tuple([classSchema, classSchema]),
    labels: z.enum(["pm1", "01"]).default("pm1"),
  })
  .strict()
  .superRefine((t, ctx) => {
    t.classes.forEach((c, i) => {
      const msg = classGeometryIssue(c, t.geometry.dim);
      if (msg) ctx.addIssue({ code: "custom", path: ["classes", i, "marginal"], message: msg });
    });
  });

/** Why a class cannot live on a geometry of dimension `dim` (null if it can). */
export function classGeometryIssue(c: ClassSchema, dim: 1 | 2): string | null {
  if ((c.kind === "field" || c.kind === "field-clone") && c.marginal.kind === "ising" && dim !== 1) return `"ising" needs a 1D geometry (got dim = ${dim})`;
  return null;
}

/** Format a zod issue path like `model.sgd.lr` and a readable reason. */
export function formatIssue(issue: z.core.$ZodIssue, root = "model"): string {
  const path = [root, ...issue.path.map((p) => (typeof p === "number" ? `[${p}]` : String(p)))].join(".").replace(/\.\[/g, "[");
  let reason = issue.message;
  const i = issue as unknown as Record<string, unknown>;
  switch (issue.code) {
    case "too_small":
      reason = `must be ${i.inclusive === false ? ">" : "≥"} ${String(i.minimum)}`;
      break;
    case "too_big":
      reason = `must be ${i.inclusive === false ? "<" : "≤"} ${String(i.maximum)}`;
      break;
    case "invalid_type":
      reason = `must be ${String(i.expected)}`;
      break;
    case "invalid_value":
      reason = `must be one of ${(i.values as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
      break;
    case "unrecognized_keys":
      reason = `unknown field(s) ${(i.keys as string[]).map((k) => `"${k}"`).join(", ")}`;
      break;
    case "invalid_union": {
      const note = i.note as string | undefined;
      const disc = i.discriminator as string | undefined;
      const options = i.options as unknown[] | undefined;
      if (disc && options && options.length > 0) reason = `must be one of ${options.map((v) => JSON.stringify(v)).join(", ")}`;
      else reason = disc ? `has an invalid "${disc}"` : note ?? "does not match any allowed form";
      break;
    }
    default:
      break;
  }
  return `${path}: ${reason}`;
}

/** Value at a zod path in the raw input (to report what was given). */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** Validate `input` against `schema`; throw a UserError with one line for the first problem. */
export function parseWith<T extends z.ZodType>(schema: T, input: unknown, root = "model"): z.infer<T> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const got = valueAt(input, issue.path);
  if (issue.code === "invalid_type" && got === undefined) {
    throw new UserError(`${formatIssue(issue, root).replace(/: must be /, ": required, must be ")}`);
  }
  const gotStr = got === undefined ? "" : ` (got ${JSON.stringify(got)?.slice(0, 60)})`;
  const said = issue.code === "unrecognized_keys" || (issue.code === "custom" && issue.message.includes("(got "));
  throw new UserError(`${formatIssue(issue, root)}${said ? "" : gotStr}`);
}
