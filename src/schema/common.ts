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

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/** A field path like `model.sgd.lr` or `model.task.classes[0].xi` (odd keys quoted: `model.sgd["lr "]`). */
export function fieldPath(path: Path, root = "model"): string {
  let out = root;
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(String(p))) out += `.${String(p)}`;
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out;
}

/** A bound, readable: 1e12 rather than 1000000000000, 1048576 as is. */
function fmtNum(x: unknown): string {
  if (typeof x === "bigint") return x.toString();
  if (typeof x !== "number") return String(x);
  if (Number.isInteger(x) && Math.abs(x) >= 1e7) {
    const e = x.toExponential().replace("e+", "e");
    if (e.length <= 6) return e;
  }
  return String(x);
}

/** A given value, short: numbers as written (NaN, Infinity), strings quoted, big arrays/objects summarised. */
export function fmtGot(v: unknown): string {
  if (typeof v === "number") return Number.isNaN(v) ? "NaN" : v === Infinity ? "Infinity" : v === -Infinity ? "-Infinity" : String(v);
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}…` : v);
  if (v === null || typeof v === "boolean") return String(v);
  let json: string | undefined;
  try {
    json = JSON.stringify(v);
  } catch {
    json = undefined;
  }
  if (json !== undefined && json.length <= 60) return json;
  if (Array.isArray(v)) return `an array of ${v.length} item${v.length === 1 ? "" : "s"}`;
  return typeof v === "object" ? "an object" : typeof v;
}

const TYPE_NAMES: Record<string, string> = {
  number: "a number", int: "an integer", string: "a string", boolean: "a boolean", object: "an object", array: "an array",
  tuple: "an array", record: "an object", null: "null", bigint: "an integer", date: "a date", nan: "NaN",
};
const typeName = (t: unknown) => TYPE_NAMES[String(t)] ?? String(t);

/** Format a zod issue path like `model.sgd.lr` and a readable reason. */
export function formatIssue(issue: Issue, root = "model"): string {
  const path = fieldPath(issue.path, root);
  let reason = issue.message;
  const i = issue as unknown as Record<string, unknown>;
  const sized = i.origin === "array" || i.origin === "set" ? "item" : i.origin === "string" ? "character" : undefined;
  switch (issue.code) {
    case "too_small":
      if (sized) reason = `must have ${i.inclusive === false ? "more than" : "at least"} ${fmtNum(i.minimum)} ${sized}${i.minimum === 1 && i.inclusive !== false ? "" : "s"}`;
      else reason = `must be ${i.inclusive === false ? ">" : "≥"} ${fmtNum(i.minimum)}`;
      break;
    case "too_big":
      if (sized) reason = `must have ${i.inclusive === false ? "fewer than" : "at most"} ${fmtNum(i.maximum)} ${sized}${i.maximum === 1 && i.inclusive !== false ? "" : "s"}`;
      else reason = `must be ${i.inclusive === false ? "<" : "≤"} ${fmtNum(i.maximum)}`;
      break;
    case "invalid_type": {
      const received = i.received as string | undefined;
      const nonFinite = received === "NaN" || received === "Infinity" || received === "-Infinity";
      reason = i.expected === "number" && nonFinite ? "must be a finite number" : `must be ${typeName(i.expected)}`;
      break;
    }
    case "invalid_value":
      reason = `must be ${(i.values as unknown[]).length === 1 ? "" : "one of "}${(i.values as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
      break;
    case "invalid_format":
      reason = issue.message.replace(/^Invalid (string|input): /, "");
      if (!/^must /.test(reason)) reason = `must be ${i.format === "regex" ? `a string matching ${String(i.pattern)}` : `a valid ${String(i.format)}`}`;
      break;
    case "not_multiple_of":
      reason = `must be a multiple of ${fmtNum(i.divisor)}`;
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
function valueAt(input: unknown, path: Path): unknown {
  let v: unknown = input;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** The issue is about a value that is not there (a required field). */
const isMissing = (issue: Issue, input: unknown) =>
  (issue.code === "invalid_type" || issue.code === "invalid_value" || issue.code === "invalid_union") && valueAt(input, issue.path) === undefined;

const isTypeMismatch = (b: Issue, input: unknown) => b.code === "invalid_type" || b.code === "unrecognized_keys" || b.code === "invalid_union" || valueAt(input, b.path) === undefined;

/**
 * How well a union branch matched (higher = closer): issues deep inside the value mean the branch
 * recognised its shape; a type mismatch, a missing key or unknown keys at the top mean it did not.
 */
function branchScore(branch: readonly Issue[], input: unknown): number {
  return Math.min(...branch.map((b) => 2 * b.path.length + (isTypeMismatch(b, input) ? 0 : 1)));
}

/** What a union branch expects at its top, for "must be A or B": a type, a value, or an object with its required key. */
function branchForm(branch: readonly Issue[]): string | undefined {
  const top = branch.find((b) => b.path.length === 0 && b.code === "invalid_type") as unknown as { expected: unknown; received?: string } | undefined;
  if (top) return top.expected === "number" && /^-?(NaN|Infinity)$/.test(top.received ?? "") ? "a finite number" : typeName(top.expected);
  const top2 = branch.find((b) => b.path.length === 0 && b.code === "invalid_value");
  if (top2) return ((top2 as unknown as { values: unknown[] }).values).map((v) => JSON.stringify(v)).join(" or ");
  const req = branch.find((b) => b.path.length === 1 && b.code !== "unrecognized_keys");
  if (req) return `{"${String(req.path[0])}": …}`;
  return undefined;
}

/**
 * The issues to report for one zod issue: a union failure is replaced by the issues of the branch
 * that matched best (so `model.grid[2].name` is named, not `model.grid`), or described as the list
 * of allowed forms (an object with an unknown key: that key, with the closest allowed one).
 */
function resolveIssue(issue: Issue, input: unknown): Issue[] {
  if (issue.code !== "invalid_union") return [issue];
  const branches = ((issue as unknown as { errors?: Issue[][] }).errors ?? []).filter((b) => b.length > 0);
  if (branches.length === 0) return [issue];
  const here = valueAt(input, issue.path);
  const scores = branches.map((b) => branchScore(b, here));
  const best = Math.max(...scores);
  const winners = branches.filter((_, k) => scores[k] === best);
  if (best > 0 && winners.length === 1) {
    return winners[0].flatMap((w) => resolveIssue(w, here)).map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }) as Issue);
  }
  const forms = [...new Set(branches.map(branchForm).filter((f): f is string => f !== undefined))];
  if (here !== null && typeof here === "object" && !Array.isArray(here)) {
    // An object no branch accepts because of a key none of them knows: name that key.
    const unknownSets = branches.map((b) => b.filter((u) => u.code === "unrecognized_keys" && u.path.length === 0).flatMap((u) => (u as unknown as { keys: string[] }).keys));
    const unknown = Object.keys(here).filter((k) => unknownSets.every((set) => set.length === 0 || set.includes(k)) && unknownSets.some((set) => set.includes(k)));
    const allowedHere = [...new Set(branches.flatMap((b) => b.filter((u) => u.path.length === 1 && u.code !== "unrecognized_keys").map((u) => String(u.path[0]))))];
    const known = new Set(branches.flatMap((b) => b.filter((u) => u.path.length >= 1).map((u) => String(u.path[0]))));
    const trulyUnknown = unknown.filter((k) => !known.has(k));
    if (trulyUnknown.length > 0) {
      return [{ code: "unrecognized_keys", keys: trulyUnknown, path: issue.path, message: "", candidates: allowedHere, forms } as unknown as Issue];
    }
  }
  if (forms.length === 0) return [issue];
  const list = forms.length === 1 ? forms[0] : `${forms.slice(0, -1).join(", ")} or ${forms[forms.length - 1]}`;
  return [{ code: "custom", path: issue.path, message: `must be ${list}`, input: undefined } as unknown as Issue];
}

