/** Writing plots: the Vega-Lite spec (`<base>.vl.json`, re-renderable in any Vega viewer) and its SVG, atomically. */
import { toJson, writeFileAtomic } from "./atomic.js";
import { renderSvg, type VlSpec } from "../plot/render.js";
import { yieldToEventLoop } from "../run/hooks.js";

/** Write `<base>.svg` and `<base>.vl.json`. */
export async function writePlot(base: string, spec: VlSpec): Promise<void> {
  // Rendering is the slow part of writing a result: return to the event loop first, so that a
  // second Ctrl-C while partial results are written is seen between plots.
  await yieldToEventLoop();
  const full = { $schema: "https://vega.github.io/schema/vega-lite/v6.json", ...spec };
  writeFileAtomic(`${base}.vl.json`, toJson(full) + "\n");
  writeFileAtomic(`${base}.svg`, await renderSvg(full));
}
