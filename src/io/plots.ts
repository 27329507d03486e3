/**
 * Writing plots: the Vega-Lite spec (`<base>.vl.json`, re-renderable in any Vega viewer), its SVG
 * and a PNG at a chosen DPI, atomically.  Every spec passes through the axis policy
 * (src/plot/axes.ts: log axes for data spanning decades, y ranges that include 0 or say so).
 */
import { toJson, writeFileAtomic } from "./atomic.js";
import { renderSvg, type VlSpec } from "../plot/render.js";
import { tidyAxes } from "../plot/axes.js";
import { DEFAULT_DPI, MAX_DPI, MIN_DPI, svgToPng } from "../plot/png.js";
import { yieldToEventLoop } from "../run/hooks.js";
import { UserError } from "../run/errors.js";

export interface PlotOutput {
  /** Also write `<base>.png` (default true). */
  png: boolean;
  /** PNG resolution in dots per inch (default 150). */
  dpi: number;
}

const output: PlotOutput = { png: true, dpi: DEFAULT_DPI };

/**
 * Set how every later `writePlot` writes (the CLI's --png/--no-png and --dpi).  Process-wide, like
 * a locale: writers of every result kind call `writePlot` without options.
 */
export function setPlotOutput(o: Partial<PlotOutput>): void {
  if (o.dpi !== undefined) {
    if (!(Number.isFinite(o.dpi) && o.dpi >= MIN_DPI && o.dpi <= MAX_DPI)) throw new UserError(`--dpi: must be a number in [${MIN_DPI}, ${MAX_DPI}] (got ${o.dpi})`);
    output.dpi = o.dpi;
  }
  if (o.png !== undefined) output.png = o.png;
}

export function plotOutput(): PlotOutput {
  return { ...output };
}

/** Readable defaults: font sizes that survive scaling a figure to a column width, full legend labels. */
export const PUBLICATION_CONFIG = {
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal" },
  legend: { labelFontSize: 11, labelLimit: 320, symbolSize: 60 },
  title: { fontSize: 14, subtitleFontSize: 11, subtitleColor: "#555" },
};

/** Write `<base>.vl.json`, `<base>.svg` and (unless disabled) `<base>.png`. */
export async function writePlot(base: string, spec: VlSpec, opts: Partial<PlotOutput> = {}): Promise<void> {
  // Rendering is the slow part of writing a result: return to the event loop first, so that a
  // second Ctrl-C while partial results are written is seen between plots.
  await yieldToEventLoop();
  const o = { ...output, ...opts };
  const full = { $schema: "https://vega.github.io/schema/vega-lite/v6.json", config: PUBLICATION_CONFIG, ...tidyAxes(spec) };
  writeFileAtomic(`${base}.vl.json`, toJson(full) + "\n");
  const svg = await renderSvg(full);
  writeFileAtomic(`${base}.svg`, svg);
  if (o.png) {
    await yieldToEventLoop();
    writeFileAtomic(`${base}.png`, await svgToPng(svg, { dpi: o.dpi }));
  }
}
