/**
 * The results folder `<resultsRoot>/<stack>/<run>/` (DESIGN.md, Data flow 5): the run id, reading
 * trials.jsonl and the attempts log, each trial's status, and the resume logic shared by `pulumi up`
 * (new trigger values for failed trials) and `npm run e2e` (skip trials already ok).
 *
 * Files: trials.jsonl (one record per trial, appended by `virtperf trial`), attempts.log (one line
 * "<trial id> <exit code>" per attempt, appended by the trial command's wrapper, so a runner that died
 * before writing a record still counts as an attempt), raw/, facts/, schedule.json, experiment.json.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { readTrialsFile, type TrialRecord, type TrialsRead } from "../model/record.ts";
import type { Experiment } from "./experiment.ts";
import type { NotMeasured, Schedule, TrialPlan } from "./plan.ts";

export { TRIALS_FILE } from "../workloads/record-store.ts";
import { TRIALS_FILE } from "../workloads/record-store.ts";
export const ATTEMPTS_FILE = "attempts.log";

/** JSON with object keys sorted, so the hash does not depend on key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** This machine's identity: /etc/machine-id, else its hostname. */
function localMachine(): string {
  try {
    return readFileSync("/etc/machine-id", "utf8").trim() || hostname();
  } catch {
    return hostname();
  }
}

/**
 * Which machine is under test: this one (its machine id), or the SSH host by address and pinned host
 * key (a rebuilt machine at the same address has a new key). Key file paths are not part of it.
 */
function hostIdentity(x: Experiment): unknown {
  const a = x.host.address;
  return a.kind === "local" ? { machine: localMachine() } : { host: a.host, port: a.port, user: a.user, hostPublicKey: a.hostPublicKey.trim() };
}

/** Where network clients run: on the host, or a named second machine (address and pinned key). */
function clientIdentity(x: Experiment): unknown {
  const c = x.client;
  return c.kind === "host" ? "host" : { host: c.target.host, port: c.target.port ?? 22, user: c.target.user, hostPublicKey: c.hostPublicKey?.trim() };
}

/**
 * The run id: a hash of everything that changes what is measured (issue 10): the stack; the host under
 * test (which machine), the disks (scratchDir holds guest disks, ioDir the I/O data and Docker volumes),
 * the images (Debian suite, Docker base image, a user's guest image), the client machine; the
 * environments with their options, workloads, profile, repetitions, seed, and the CPU set, memory and
 * acceleration every environment gets. Not the date: running the same experiment again lands in the
 * same run, so it resumes; changing any of these starts a new run. The results root is not part of it.
 */
export function runId(x: Experiment): string {
  const measuring = {
    stack: x.stack, host: hostIdentity(x), scratchDir: x.host.scratchDir, ioDir: x.host.ioDir,
    images: { debianSuite: x.debianSuite, dockerBaseImage: x.dockerBaseImage, guestImage: x.guestImage },
    client: clientIdentity(x),
    environments: x.environments, workloads: x.workloads, profile: x.profile,
    repetitions: x.repetitions, seed: x.seed, cpuset: x.host.cpuset, memoryMiB: x.host.memoryMiB,
    acceleration: x.acceleration,
  };
  return `run-${createHash("sha256").update(canonical(measuring)).digest("hex").slice(0, 12)}`;
}

export function resultsDir(x: Experiment, run: string): string {
  return join(x.resultsRoot, x.stack, run);
}

/**
 * Every record of trials.jsonl, all attempts (resume counts failures), through the one reader beside the
 * schema: a missing file is an empty run; a torn or bad line anywhere is skipped, never thrown, so it
 * never blocks a resume (`readTrialsChecked` also returns the skipped lines, file:line and reason).
 */
export function readTrials(dir: string): TrialRecord[] {
  return readTrialsChecked(dir).records.map((r) => r.record);
}

/** The reader's whole answer for a run folder: records with file:line, and the lines it skipped. */
export function readTrialsChecked(dir: string): TrialsRead {
  return readTrialsFile(join(dir, TRIALS_FILE));
}

/** Attempts per trial id from attempts.log: exit codes in order. */
export function readAttempts(dir: string): Map<string, number[]> {
  const file = join(dir, ATTEMPTS_FILE);
  const out = new Map<string, number[]>();
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^(\S+) (\d+)$/.exec(line.trim());
    if (!m) continue;
    out.set(m[1]!, [...(out.get(m[1]!) ?? []), Number(m[2])]);
  }
  return out;
}

export type TrialStatus = "ok" | "failed" | "pending";

/** The record that belongs to a planned trial: same order, environment, workload, rep. */
function matches(r: TrialRecord, t: TrialPlan): boolean {
  return r.order === t.order && r.environment === t.environment && r.workload === t.workload && r.rep === t.rep && r.warmup === t.warmup;
}

export interface TrialState {
  readonly trial: TrialPlan;
  readonly status: TrialStatus;
  /** Attempts that did not end ok (failed records, or a runner that exited without one). */
  readonly failures: number;
  /** The latest record of this trial, if any. */
  readonly record?: TrialRecord;
}

/**
 * Status of every planned trial: ok when any record of it is ok; failed when it was attempted and none
 * is ok; pending when never attempted.
 */
export function trialStates(trials: readonly TrialPlan[], records: readonly TrialRecord[], attempts: Map<string, number[]>): TrialState[] {
  return trials.map((trial) => {
    const mine = records.filter((r) => matches(r, trial));
    const ok = mine.find((r) => r.status === "ok");
    const failedRecords = mine.filter((r) => r.status === "failed").length;
    const nonZeroExits = (attempts.get(trial.id) ?? []).filter((c) => c !== 0).length;
    const failures = Math.max(failedRecords, nonZeroExits);
    const status: TrialStatus = ok ? "ok" : failures > 0 ? "failed" : "pending";
    const record = ok ?? mine[mine.length - 1];
    return { trial, status, failures, ...(record ? { record } : {}) };
  });
}

export function countStates(states: readonly TrialState[]): Record<TrialStatus, number> {
  const counts = { ok: 0, failed: 0, pending: 0 };
  for (const s of states) counts[s.status]++;
  return counts;
}

/**
 * The trigger a trial's resource carries for resuming: it changes exactly when the trial has failed
 * once more, so the next `pulumi up` replaces (re-runs) failed trials and leaves ok ones alone.
 */
export function retryToken(state: TrialState): string {
  return `attempt-${state.failures}`;
}

/**
 * Writes schedule.json and experiment.json (idempotent: same experiment, same content); experiment.json
 * also lists the pairs left out of the schedule with why (the report says them).
 */
export function writeRunFiles(dir: string, x: Experiment, schedule: Schedule, run: string, notMeasured: readonly NotMeasured[] = []): void {
  mkdirSync(join(dir, "raw"), { recursive: true });
  mkdirSync(join(dir, "facts"), { recursive: true });
  writeFileSync(join(dir, "experiment.json"), JSON.stringify({ run, experiment: x, notMeasured }, null, 2) + "\n");
  writeFileSync(join(dir, "schedule.json"), JSON.stringify(schedule, null, 2) + "\n");
}
