/**
 * Axis policy for publication figures, applied to every spec rfdyn writes (src/io/plots.ts):
 *
 * - **Log axes where the data spans decades.** A quantitative x or y axis whose scale was not set
 *   explicitly, with all values > 0 and max/min ≥ 100 (y) or ≥ 1000 (x), becomes logarithmic.
 * - **Baselines.** A linear y axis includes 0 (the baseline of every quantity rfdyn plots: IPR,
 *   errors, overlaps, accuracies) unless the data fill less than 10 % of the 0-including range; then
 *   the axis is zoomed to the data and the chart says so in its subtitle ("y axis does not start at
 *   0").
 * - **Flat data is shown flat.** If the data vary by less than 0.1 % of their magnitude, zooming in
 *   would turn rounding noise into a curve (the y axis of the IG22 Fig. 4B Gaussian-only IPR-vs-gain
 *   plot used to span 0.0100000–0.0100012): the axis keeps 0 and the subtitle states the relative
 *   variation.
 *
 * A scale given explicitly (`type`, `domain`, or `zero`) is left alone.  Only inline data
 * (`data.values`) is inspected; a layer's channels are decided together over all its layers.
 */
import type { VlSpec } from "./render.js";

type Enc = Record<string, unknown> & { field?: string; type?: string; scale?: Record<string, unknown> | null };

/** Decision for one channel's values. */
export interface AxisDecision {
  scale?: Record<string, unknown>;
  note?: string;
}

/** Relative variation below which a curve counts as flat. */
export const FLAT_RELATIVE = 1e-3;
/** Fraction of the 0-including range below which the y axis is zoomed to the data. */
export const ZOOM_FILL = 0.1;

/** Decide the scale of a quantitative channel from its values. */
export function decideAxis(values: readonly number[], channel: "x" | "y", primary: readonly number[] = values): AxisDecision {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return {};
  let lo = Infinity, hi = -Infinity;
  for (const x of v) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  // Log only for the plotted values themselves (not error-bar ends, which may reach near 0).
  const decades = channel === "y" ? 100 : 1000;
  let plo = Infinity, phi = -Infinity;
  for (const x of primary) if (Number.isFinite(x)) { plo = Math.min(plo, x); phi = Math.max(phi, x); }
  if (lo > 0 && plo > 0 && phi / plo >= decades) return { scale: { type: "log" } };
  if (channel === "x") return { scale: { zero: false } };
  const mag = Math.max(Math.abs(lo), Math.abs(hi));
  if (mag === 0) return { scale: { domain: [-1, 1] } };
  if (lo < 0 && hi > 0) return { scale: { zero: true } };
  const span = hi - lo;
  if (span <= FLAT_RELATIVE * mag) {
    const rel = span / mag;
    return { scale: { zero: true }, note: `y constant to ${rel === 0 ? "all digits" : `a relative ${rel.toExponential(1)}`} (${fmt(lo) === fmt(hi) ? `≈ ${fmt(lo)}` : `${fmt(lo)}–${fmt(hi)}`}); axis includes 0` };
  }
  if (span < ZOOM_FILL * mag) return { scale: { zero: false }, note: "y axis does not start at 0" };
  return { scale: { zero: true } };
}

function fmt(x: number): string {
  return Number(x.toPrecision(6)).toString();
}

function explicit(enc: Enc): boolean {
  const s = enc.scale;
  if (s === null) return true;
  return s !== undefined && ("type" in s || "domain" in s || "zero" in s || "domainMin" in s || "domainMax" in s);
}

function isUnit(s: VlSpec): boolean {
  return "mark" in s;
}

/** Channels of a unit spec that carry values of `channel` (y also counts y2 when it is a field). */
function fieldsOf(unit: VlSpec, channel: "x" | "y"): { enc: Enc; field: string }[] {
  const e = (unit.encoding ?? {}) as Record<string, Enc>;
  const out: { enc: Enc; field: string }[] = [];
  for (const c of [channel, `${channel}2`]) {
    const enc = e[c];
    if (enc && typeof enc.field === "string" && (c.endsWith("2") || enc.type === "quantitative")) out.push({ enc, field: enc.field });
  }
  return out;
}

function inlineValues(s: VlSpec): Record<string, unknown>[] | undefined {
  const d = s.data as { values?: unknown } | undefined;
  return d && Array.isArray(d.values) ? (d.values as Record<string, unknown>[]) : undefined;
}

/** Apply the policy to a group of units sharing data and scales (a unit, or the layers of a layer spec). */
function tidyGroup(owner: VlSpec, units: VlSpec[], parentData: Record<string, unknown>[] | undefined): void {
  const notes: string[] = [];
  for (const ch of ["x", "y"] as const) {
    const chans: { enc: Enc; field: string; data: Record<string, unknown>[] | undefined }[] = [];
    for (const u of units) for (const f of fieldsOf(u, ch)) chans.push({ ...f, data: inlineValues(u) ?? inlineValues(owner) ?? parentData });
    const main = chans.filter((c) => c.enc.type === "quantitative");
    if (main.length === 0 || chans.some((c) => c.data === undefined)) continue;
    if (main.some((c) => explicit(c.enc))) continue;
    const vals: number[] = [];
    const primary: number[] = [];
    chans.forEach((c, k) => {
      for (const row of c.data!) {
        const x = row[c.field];
        if (typeof x === "number") {
          vals.push(x);
          if (k === 0) primary.push(x);
        }
      }
    });
    const d = decideAxis(vals, ch, primary);
    if (!d.scale) continue;
    for (const c of main) c.enc.scale = { ...(c.enc.scale ?? {}), ...d.scale };
    if (d.note) notes.push(d.note);
  }
  if (notes.length > 0) {
    const t = owner.title;
    const text = typeof t === "string" ? t : t && typeof t === "object" ? (t as { text?: unknown }).text : undefined;
    const old = t && typeof t === "object" ? (t as { subtitle?: unknown }).subtitle : undefined;
    const subtitle = [...(old === undefined ? [] : Array.isArray(old) ? old : [old]), ...notes];
    owner.title = { ...(t && typeof t === "object" ? t : {}), text: text ?? "", subtitle };
  }
}

/** Return a copy of `spec` with the axis policy applied to every unit (recursing into concats and layers). */
export function tidyAxes(spec: VlSpec): VlSpec {
  const copy = structuredClone(spec);
  walk(copy, undefined);
  return copy;
}

function walk(s: VlSpec, parentData: Record<string, unknown>[] | undefined): void {
  const data = inlineValues(s) ?? parentData;
  if (isUnit(s)) return tidyGroup(s, [s], data);
  if (Array.isArray(s.layer)) {
    const layers = s.layer as VlSpec[];
    if (layers.every(isUnit)) return tidyGroup(s, layers, data);
    for (const l of layers) walk(l, data);
    return;
  }
  for (const k of ["hconcat", "vconcat", "concat"]) if (Array.isArray(s[k])) for (const c of s[k] as VlSpec[]) walk(c, data);
}
