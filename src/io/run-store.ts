/**
 * A RunStore (src/run/store.ts) in an output directory: one file per key under
 * `<out>/.rfdyn/checkpoints/`, written atomically (temp file + rename), so a run killed with
 * kill -9 leaves every stored value either complete or absent.  Values are JSON with exact doubles:
 * typed arrays are stored as base64 of their bytes and non-finite numbers as tagged strings, so a
 * resumed run reads back bit-identical state.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic.js";
import type { RunStore } from "../run/store.js";

type Typed = Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;
const TYPED: Record<string, new (b: ArrayBuffer) => Typed> = {
  Float64Array, Float32Array, Int32Array, Uint32Array, Int16Array, Uint16Array, Int8Array, Uint8Array,
};

/** Encode a value as JSON text that decodes to the same bits (see `decodeExact`). */
export function encodeExact(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, _k, v) {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const t = v as Typed;
      return { $typed: t.constructor.name, b64: Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString("base64") };
    }
    if (typeof v === "number" && !Number.isFinite(v)) return { $num: String(v) };
    if (typeof v === "number" && Object.is(v, -0)) return { $num: "-0" };
    return v;
  });
}

export function decodeExact(text: string): unknown {
  return JSON.parse(text, (_k, v) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (typeof o.$typed === "string" && typeof o.b64 === "string") {
        const Ctor = TYPED[o.$typed];
        if (!Ctor) throw new Error(`checkpoint: unknown typed array ${o.$typed}`);
        const buf = Buffer.from(o.b64, "base64");
        return new Ctor(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      }
      if (typeof o.$num === "string" && Object.keys(o).length === 1) return o.$num === "-0" ? -0 : Number(o.$num);
    }
    return v;
  });
}

/** Where an output directory keeps its run bookkeeping. */
export function bookkeepingDir(out: string): string {
  return join(out, ".rfdyn");
}

function fileOf(dir: string, key: string): string {
  return join(dir, `${encodeURIComponent(key)}.json`);
}

/** The checkpoint store of an output directory. */
export function directoryStore(out: string): RunStore & { clear(): void; keys(): string[] } {
  const dir = join(bookkeepingDir(out), "checkpoints");
  return {
    get<T>(key: string): T | undefined {
      const f = fileOf(dir, key);
      if (!existsSync(f)) return undefined;
      return decodeExact(readFileSync(f, "utf8")) as T;
    },
    put(key: string, value: unknown): void {
      mkdirSync(dir, { recursive: true });
      writeFileAtomic(fileOf(dir, key), encodeExact(value));
    },
    clear(): void {
      rmSync(dir, { recursive: true, force: true });
    },
    keys(): string[] {
      if (!existsSync(dir)) return [];
      return readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => decodeURIComponent(f.slice(0, -5))).sort();
    },
  };
}
