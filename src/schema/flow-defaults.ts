/**
 * Defaults of a validated flow model that run code needs, without the schema itself (zod): the
 * worker threads of a flow run load this, not ./flow.ts.
 */

/** The effective covariance choice (defaults: exact for gaussian/cp, sample for full/exact). */
export function effectiveCovariance(m: { covariance?: "sample" | "exact"; variant: string }): "sample" | "exact" {
  return m.covariance ?? (m.variant === "gaussian" || m.variant === "cp" ? "exact" : "sample");
}
