/**
 * PNG rendering of rfdyn's SVG plots with resvg (a Rust SVG renderer, no browser, no canvas).
 *
 * Size: Vega writes SVG sizes in CSS pixels (96 per inch), so a plot of W px is rendered W·dpi/96
 * pixels wide and printed at W/96 inches; the PNG carries its DPI in a pHYs chunk, so word
 * processors and LaTeX place it at that size.  Text: resvg draws text only with fonts it has
 * loaded — we load the system fonts and map Vega's generic families (sans-serif, monospace) onto
 * families that commonly exist (DejaVu, Liberation), which Debian/Ubuntu, Fedora and Docker images
 * with fontconfig have; `pngHasFonts()` says whether any font was found.
 */

export interface PngOptions {
  /** Dots per inch (default 150; 72–1200). */
  dpi?: number;
  /** Background colour (default white; "transparent" keeps alpha). */
  background?: string;
}

export const DEFAULT_DPI = 150;
export const MIN_DPI = 36;
export const MAX_DPI = 1200;

type ResvgModule = typeof import("@resvg/resvg-js");
let resvgModule: Promise<ResvgModule> | undefined;

function resvg(): Promise<ResvgModule> {
  return (resvgModule ??= import("@resvg/resvg-js"));
}

/** Font families tried for Vega's generic families, in order. */
const SANS = ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans"];

/** Render an SVG string to PNG bytes at `dpi`. */
export async function svgToPng(svg: string, opts: PngOptions = {}): Promise<Buffer> {
  const dpi = opts.dpi ?? DEFAULT_DPI;
  if (!(Number.isFinite(dpi) && dpi >= MIN_DPI && dpi <= MAX_DPI)) throw new RangeError(`dpi must be in [${MIN_DPI}, ${MAX_DPI}] (got ${dpi})`);
  const { Resvg } = await resvg();
  const r = new Resvg(svg, {
    fitTo: { mode: "zoom", value: dpi / 96 },
    background: opts.background === "transparent" ? undefined : (opts.background ?? "white"),
    font: { loadSystemFonts: true, defaultFontFamily: SANS[0], sansSerifFamily: SANS[0], serifFamily: "DejaVu Serif", monospaceFamily: "DejaVu Sans Mono" },
    textRendering: 1,
    shapeRendering: 2,
  });
  const png = r.render().asPng();
  return withDpi(Buffer.from(png), dpi);
}

/** Whether resvg finds at least one system font (without one, PNG text is invisible). */
export async function pngHasFonts(): Promise<boolean> {
  const { Resvg } = await resvg();
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><text x="2" y="15" font-family="sans-serif" font-size="14">Hg</text></svg>';
  const img = new Resvg(svg, { font: { loadSystemFonts: true, sansSerifFamily: SANS[0], defaultFontFamily: SANS[0] } }).render();
  const px = img.pixels;
  for (let i = 3; i < px.length; i += 4) if (px[i] > 0) return true;
  return false;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Insert (or replace) a pHYs chunk saying `dpi` right after IHDR. */
export function withDpi(png: Buffer, dpi: number): Buffer {
  if (png.length < 33 || png.toString("latin1", 12, 16) !== "IHDR") throw new Error("withDpi: not a PNG");
  const ppm = Math.round(dpi / 0.0254);
  const chunk = Buffer.alloc(21);
  chunk.writeUInt32BE(9, 0);
  chunk.write("pHYs", 4, "latin1");
  chunk.writeUInt32BE(ppm, 8);
  chunk.writeUInt32BE(ppm, 12);
  chunk.writeUInt8(1, 16);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 17)), 17);
  const parts: Buffer[] = [png.subarray(0, 33), chunk];
  // Copy the remaining chunks, dropping any pHYs already present.
  let off = 33;
  while (off + 8 <= png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString("latin1", off + 4, off + 8);
    const end = off + 12 + len;
    if (type !== "pHYs") parts.push(png.subarray(off, end));
    off = end;
  }
  return Buffer.concat(parts);
}

/** The DPI stored in a PNG's pHYs chunk (undefined if none or not in metres). */
export function pngDpi(png: Buffer): number | undefined {
  let off = 8;
  while (off + 8 <= png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString("latin1", off + 4, off + 8);
    if (type === "pHYs" && png[off + 16] === 1) return Math.round(png.readUInt32BE(off + 8) * 0.0254 * 100) / 100;
    if (type === "IDAT") return undefined;
    off += 12 + len;
  }
  return undefined;
}

/** Width and height in pixels of a PNG. */
export function pngSize(png: Buffer): { width: number; height: number } {
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
