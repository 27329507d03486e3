/** Writing plots: the Vega-Lite spec (`<base>.vl.json`, re-renderable in any Vega viewer) and its SVG, atomically. */
import { toJson, writeFileAtomic } from "./atomic.js";
import { renderSvg, type VlSpec } from "../plot/render.js";

/** Write `<base>.svg` and `<base>.vl.json`. */
export async function writePlot(base: string, spec: VlSpec): Promise<void> {
  const full = { $schema: "https://vega.github.io/schema/vega-lite/v6.json", ...spec };
  writeFileAtomic(`${base}.vl.json`, toJson(full) + "\n");
  writeFileAtomic(`${base}.svg`, await renderSvg(full));
}
