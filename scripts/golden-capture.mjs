#!/usr/bin/env node
/**
 * (Re)capture the golden numbers of the quick model variants in test/fixtures/golden/.
 *
 *   npm run build && node scripts/golden-capture.mjs            # all fixtures, built CLI (dist/)
 *   node scripts/golden-capture.mjs default lsg24-single-ode    # only these fixtures
 *   node scripts/golden-capture.mjs --tsx                       # run src/ through tsx instead of dist/
 *   node scripts/golden-capture.mjs --check                     # run every fixture twice, write only
 *                                                               #   if both runs are bit-identical
 *   node scripts/golden-capture.mjs --dry-run                   # capture (and check) but write nothing
 *   node scripts/golden-capture.mjs -j 1                        # parallel runs (default 2)
 *
 * For each <name>.model.json: `rfdyn run <fixture> -o <tmp>/<name> -q`, then extractGolden() of the
 * output directory → <name>.expected.json (a flat map, keys sorted as extracted, doubles written with
 * JSON.stringify, i.e. the shortest string that round-trips to the same bits).  Exits 1 if a run
 * fails or (--check) two runs differ.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { extractGolden } from "./golden-extract.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const fixDir = join(root, "test", "fixtures", "golden");

const args = process.argv.slice(2);
const flag = (f) => { const i = args.indexOf(f); if (i < 0) return false; args.splice(i, 1); return true; };
const useTsx = flag("--tsx"), check = flag("--check"), dry = flag("--dry-run");
let jobs = 2;
for (const f of ["-j", "--jobs"]) {
  const i = args.indexOf(f);
  if (i >= 0) { jobs = Math.max(1, Number(args[i + 1]) || 1); args.splice(i, 2); }
}
const all = readdirSync(fixDir).filter((f) => f.endsWith(".model.json")).map((f) => f.slice(0, -".model.json".length)).sort();
const names = args.length > 0 ? args : all;
for (const n of names) if (!all.includes(n)) { console.error(`golden-capture: no fixture ${n}.model.json in ${fixDir}`); process.exit(2); }

const cli = useTsx ? ["--import", "tsx", join(root, "src", "cli", "index.ts")] : [join(root, "dist", "src", "cli", "index.js")];
if (!useTsx && !existsSync(cli[0])) { console.error("golden-capture: dist/ not built (npm run build), or use --tsx"); process.exit(2); }

const tmp = mkdtempSync(join(tmpdir(), "rfdyn-golden-"));

function runOnce(name, tag) {
  const out = join(tmp, `${name}.${tag}`);
  const fixture = join("test", "fixtures", "golden", `${name}.model.json`);
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [...cli, "run", fixture, "-o", out, "-q"], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => { err += d; });
    child.on("error", rej);
    child.on("close", (code) => {
      const seconds = (performance.now() - t0) / 1000;
      if (code !== 0) return rej(new Error(`${name}: rfdyn exited ${code}: ${err.trim().split("\n").pop()}`));
      try {
        res({ map: extractGolden(out), seconds });
      } catch (e) {
        rej(e);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });
  });
}

function diffExact(a, b) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const d = [];
  for (const k of keys) if (!Object.is(a[k], b[k])) d.push(`${k}: ${JSON.stringify(a[k])} vs ${JSON.stringify(b[k])}`);
  return d;
}

let failed = false;
async function capture(name) {
  try {
    const first = await runOnce(name, "a");
    let note = "";
    if (check) {
      const second = await runOnce(name, "b");
      const d = diffExact(first.map, second.map);
      if (d.length > 0) {
        failed = true;
        console.log(`${name}: NOT DETERMINISTIC, ${d.length} key(s) differ between two runs:\n  ${d.slice(0, 20).join("\n  ")}`);
        return;
      }
      note = `, 2nd run ${second.seconds.toFixed(1)} s, bit-identical`;
    }
    const n = Object.keys(first.map).length;
    if (!dry) writeFileSync(join(fixDir, `${name}.expected.json`), JSON.stringify(first.map, null, 1) + "\n");
    console.log(`${name}: ${first.seconds.toFixed(1)} s, ${n} values${note}${dry ? " (not written)" : ""}`);
  } catch (e) {
    failed = true;
    console.log(`${name}: FAILED: ${e.message}`);
  }
}

const queue = [...names];
await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, async () => {
  while (queue.length > 0) await capture(queue.shift());
}));
rmSync(tmp, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
