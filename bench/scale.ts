/**
 * Scaling benchmark (issue 14): `npm run bench -- scale`.
 *
 * For each model and size variable, a geometric ladder of sizes spanning ≥ 10× (16× here), each
 * measured in a fresh child process (bench/scale-child.ts) so peak RSS is per size: CPU seconds per
 * unit of work (SGD step, flow RHS, CP loss+gradient, ODE RHS) and peak RSS.  The figure of each
 * row is the least-squares log-log exponent of time against size over the whole ladder; the
 * per-size table, the exponent over the top three sizes ("local") and the expected exponent are
 * printed to stderr (and appended as markdown to $RFDYN_SCALE_OUT when set).
 *
 * Expected exponents: SGD O(KD + D log D) per step → 1 in D and in K (less at small K, where the
 * O(D log D) sampler dominates); flow RHS O(PD) → 1, 1; CP loss+gradient O(PDr + r²D) → 1, 1, 1;
 * Saad–Solla RHS O(K²(K+M)²) with M = K → 4; mixture RHS O(K⁴ N̄ + G K³) at fixed D → 4 (N̄: mean
 * tetrachoric terms per pair, ~13 at the state used).  The whole run (45 child processes, ≥ 0.4 CPU-s
 * of measurement each) took 6 min on a 2-core machine at load average ~25; less when idle.
 * Only runs when selected (`node dist/bench/run.js scale`).
 */
import { execFileSync } from "node:child_process";
import { appendFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Benchmark } from "./run.js";
import type { ScaleCase, ScaleParams, ScalePoint } from "./scale-child.js";

interface Series {
  name: string;
  kind: ScaleCase;
  variable: keyof ScaleParams;
  sizes: number[];
  fixed: ScaleParams;
  expected: number;
  unit: string;
}

const SERIES: Series[] = [
  { name: "SGD step vs D (K = 8)", kind: "sgd", variable: "D", sizes: [100, 200, 400, 800, 1600], fixed: { K: 8 }, expected: 1, unit: "step" },
  { name: "SGD step vs K (D = 400)", kind: "sgd", variable: "K", sizes: [16, 32, 64, 128, 256], fixed: { D: 400 }, expected: 1, unit: "step" },
  { name: "flow RHS vs D (P = 4000)", kind: "flow", variable: "D", sizes: [50, 100, 200, 400, 800], fixed: { P: 4000 }, expected: 1, unit: "RHS" },
  { name: "flow RHS vs P (D = 100)", kind: "flow", variable: "P", sizes: [1000, 2000, 4000, 8000, 16000], fixed: { D: 100 }, expected: 1, unit: "RHS" },
  { name: "CP loss+grad vs D (P = 2000, r = 10)", kind: "cp", variable: "D", sizes: [25, 50, 100, 200, 400], fixed: { P: 2000, r: 10 }, expected: 1, unit: "eval" },
  { name: "CP loss+grad vs P (D = 50, r = 10)", kind: "cp", variable: "P", sizes: [1000, 2000, 4000, 8000, 16000], fixed: { D: 50, r: 10 }, expected: 1, unit: "eval" },
  { name: "CP loss+grad vs r (D = 50, P = 2000)", kind: "cp", variable: "r", sizes: [4, 8, 16, 32, 64], fixed: { D: 50, P: 2000 }, expected: 1, unit: "eval" },
  { name: "Saad–Solla RHS vs K (M = K)", kind: "saad-solla", variable: "K", sizes: [2, 4, 8, 16, 32], fixed: {}, expected: 4, unit: "RHS" },
  { name: "mixture ODE RHS vs K (D = 400)", kind: "mixture", variable: "K", sizes: [2, 4, 8, 16, 32], fixed: { D: 400 }, expected: 4, unit: "RHS" },
];

/** Run one point in a child process (same Node flags, so it also works under tsx). */
function point(kind: ScaleCase, params: ScaleParams): ScalePoint {
  const here = fileURLToPath(import.meta.url);
  const child = here.replace(/scale\.(ts|js)$/, "scale-child.$1");
  const out = execFileSync(process.execPath, [...process.execArgv, child, kind, JSON.stringify(params)], { encoding: "utf8", maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split("\n").pop()!) as ScalePoint;
}

/** Least-squares slope of log y against log x. */
export function logLogSlope(x: readonly number[], y: readonly number[]): number {
  const lx = x.map(Math.log), ly = y.map(Math.log), n = x.length;
  const mx = lx.reduce((a, b) => a + b, 0) / n, my = ly.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) { sxy += (lx[i] - mx) * (ly[i] - my); sxx += (lx[i] - mx) ** 2; }
  return sxy / sxx;
}

let baselineMB: number | undefined;

function fmtTime(s: number): string {
  return s >= 1 ? `${s.toFixed(2)} s` : s >= 1e-3 ? `${(s * 1e3).toFixed(2)} ms` : `${(s * 1e6).toFixed(1)} µs`;
}

function runSeries(s: Series): number {
  baselineMB ??= point("baseline", {}).maxRssMB;
  const pts: ScalePoint[] = [];
  for (const size of s.sizes) {
    const p = point(s.kind, { ...s.fixed, [s.variable]: size });
    pts.push(p);
    process.stderr.write(`  ${s.variable} = ${size}: ${fmtTime(p.seconds)}/${s.unit}, peak RSS ${p.maxRssMB.toFixed(0)} MB (setup ${p.setupSeconds.toFixed(2)} s)\n`);
  }
  const t = pts.map((p) => p.seconds);
  const slope = logLogSlope(s.sizes, t);
  const local = logLogSlope(s.sizes.slice(-3), t.slice(-3));
  const rssSlope = logLogSlope(s.sizes, pts.map((p) => Math.max(1, p.maxRssMB - baselineMB!)));
  const md = [
    `\n#### ${s.name}: exponent ${slope.toFixed(2)} (top three sizes ${local.toFixed(2)}; expected ${s.expected})\n`,
    `| ${s.variable} | CPU time / ${s.unit} | peak RSS (MB) |`,
    `|---:|---:|---:|`,
    ...s.sizes.map((size, i) => `| ${size} | ${fmtTime(pts[i].seconds)} | ${pts[i].maxRssMB.toFixed(0)} |`),
    `\nRSS above the ${baselineMB!.toFixed(0)} MB baseline of an idle child grows with exponent ${rssSlope.toFixed(2)}.\n`,
  ].join("\n");
  process.stderr.write(md + "\n");
  if (process.env.RFDYN_SCALE_OUT) appendFileSync(process.env.RFDYN_SCALE_OUT, md + "\n");
  return slope;
}

export const benchmarks: Benchmark[] = SERIES.map((s) => ({
  name: `scale: ${s.name} — log-log exponent (expected ${s.expected})`,
  unit: "exponent",
  target: s.expected + 0.25,
  higherIsBetter: false,
  optIn: true,
  run: () => runSeries(s),
}));
