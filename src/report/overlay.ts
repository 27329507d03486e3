/**
 * Overlays across runs: a plot that several of the given runs wrote under the same name (e.g. the
 * IPR of the LSG24 effective ODE next to SGD, or the same plot of a sweep's points) is drawn once
 * with every run's series, each series named `<run>: <series>`.
 */
import type { RunDir } from "./read.js";
import { tidyAxes } from "../plot/axes.js";

type Spec = Record<string, unknown>;

function colorField(s: Spec): string | undefined {
  const enc = s.encoding as Record<string, { field?: string }> | undefined;
  if (enc?.color?.field) return enc.color.field;
  if (Array.isArray(s.layer)) for (const l of s.layer as Spec[]) {
    const f = (l.encoding as Record<string, { field?: string }> | undefined)?.color?.field;
    if (f) return f;
  }
  return undefined;
}

/** Whether a spec can be overlaid: inline data at the top, no concatenation, a series (colour) field. */
export function overlayable(s: Spec): boolean {
  const values = (s.data as { values?: unknown } | undefined)?.values;
  if (!Array.isArray(values)) return false;
  if (["hconcat", "vconcat", "concat", "facet", "repeat"].some((k) => k in s)) return false;
  return colorField(s) !== undefined;
}

function titleText(t: unknown): string {
  if (typeof t === "string") return t;
  if (t && typeof t === "object" && typeof (t as { text?: unknown }).text === "string") return (t as { text: string }).text;
  return "";
}

export interface Overlay {
  name: string;
  runs: string[];
  spec: Spec;
}

/** Overlay specs for every plot name shared by ≥ 2 runs (in the order of first appearance). */
export function overlays(runs: readonly RunDir[]): Overlay[] {
  if (runs.length < 2) return [];
  const names: string[] = [];
  const byName = new Map<string, { run: RunDir; spec: Spec }[]>();
  for (const run of runs) {
    for (const p of run.plots) {
      if (!overlayable(p.spec)) continue;
      if (!byName.has(p.name)) {
        byName.set(p.name, []);
        names.push(p.name);
      }
      byName.get(p.name)!.push({ run, spec: p.spec });
    }
  }
  const out: Overlay[] = [];
  for (const name of names) {
    const group = byName.get(name)!;
    if (group.length < 2) continue;
    const template = structuredClone(group[0].spec);
    const field = colorField(template)!;
    const values: Record<string, unknown>[] = [];
    for (const { run, spec } of group) {
      const f = colorField(spec);
      if (f === undefined) continue;
      for (const v of (spec.data as { values: Record<string, unknown>[] }).values) values.push({ ...v, [field]: `${run.label}: ${String(v[f])}` });
    }
    const titles = [...new Set(group.map((g) => titleText(g.spec.title)).filter((t) => t !== ""))];
    template.data = { values };
    template.title = { text: `${name} — ${group.length} runs overlaid`, subtitle: titles.slice(0, 3) };
    unsetZero(template);
    out.push({ name, runs: group.map((g) => g.run.label), spec: tidyAxes(template) });
  }
  return out;
}

/** Forget the baseline decisions made for one run's data, so the axis policy decides for the union. */
function unsetZero(s: Spec): void {
  const units = Array.isArray(s.layer) ? [s, ...(s.layer as Spec[])] : [s];
  for (const u of units) {
    const enc = u.encoding as Record<string, { scale?: Record<string, unknown> }> | undefined;
    for (const ch of ["x", "y"]) {
      const sc = enc?.[ch]?.scale;
      if (sc && "zero" in sc) {
        delete sc.zero;
        if (Object.keys(sc).length === 0) delete enc![ch].scale;
      }
    }
  }
}
