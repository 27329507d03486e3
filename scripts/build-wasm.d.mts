/** Types of scripts/build-wasm.mjs (used by the vitest global setup). */
export function sourceHash(): string;
export function upToDate(): boolean;
export function build(): Promise<void>;
