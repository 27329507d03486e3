/** rfdyn's version, read once from the nearest package.json named "rfdyn" (works from src/ and dist/src/). */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

export function rfdynVersion(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, "package.json");
    if (existsSync(p)) {
      try {
        const j = JSON.parse(readFileSync(p, "utf8")) as { name?: string; version?: string };
        if (j.name === "rfdyn" && j.version) return (cached = j.version);
      } catch {
        /* keep looking */
      }
    }
    dir = dirname(dir);
  }
  return (cached = "unknown");
}
