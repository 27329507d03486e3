/**
 * NumPy .npy (format version 1.0) writer and reader for float64 / int32 arrays in C order,
 * readable by numpy.load.
 */
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "./atomic.js";

export function encodeNpy(data: Float64Array | Int32Array, shape: readonly number[]): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new RangeError(`npy: shape [${shape.join(", ")}] has ${n} elements but data has ${data.length}`);
  const descr = data instanceof Float64Array ? "<f8" : "<i4";
  const shp = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shp}, }`;
  // Total header (magic 6 + version 2 + len 2 + header + \n) must be a multiple of 64.
  const base = 10 + header.length + 1;
  header += " ".repeat((64 - (base % 64)) % 64) + "\n";
  const hb = new TextEncoder().encode(header);
  const out = new Uint8Array(10 + hb.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  out[8] = hb.length & 0xff;
  out[9] = hb.length >> 8;
  out.set(hb, 10);
  // Little-endian payload (all supported platforms are little-endian; check anyway).
  const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (!le) throw new Error("npy: big-endian hosts are not supported");
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + hb.length);
  return out;
}

export function writeNpy(path: string, data: Float64Array | Int32Array, shape: readonly number[]): void {
  writeFileAtomic(path, encodeNpy(data, shape));
}

export function decodeNpy(buf: Uint8Array): { data: Float64Array | Int32Array; shape: number[] } {
  if (buf[0] !== 0x93 || String.fromCharCode(...buf.subarray(1, 6)) !== "NUMPY") throw new Error("not an .npy file");
  const hlen = buf[8] | (buf[9] << 8);
  const header = new TextDecoder().decode(buf.subarray(10, 10 + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shapeStr = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? "";
  const shape = shapeStr.split(",").map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (/'fortran_order':\s*True/.test(header)) throw new Error("npy: Fortran order not supported");
  const off = 10 + hlen;
  const bytes = buf.slice(off);
  if (descr === "<f8") return { data: new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8), shape };
  if (descr === "<i4") return { data: new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4), shape };
  throw new Error(`npy: unsupported dtype ${descr}`);
}

export function readNpy(path: string): { data: Float64Array | Int32Array; shape: number[] } {
  return decodeNpy(new Uint8Array(readFileSync(path)));
}