// ---- schema introspection (best effort): the keys an object field allows, for "unknown field" ----

interface Def { type: string; [k: string]: unknown }
const defOf = (s: unknown): Def | undefined => (s as { _zod?: { def?: Def } } | undefined)?._zod?.def;

function unwrap(s: unknown): unknown {
  for (let k = 0; k < 20; k++) {
    const d = defOf(s);
    if (!d) return s;
    if (["optional", "default", "prefault", "nullable", "readonly", "catch", "nonoptional", "success"].includes(d.type)) s = d.innerType;
    else if (d.type === "pipe") s = d.in;
    else if (d.type === "lazy") s = (d.getter as () => unknown)();
    else return s;
  }
  return s;
}

function shapeOf(s: unknown): Record<string, unknown> | undefined {
  const d = defOf(s);
  return d?.type === "object" ? (d.shape as Record<string, unknown>) : undefined;
}

/** The branch of a union that fits `v` best (most keys in common, matching discriminator). */
function pickOption(s: unknown, v: unknown): unknown {
  const d = defOf(s);
  if (d?.type !== "union") return s;
  const keys = v !== null && typeof v === "object" ? Object.keys(v) : [];
  let best: unknown = undefined, bestScore = -1;
  for (const o of d.options as unknown[]) {
    const u = unwrap(pickOption(unwrap(o), v));
    const t = defOf(u)?.type;
    if (Array.isArray(v) && (t === "array" || t === "tuple")) return u;
    const shape = shapeOf(u);
    if (!shape || Array.isArray(v)) continue;
    let score = keys.filter((k) => k in shape).length;
    const disc = d.discriminator as string | undefined;
    if (disc && v !== null && typeof v === "object") {
      const lit = defOf(unwrap(shape[disc]));
      if (lit?.type === "literal" && (lit.values as unknown[]).includes((v as Record<string, unknown>)[disc])) score += 1000;
    }
    if (score > bestScore) (best = u), (bestScore = score);
  }
  return best ?? s;
}

