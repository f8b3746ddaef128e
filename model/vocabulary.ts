/**
 * The experiment's neutral vocabulary, shared by every room: the workload ids, the profiles, and what a
 * script printed. Defined here, beneath workloads/ (which re-exports them in its contract), so the model
 * needs nothing from the rooms above it.
 */
export const WORKLOAD_IDS = ["xz", "linpack", "stream", "randomaccess", "nuttcp", "rr", "fio", "redis", "mysql"] as const;
export type WorkloadId = (typeof WORKLOAD_IDS)[number];

export const PROFILES = ["smoke", "quick", "full"] as const;
/** smoke: seconds per trial (CI); quick: about a minute per workload; full: the paper's sizes scaled to the host. */
export type ProfileName = (typeof PROFILES)[number];

/** What one script printed, kept verbatim. */
export interface RawRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly durationMs: number;
  readonly timedOut: boolean;
}
