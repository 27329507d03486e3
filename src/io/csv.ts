/** CSV output (RFC 4180 quoting), written atomically. */
import { writeFileAtomic } from "./atomic.js";

export type Cell = string | number | boolean | null | undefined;

function cell(v: Cell): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : v > 0 ? "inf" : v < 0 ? "-inf" : "nan";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(columns: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const lines = [columns.map(cell).join(",")];
  for (const r of rows) lines.push(r.map(cell).join(","));
  return lines.join("\n") + "\n";
}

/** Write rows of objects; columns default to the keys of the first row. */
export function writeCsv(path: string, rows: readonly Record<string, Cell>[], columns?: readonly string[]): void {
  const cols = columns ?? (rows.length > 0 ? Object.keys(rows[0]) : []);
  writeFileAtomic(path, toCsv(cols, rows.map((r) => cols.map((c) => r[c]))));
}
