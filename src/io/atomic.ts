/**
 * Atomic file output: every writer writes to `<path>.<pid>.<n>.tmp` in the same directory and then
 * renames, so an interrupted run never leaves a half-written result file behind.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

let counter = 0;
const pending = new Set<string>();

/** Write `data` to `path` atomically (creating parent directories). */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${counter++}.tmp`;
  pending.add(tmp);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } finally {
    pending.delete(tmp);
    rmSync(tmp, { force: true });
  }
}

/** Remove temp files of writes that were interrupted (called from signal handlers). */
export function cleanupPendingWrites(): void {
  for (const t of pending) rmSync(t, { force: true });
  pending.clear();
}

/** JSON with non-finite numbers written as null and typed arrays as plain arrays. */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(
    value,
    (_k, v) => {
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
      if (typeof v === "number" && !Number.isFinite(v)) return null;
      if (typeof v === "bigint") return v.toString();
      return v;
    },
    indent,
  );
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, toJson(value) + "\n");
}
