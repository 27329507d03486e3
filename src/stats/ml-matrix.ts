/**
 * ml-matrix (EVD, LU), loaded on first use.  Few runs need it (Gauss–Hermite nodes by Golub–Welsch,
 * fixed-point stability analysis), but as an ES import its 150 kB CommonJS bundle is loaded — and
 * scanned for its export names by Node's CommonJS lexer — in every process and every worker thread
 * that imports a module depending on it.  A synchronous `require` at first use costs a third of that
 * import, and nothing where it is never used.
 */
import { createRequire } from "node:module";
import type * as MlMatrixModule from "ml-matrix";

export type MlMatrix = typeof MlMatrixModule;

let loaded: MlMatrix | undefined;

/** The ml-matrix module (required on the first call). */
export function mlMatrix(): MlMatrix {
  return (loaded ??= createRequire(import.meta.url)("ml-matrix") as MlMatrix);
}
