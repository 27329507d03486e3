/**
 * Resource figures recorded in every result.json (under `timings`, with the wall times: machine-
 * dependent, excluded from golden/byte comparisons like them).
 */

/**
 * Peak resident set size of this process so far, in bytes (getrusage ru_maxrss; worker threads
 * share the process, so a `-j N` run counts all of them).
 */
export function peakRss(): { peakRssBytes: number } {
  return { peakRssBytes: process.resourceUsage().maxRSS * 1024 };
}
