/**
 * Entry of a kernel worker thread (see ./parallel.ts): serves the chunks of the team's jobs until the
 * team is closed.  Loads only ./parallel.ts and, by URL, the modules of the jobs' chunk functions.
 */
import { isMainThread, parentPort, workerData, type MessagePort } from "node:worker_threads";
import { serveChunks } from "./parallel.js";

const wd = workerData as { rfdynKernelWorker?: boolean; ctl: SharedArrayBuffer; port: MessagePort; errors: MessagePort } | null;
if (!isMainThread && wd?.rfdynKernelWorker) {
  void serveChunks(wd.ctl, wd.port, wd.errors, (n) => parentPort?.postMessage({ loaded: n })).then(() => process.exit(0));
}
