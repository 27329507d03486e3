/**
 * vitest global setup: builds the WebAssembly kernels (src/kernels/wasm-binary.ts, generated and not
 * committed) when missing or stale, so `npx vitest` works on a fresh clone without `npm run build`.
 * If AssemblyScript is missing, a module exporting null is written and the tests use the TS kernels.
 */
import { build, upToDate } from "../scripts/build-wasm.mjs";

export default async function setup(): Promise<void> {
  if (!upToDate()) await build();
}