/** Keys allowed by the object schema at `path` (given the input), or undefined if unknown. */
function allowedKeysAt(schema: unknown, input: unknown, path: Path): string[] | undefined {
  let s = schema, v = input;
  for (let i = 0; ; i++) {
    s = unwrap(pickOption(unwrap(s), v));
    if (i === path.length) {
      const shape = shapeOf(s);
      return shape ? Object.keys(shape) : undefined;
    }
    const d = defOf(s), p = path[i];
    if (!d) return undefined;
    if (d.type === "object") s = (d.shape as Record<PropertyKey, unknown>)[p];
    else if (d.type === "array") s = d.element;
    else if (d.type === "tuple") s = (d.items as unknown[])[p as number];
    else if (d.type === "record") s = d.valueType;
    else return undefined;
    v = v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[p] : undefined;
    if (s === undefined) return undefined;
  }
}

function editDistance(a: string, b: string): number {
  const m = a.length, n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[n];
}

/** `model.x.badKey: unknown field (did you mean "goodKey"? | allowed: …)`. */
function unknownKeyMessage(issue: Issue, schema: unknown, input: unknown, root: string, missing: string[]): string {
  const keys = (issue as unknown as { keys: string[] }).keys;
  const key = keys[0];
  const given = valueAt(input, issue.path);
  const present = given !== null && typeof given === "object" ? Object.keys(given) : [];
  const fromUnion = (issue as unknown as { candidates?: string[] }).candidates;
  const allowed = fromUnion ?? allowedKeysAt(schema, input, issue.path);
  const norm = (k: string) => k.trim().toLowerCase().replace(/[-_\s]/g, "");
  const candidates = missing.length > 0 ? missing : (allowed ?? []).filter((k) => !present.includes(k));
  const close = candidates
    .map((k) => ({ k, d: norm(k) === norm(key) ? 0 : editDistance(k.toLowerCase(), key.toLowerCase()) }))
    .filter((c) => c.d <= Math.max(1, Math.min(3, Math.floor(c.k.length / 3))) || missing.length === 1)
    .sort((a, b) => a.d - b.d)[0];
  const more = keys.length > 1 ? ` (and ${keys.slice(1).map((k) => `"${k}"`).join(", ")})` : "";
  const hint = close ? `did you mean "${close.k}"?` : allowed && allowed.length > 0 ? `allowed: ${allowed.join(", ")}` : "";
  return `${fieldPath([...issue.path, key], root)}: unknown field${hint ? ` (${hint})` : ""}${more}`;
}

/** Validate `input` against `schema`; throw a UserError with one line for the first problem. */
export function parseWith<T extends z.ZodType>(schema: T, input: unknown, root = "model"): z.infer<T> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const all = r.error.issues.flatMap((i) => resolveIssue(i, input));
  let issue = all[0];
  // A misspelt key shows as a missing field plus an unknown key next to it: name the unknown key.
  const unknown = all.find((u) => u.code === "unrecognized_keys");
  if (unknown) {
    const parent = JSON.stringify(unknown.path);
    const missing = all.filter((m) => isMissing(m, input) && m.path.length === unknown.path.length + 1 && JSON.stringify(m.path.slice(0, -1)) === parent).map((m) => String(m.path[m.path.length - 1]));
    if (issue === unknown || missing.length > 0) throw new UserError(unknownKeyMessage(unknown, schema, input, root, missing));
  }
  // Several bounds on one value (e.g. the safe-integer range and the field's own maximum): the tightest.
  const same = all.filter((o) => o.code === issue.code && JSON.stringify(o.path) === JSON.stringify(issue.path));
  if (issue.code === "too_big") issue = same.reduce((a, b) => (Number((b as unknown as { maximum: number }).maximum) < Number((a as unknown as { maximum: number }).maximum) ? b : a));
  if (issue.code === "too_small") issue = same.reduce((a, b) => (Number((b as unknown as { minimum: number }).minimum) > Number((a as unknown as { minimum: number }).minimum) ? b : a));
  const got = valueAt(input, issue.path);
  if (isMissing(issue, input) || (issue.code === "custom" && got === undefined && /^must be /.test(issue.message))) {
    throw new UserError(`${formatIssue(issue, root).replace(/: must be /, ": required, must be ")}`);
  }
  const gotStr = got === undefined ? "" : ` (got ${fmtGot(got)})`;
  const said = issue.code === "custom" && issue.message.includes("(got ");
  throw new UserError(`${formatIssue(issue, root)}${said ? "" : gotStr}`);
}
