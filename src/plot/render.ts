/**
 * Plots: Vega-Lite specs for the charts rfdyn draws, and headless rendering to SVG (no canvas
 * needed).  Writing them to files is src/io/plots.ts.  Vega is imported lazily so library users
 * who never plot do not pay for it.
 */

export type VlSpec = Record<string, unknown>;

/** Render a Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: VlSpec): Promise<string> {
  const [vl, vega] = await Promise.all([import("vega-lite"), import("vega")]);
  const compiled = vl.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface LineSeries {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

/**
 * Multi-series line chart.  `logX`/`logY` force log axes; otherwise the axis policy of
 * src/plot/axes.ts (applied by writePlot) picks log axes for data spanning decades and a y range
 * that includes 0 or says it does not.
 */
export function lineChart(
  series: readonly LineSeries[],
  opts: { title?: string; xLabel: string; yLabel: string; logX?: boolean; logY?: boolean; width?: number; height?: number; points?: boolean },
): VlSpec {
  const values: { series: string; x: number; y: number }[] = [];
  for (const s of series) {
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i], y = s.y[i];
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      if ((opts.logX && x <= 0) || (opts.logY && y <= 0)) continue;
      values.push({ series: s.name, x, y });
    }
  }
  return {
    title: opts.title,
    width: opts.width ?? 420,
    height: opts.height ?? 280,
    data: { values },
    mark: { type: "line", point: opts.points ?? false, clip: true },
    encoding: {
      // Linear scales are left unset: tidyAxes (src/plot/axes.ts) decides log/baseline when written.
      x: { field: "x", type: "quantitative", title: opts.xLabel, ...(opts.logX ? { scale: { type: "log" } } : {}) },
      y: { field: "y", type: "quantitative", title: opts.yLabel, ...(opts.logY ? { scale: { type: "log" } } : {}) },
      color: { field: "series", type: "nominal", title: null },
    },
  };
}

/** Heat map of a matrix (rows × cols, row-major), e.g. receptive fields or overlap matrices. */
export function heatmap(data: ArrayLike<number>, rows: number, cols: number, opts: { title?: string; xLabel?: string; yLabel?: string; scheme?: string } = {}): VlSpec {
  const values: { r: number; c: number; v: number }[] = [];
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) values.push({ r, c, v: data[r * cols + c] });
  return {
    title: opts.title,
    data: { values },
    mark: "rect",
    width: Math.min(600, Math.max(120, cols * 4)),
    height: Math.min(600, Math.max(60, rows * 14)),
    encoding: {
      x: { field: "c", type: "ordinal", title: opts.xLabel ?? "site", axis: cols > 40 ? { labels: false, ticks: false } : {} },
      y: { field: "r", type: "ordinal", title: opts.yLabel ?? "neuron" },
      color: { field: "v", type: "quantitative", scale: { scheme: opts.scheme ?? "redblue", domainMid: 0, reverse: true }, title: null },
    },
  };
}

/** Several small charts side by side (concat). */
export function hconcat(charts: VlSpec[], title?: string): VlSpec {
  return { title, hconcat: charts };
}

export function vconcat(charts: VlSpec[], title?: string): VlSpec {
  return { title, vconcat: charts };
}
