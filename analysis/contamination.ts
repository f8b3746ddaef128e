/**
 * Trials that ran on a busy host (issue 9): every record whose contamination check flagged it, counted
 * (it is in its cells' statistics, which are warned) or superseded (a clean retry of the same trial, or a
 * later attempt, is counted instead: workloads/record.ts dedupeTrials). For the run metadata's list.
 */
import type { LoadedInputs, LocatedRecord } from "./load.ts";
import { printable } from "../model/record.ts";

export interface ContaminatedTrial {
  readonly stack: string;
  readonly profile: string;
  readonly order: number;
  readonly environment: string;
  readonly workload: string;
  readonly rep: number;
  readonly warmup: boolean;
  readonly reasons: readonly string[];
  /** Where the record is (file:line). */
  readonly at: string;
  /** In the statistics (false: superseded, or a warm-up). */
  readonly counted: boolean;
  /** The record counted instead (file:line) and whether it is clean, when this one is superseded. */
  readonly supersededBy: { readonly at: string; readonly clean: boolean } | null;
}

const where = (r: LocatedRecord) => `${printable(r.file)}:${r.line}`;

function entry(r: LocatedRecord, by: LocatedRecord | null): ContaminatedTrial {
  const x = r.record;
  return {
    stack: x.stack, profile: x.profile, order: x.order, environment: x.environment, workload: x.workload, rep: x.rep, warmup: x.warmup,
    reasons: x.contamination?.reasons ?? [], at: where(r), counted: by === null && !x.warmup,
    supersededBy: by ? { at: where(by), clean: by.record.status === "ok" && !by.record.contamination?.flagged } : null,
  };
}

/** Every flagged record, counted or superseded, by stack and schedule position. */
export function contaminatedTrials(inputs: Pick<LoadedInputs, "records" | "superseded">): ContaminatedTrial[] {
  const out = [
    ...inputs.records.filter((r) => r.record.status === "ok" && r.record.contamination?.flagged).map((r) => entry(r, null)),
    ...inputs.superseded.filter((s) => s.record.record.contamination?.flagged).map((s) => entry(s.record, s.by)),
  ];
  return out.sort((a, b) => a.stack.localeCompare(b.stack) || a.profile.localeCompare(b.profile) || a.order - b.order || Number(b.counted) - Number(a.counted));
}

/** Superseded records that were not flagged (a later attempt of a clean trial), for the input notes. */
export function supersededText(inputs: Pick<LoadedInputs, "superseded">): string[] {
  return inputs.superseded.filter((s) => !s.record.record.contamination?.flagged)
    .map((s) => `superseded record ${where(s.record)}: a later attempt of this trial (${where(s.by)}) is counted instead`);
}
