/**
 * The schedule (DESIGN.md, Methodology rules): randomized multiple interleaved trials, seeded.
 *
 * Round k (k = 1..repetitions) is one random permutation of every (environment, workload) pair, so every
 * environment's k-th repetition of a workload comes before any (k+1)-th, and slow drifts of the host
 * (thermal, page cache, background daemons) spread over all environments instead of biasing one. Where
 * a workload needs a warm-up (servers, caches), its warm-up trial (rep 0, marked `warmup`) runs right
 * before the pair's first measured trial, once per (environment, workload).
 */
import type { WorkloadId } from "../workloads/contract.ts";
import type { Schedule, ScheduleEntry } from "./plan.ts";

/** mulberry32: a small, well-known 32-bit PRNG; the same seed always yields the same sequence. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates with the given generator; returns a new array. */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export interface ScheduleInput {
  readonly environments: readonly string[];
  readonly workloads: readonly WorkloadId[];
  readonly repetitions: number;
  readonly seed: number;
  /** Whether a workload needs a warm-up trial (Workload.warmup). */
  readonly needsWarmup: (w: WorkloadId) => boolean;
  /** Whether the environment runs the workload (default: all do); a pair it cannot run is never scheduled. */
  readonly runs?: (environment: string, w: WorkloadId) => boolean;
}

export function buildSchedule(input: ScheduleInput): Schedule {
  const random = mulberry32(input.seed);
  const pairs = input.environments.flatMap((environment) => input.workloads.map((workload) => ({ environment, workload })))
    .filter(({ environment, workload }) => input.runs?.(environment, workload) ?? true);
  const entries: ScheduleEntry[] = [];
  const push = (e: Omit<ScheduleEntry, "order">) => entries.push({ order: entries.length, ...e });
  for (let rep = 1; rep <= input.repetitions; rep++) {
    for (const { environment, workload } of shuffle(pairs, random)) {
      if (rep === 1 && input.needsWarmup(workload)) push({ environment, workload, rep: 0, warmup: true });
      push({ environment, workload, rep, warmup: false });
    }
  }
  return { seed: input.seed, entries };
}
