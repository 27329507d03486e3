/**
 * Helpers of validated ode/compare models that run code needs, without the schema itself (zod): the
 * worker threads of a compare run load this, not ./ode.ts.
 */
import { UserError } from "../run/errors.js";

/** Expand a scalar-or-array field to length n (UserError naming the field otherwise). */
export function expandVector(v: number | readonly number[], n: number, field: string): number[] {
  if (typeof v === "number") return Array.from({ length: n }, () => v);
  if (v.length !== n) throw new UserError(`${field}: must be a number or an array of length ${n} (got length ${v.length})`);
  return [...v];
}
