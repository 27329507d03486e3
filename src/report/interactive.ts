/**
 * Turning rfdyn's static plot specs into interactive ones for the HTML report:
 *
 * - tooltips: line charts get a layer of small points (at most ~400 per series, by a `__tip` flag on
 *   the rows) that show series, x and y on hover; other marks show their data fields;
 * - zoom and pan: an interval selection bound to the scales of every chart with two quantitative
 *   axes (mouse wheel zooms, drag pans, double-click resets);
 * - legend toggles: clicking a legend entry highlights that series (shift-click for several).
 *
 * Pure spec-to-spec functions (no DOM), so they are unit-tested without a browser.
 */

type Spec = Record<string, unknown>;
type Enc = Record<string, unknown> & { field?: string; type?: string; title?: unknown };

/** Points with tooltips per series at most (thinned evenly beyond). */
export const TIP_POINTS_PER_SERIES = 400;

let counter = 0;
function uid(prefix: string): string {
  counter = (counter + 1) % 1e9;
  return `${prefix}_${counter}`;
}

function quantitative(e: Enc | undefined): boolean {
  return !!e && e.type === "quantitative";
}

function markType(m: unknown): string | undefined {
  return typeof m === "string" ? m : m && typeof m === "object" ? ((m as { type?: string }).type) : undefined;
}

function titleText(e: Enc | undefined, fallback: string): string {
  const t = e?.title;
  return typeof t === "string" && t !== "" ? t : e?.field ?? fallback;
}

function tooltipOf(enc: Record<string, Enc>): Spec[] {
  const tips: Spec[] = [];
  const color = enc.color;
  if (color?.field) tips.push({ field: color.field, type: color.type ?? "nominal", title: typeof color.title === "string" && color.title !== "" ? color.title : "series" });
  for (const ch of ["x", "y"] as const) {
    const e = enc[ch];
    if (e?.field) tips.push({ field: e.field, type: e.type ?? "quantitative", title: titleText(e, ch), ...(e.type === "quantitative" ? { format: ".5~g" } : {}) });
  }
  if (enc.detail && (enc.detail as Enc).field) tips.push({ field: (enc.detail as Enc).field, title: (enc.detail as Enc).field });
  return tips;
}

/** Mark every k-th row of each series with `__tip` so at most TIP_POINTS_PER_SERIES carry a tooltip point. */
function flagTips(values: Record<string, unknown>[], seriesField: string | undefined): Record<string, unknown>[] {
  const bySeries = new Map<unknown, number>();
  for (const v of values) bySeries.set(seriesField ? v[seriesField] : "", (bySeries.get(seriesField ? v[seriesField] : "") ?? 0) + 1);
  const seen = new Map<unknown, number>();
  return values.map((v) => {
    const s = seriesField ? v[seriesField] : "";
    const n = bySeries.get(s) ?? 1;
    const k = seen.get(s) ?? 0;
    seen.set(s, k + 1);
    const step = Math.max(1, Math.ceil(n / TIP_POINTS_PER_SERIES));
    return { ...v, __tip: k % step === 0 };
  });
}

function zoomParam(): Spec {
  return { name: uid("zoom"), select: { type: "interval", encodings: ["x", "y"] }, bind: "scales" };
}

function legendParam(field: string): Spec {
  return { name: uid("legend"), select: { type: "point", fields: [field] }, bind: "legend" };
}

/** A unit spec made interactive (may become a layer spec). */
function interactiveUnit(s: Spec, parentValues?: Record<string, unknown>[]): Spec {
  const enc = (s.encoding ?? {}) as Record<string, Enc>;
  const type = markType(s.mark);
  const xyQuant = quantitative(enc.x) && quantitative(enc.y);
  const color = enc.color;
  const legendField = color?.field && (color.type === "nominal" || color.type === "ordinal") ? color.field : undefined;
  const params: Spec[] = [];
  if (xyQuant) params.push(zoomParam());
  let legendName: string | undefined;
  if (legendField) {
    const p = legendParam(legendField);
    legendName = p.name as string;
    params.push(p);
  }
  const opacity = legendName ? { condition: { param: legendName, value: 1 }, value: 0.12 } : undefined;
  const data = s.data as { values?: Record<string, unknown>[] } | undefined;
  const values = data?.values ?? parentValues;
  if (type === "line" && xyQuant && values) {
    const { mark, encoding, params: oldParams, data: _d, ...rest } = s;
    const m = typeof mark === "string" ? { type: mark } : (mark as Spec);
    return {
      ...rest,
      data: { values: flagTips(values, legendField) },
      encoding,
      layer: [
        { mark: { ...m, tooltip: false }, params: [...((oldParams as Spec[]) ?? []), ...params], ...(opacity ? { encoding: { opacity } } : {}) },
        {
          mark: { type: "point", filled: true, size: 22, clip: true },
          transform: [{ filter: "datum.__tip" }],
          encoding: { tooltip: tooltipOf(enc), ...(opacity ? { opacity } : {}) },
        },
      ],
    };
  }
  const out: Spec = { ...s };
  const m = typeof s.mark === "string" ? { type: s.mark } : { ...(s.mark as Spec) };
  out.mark = { ...m, tooltip: { content: "data" } };
  // Heat maps (ordinal axes, quantitative colour) keep only their tooltips.
  if (params.length > 0 && type !== "rect") {
    out.params = [...((s.params as Spec[]) ?? []), ...params];
    if (opacity) out.encoding = { ...enc, opacity };
  }
  return out;
}

/** Return an interactive copy of a Vega-Lite spec (units, layers, concatenations). */
export function makeInteractive(spec: Spec): Spec {
  return walk(structuredClone(spec), undefined);
}

function walk(s: Spec, parentValues: Record<string, unknown>[] | undefined): Spec {
  const values = ((s.data as { values?: Record<string, unknown>[] } | undefined)?.values) ?? parentValues;
  if ("mark" in s) return interactiveUnit(s, parentValues);
  if (Array.isArray(s.layer)) {
    const layers = s.layer as Spec[];
    // Layered charts (e.g. a sweep's mean line and sd rules): tooltips on every layer, zoom on the first.
    const out = layers.map((l, k) => {
      const enc = { ...(s.encoding as Record<string, Enc> | undefined), ...(l.encoding as Record<string, Enc> | undefined) };
      const m = typeof l.mark === "string" ? { type: l.mark } : { ...(l.mark as Spec) };
      const res: Spec = { ...l, mark: { ...m, tooltip: { content: "data" } } };
      if (k === 0 && quantitative(enc.x) && quantitative(enc.y)) res.params = [...((l.params as Spec[]) ?? []), zoomParam()];
      return res;
    });
    return { ...s, layer: out };
  }
  for (const k of ["hconcat", "vconcat", "concat"]) if (Array.isArray(s[k])) s[k] = (s[k] as Spec[]).map((c) => walk(c, values));
  return s;
}
