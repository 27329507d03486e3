/**
 * How to start a worker thread on a module of rfdyn in the current mode (TypeScript sources under
 * tsx/vitest, or compiled code in dist/).  Used by the unit pool (src/parallel/pool.ts) and the
 * data-parallel kernels (./parallel.ts).
 *
 * Compiled: the worker file itself.  TypeScript sources: a tiny CommonJS bootstrap (eval) that
 * registers tsx's ESM hooks in the worker (tsx/esm/api `register`) and then imports the .ts module
 * (Node 20 does not apply an `--import` loader to a worker's entry module, so the entry cannot be the
 * .ts file itself).
 */
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * Entry of a worker running `moduleUrl` (a file URL of a .ts or .js module of rfdyn, e.g.
 * `new URL("./worker.js", import.meta.url)` — the extension is taken from `moduleUrl`'s own file).
 */
export function workerEntryFor(moduleUrl: URL): { entry: URL | string; eval: boolean } {
  const ext = extname(fileURLToPath(moduleUrl));
  if (ext === ".ts" || ext === ".mts") {
    const api = tsxEsmApiUrl();
    const code = `(async () => { const { register } = await import(${JSON.stringify(api)}); register(); await import(${JSON.stringify(moduleUrl.href)}); })().catch((e) => { process.nextTick(() => { throw e; }); });`;
    return { entry: code, eval: true };
  }
  return { entry: moduleUrl, eval: false };
}

/** `base` (an import.meta.url) with its file name replaced by `name` + the same extension (.ts or .js). */
export function siblingModule(base: string, name: string): URL {
  const ext = extname(fileURLToPath(base));
  return new URL(`./${name}${ext === ".mts" ? ".mts" : ext === ".ts" ? ".ts" : ".js"}`, base);
}

let tsxApi: string | undefined;

/** File URL of tsx's ESM API ("tsx/esm/api", import condition), from tsx's package.json exports. */
function tsxEsmApiUrl(): string {
  if (tsxApi) return tsxApi;
  const req = createRequire(import.meta.url);
  const pkgPath = req.resolve("tsx/package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { exports?: Record<string, unknown> };
  const e = pkg.exports?.["./esm/api"] as { import?: { default?: string } | string } | undefined;
  const rel = typeof e?.import === "string" ? e.import : e?.import?.default;
  if (!rel) throw new Error("cannot locate tsx/esm/api (needed to run worker threads from TypeScript sources)");
  tsxApi = pathToFileURL(join(dirname(pkgPath), rel)).href;
  return tsxApi;
}
