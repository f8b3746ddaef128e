/**
 * The trial record, schema `virtperf.trial/1` (DESIGN.md): one JSON object per line of trials.jsonl.
 * Writers build it with `makeRecord`; readers check it with `parseRecord`. `readTrialsFile` is the one
 * reader of trials.jsonl, for resuming a run (stacks/results.ts) and for the report (analysis/load.ts).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { z } from "zod";
import { Ajv } from "ajv";
import { WORKLOAD_IDS, PROFILES } from "./vocabulary.ts";
import { RecordError } from "../lib/errors.ts";
import { ACCELERATIONS, KIND_NAMES } from "./kinds.ts";

export const TRIAL_SCHEMA = "virtperf.trial/1";

const metricSchema = z.object({
  name: z.string().min(1),
  value: z.number().finite(),
  unit: z.string().min(1),
  better: z.enum(["higher", "lower"]),
});

const caseSchema = z.object({
  case: z.string().min(1),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  metrics: z.array(metricSchema),
});

/** What a trial shell really ran with (workloads/runner/parity.ts CONTEXT_PROBE), as printed there. */
const contextSchema = z.object({
  env: z.string(), limits: z.string(), nice: z.string(), cpus: z.string(), shm: z.string(), thp: z.string(), blas: z.string(),
});

export const trialRecordSchema = z.object({
  schema: z.literal(TRIAL_SCHEMA),
  stack: z.string(),
  run: z.string(),
  /** Host fingerprint id (stable per machine). */
  host: z.string(),
  environment: z.string(),
  kind: z.enum(KIND_NAMES),
  /** "kvm", "tcg" for guests; "none" for native and Docker. A TCG guest's numbers are never KVM numbers. */
  acceleration: z.enum(ACCELERATIONS),
  /** A/A calibration: the environment this one is an identical copy of (the report's noise floor). */
  calibrationOf: z.string().optional(),
  /** Other environments of the run this one is also compared with (beside native), by its kind. */
  references: z.array(z.string()).optional(),
  /** For guests: why this acceleration (KVM proven, TCG requested, or the KVM check that failed). */
  accelerationReason: z.string().optional(),
  /**
   * What isolates the environment beyond its kind, resolved when it was planned: gVisor's runtime as one
   * label ("runsc ptrace, host network passthrough"), labelled in the report as TCG is.
   */
  isolation: z.string().optional(),
  /** Why that isolation: asked for, or what the host's probe found (the candidates that failed before it). */
  isolationReason: z.string().optional(),
  workload: z.enum(WORKLOAD_IDS),
  profile: z.enum(PROFILES),
  rep: z.number().int().nonnegative(),
  /** Position in the realized schedule (0-based). */
  order: z.number().int().nonnegative(),
  seed: z.number().int(),
  /** A warm-up trial: kept for the record, never in statistics. */
  warmup: z.boolean(),
  startedAt: z.string(),
  durationS: z.number().nonnegative(),
  /** Seconds the tool's measured step itself ran (durationS minus this is the runner's overhead). */
  toolS: z.number().nonnegative(),
  status: z.enum(["ok", "failed"]),
  cases: z.array(caseSchema),
  tool: z.object({ name: z.string(), version: z.string(), /** sha256 of the tool's binary where it ran. */ sha256: z.string().optional() }),
  /** The trial shell's environment, limits, CPUs, /dev/shm, THP and BLAS kernel, on the env side and the client side. */
  context: z.object({ env: contextSchema, client: contextSchema.optional() }).optional(),
  /** Was the host quiet during the run step (workloads/runner/contamination.ts)? Flagged trials are marked in the report. */
  contamination: z.object({
    flagged: z.boolean(), reasons: z.array(z.string()),
    loadBefore: z.number().nullable(), loadAfter: z.number().nullable(), stealPct: z.number().nullable(),
    busy: z.array(z.object({ pid: z.number().int(), comm: z.string(), cpuPct: z.number() })),
    memAvailableMiB: z.number().nullable(), memPressurePct: z.number().nullable(), cpuMHz: z.string().nullable(),
    leftovers: z.array(z.string()),
  }).optional(),
  /** Path of the raw output, relative to the run folder. */
  raw: z.string().nullable(),
  error: z
    .object({
      message: z.string(),
      exitCode: z.number().int().nullable(),
      signal: z.string().nullable(),
      timedOut: z.boolean(),
      stderrTail: z.string(),
    })
    .nullable(),
});

export type TrialRecord = z.infer<typeof trialRecordSchema>;

export { RecordError } from "../lib/errors.ts";

// Reading is the report's hot path (100,000 records): the zod schema stays the one definition, compiled
// to a JSON-Schema validator (3x faster here); zod runs only on a failure, for its precise message.
const isTrialRecord = new Ajv({ allowUnionTypes: true }).compile<TrialRecord>(z.toJSONSchema(trialRecordSchema, { target: "draft-07" }));

/** Why one line is not a trial record (no file or line in it), or the record. */
function checkRecord(line: string): TrialRecord | string {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (e) {
    return `not valid JSON (${(e as Error).message})`;
  }
  const schema = (json as { schema?: unknown } | null)?.schema;
  if (schema !== TRIAL_SCHEMA) return `unknown schema ${JSON.stringify(schema)}; this virtperf reads "${TRIAL_SCHEMA}"`;
  if (!isTrialRecord(json)) {
    const first = trialRecordSchema.safeParse(json).error?.issues[0];
    return first ? `field "${first.path.join(".")}": ${first.message}` : "not a trial record";
  }
  if (json.status === "ok" && json.cases.every((c) => c.metrics.length === 0)) return `status "ok" but no metrics`;
  return json;
}

/** Parses and checks one line of trials.jsonl; the error names the file and line. */
export function parseRecord(line: string, where: { file: string; line: number }): TrialRecord {
  const r = checkRecord(line);
  if (typeof r === "string") throw new RecordError(`${printable(where.file)}:${where.line}: ${printable(r)}`);
  return r;
}

// ---- The one reader of trials.jsonl (resume in stacks/results.ts, the report in analysis/load.ts). ----

/** A record and where it came from (for messages). */
export interface LocatedRecord {
  readonly record: TrialRecord;
  readonly file: string;
  readonly line: number;
}

/** A line (or a whole file) that was left out, and why; `line` is 0 for the whole file. */
export interface SkippedLine {
  readonly file: string;
  readonly line: number;
  readonly reason: string;
}

export interface TrialsRead {
  /** Every record of the file, in file order (all attempts: see `dedupeTrials`). */
  readonly records: LocatedRecord[];
  /** Torn or bad lines, and files that could not be read: never fatal, for the caller to warn about. */
  readonly skipped: SkippedLine[];
}

/** Longest text kept of a bad line's reason (JSON.parse quotes the line). */
const REASON_MAX = 200;

/**
 * Control characters (ANSI escapes, CR, NUL, C1) of untrusted text made visible (`\x1b`), so a bad file
 * cannot move the cursor or recolour the terminal when a message echoes it; tabs and newlines too.
 */
export function printable(text: string, max = Infinity): string {
  // eslint-disable-next-line no-control-regex
  const s = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16).padStart(4, "0")}` : `\\x${code.toString(16).padStart(2, "0")}`;
  });
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

/** Parses the lines of a trials.jsonl text; blank lines are ignored, bad ones skipped and listed. Never throws. */
export function parseTrialsText(text: string, file: string): TrialsRead {
  const records: LocatedRecord[] = [];
  const skipped: SkippedLine[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") continue;
    const r = checkRecord(line);
    if (typeof r === "string") skipped.push({ file, line: i + 1, reason: printable(r, REASON_MAX) });
    else records.push({ record: r, file, line: i + 1 });
  }
  return { records, skipped };
}

/**
 * Why `path` must not be opened as a trials file (a directory, FIFO, socket or device: opening a FIFO
 * blocks until a writer comes), or undefined for a regular file. The type is checked before any open.
 */
export function notARegularFile(path: string): string | undefined {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : `cannot read it (${(e as Error).message})`;
  }
  if (st.isFile()) return undefined;
  const kind = st.isDirectory() ? "a directory" : st.isFIFO() ? "a FIFO (named pipe)" : st.isSocket() ? "a socket" : st.isCharacterDevice() || st.isBlockDevice() ? "a device" : "not a regular file";
  return `is ${kind}, not a regular file`;
}

/**
 * Reads one trials.jsonl; a missing file is an empty run (a run that has not started). Anything else that
 * is not a readable regular file is skipped whole (line 0) with the reason. Never throws.
 */
export function readTrialsFile(path: string): TrialsRead {
  if (!existsSync(path)) return { records: [], skipped: [] };
  const why = notARegularFile(path);
  if (why) return { records: [], skipped: [{ file: path, line: 0, reason: why }] };
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    return { records: [], skipped: [{ file: path, line: 0, reason: `cannot read it (${printable((e as Error).message, REASON_MAX)})` }] };
  }
  return parseTrialsText(text, path);
}

/** The trial a record belongs to: a resumed run can append the same trial's record twice. */
export function trialKey(r: TrialRecord): string {
  return [r.stack, r.run, r.order, r.environment, r.workload, r.rep, r.warmup].join("\u0000");
}

export interface Deduped {
  /** One record per trial, chosen by `preferred` (file order kept). */
  readonly records: LocatedRecord[];
  /** Further copies of an attempt already counted (the same trial and start time), by file:line. */
  readonly duplicates: SkippedLine[];
  /** Ok records of a trial replaced by another of its attempts (a clean retry of a flagged one, a later one). */
  readonly superseded: readonly { readonly record: LocatedRecord; readonly by: LocatedRecord }[];
  /** Failed attempts of trials that were attempted again (retried, so not counted as failed trials twice). */
  readonly retried: number;
}

/** Ok on a quiet host (2), ok on a busy host (1: its contamination check flagged it), failed (0). */
function quality(r: TrialRecord): number {
  return r.status !== "ok" ? 0 : r.contamination?.flagged ? 1 : 2;
}

/**
 * Whether attempt `b` of a trial is used rather than `a`: ok and clean first, then ok, then the later
 * attempt (by start time; by file order when a time does not parse). Two copies of one attempt (the same
 * start time) count once: the first copy.
 */
function preferred(a: TrialRecord, b: TrialRecord): boolean {
  const qa = quality(a), qb = quality(b);
  if (qa !== qb) return qb > qa;
  if (a.startedAt === b.startedAt) return false;
  const ta = Date.parse(a.startedAt), tb = Date.parse(b.startedAt);
  return Number.isFinite(ta) && Number.isFinite(tb) ? tb > ta : true;
}

/**
 * One record per trial (same stack, run, order, environment, workload, rep, warm-up), for statistics:
 * a trial counts once however often it was attempted or its record appended; which record is the
 * `preferred` one. File order is kept.
 */
export function dedupeTrials(records: readonly LocatedRecord[]): Deduped {
  const chosen = new Map<string, LocatedRecord>();
  const duplicates: SkippedLine[] = [];
  const superseded: LocatedRecord[] = [];
  let retried = 0;
  for (const r of records) {
    const k = trialKey(r.record);
    const had = chosen.get(k);
    if (!had) { chosen.set(k, r); continue; }
    const [winner, loser] = preferred(had.record, r.record) ? [r, had] : [had, r];
    chosen.set(k, winner);
    if (loser.record.status !== "ok") retried++;
    else if (loser.record.startedAt === winner.record.startedAt) duplicates.push({ file: loser.file, line: loser.line, reason: `the same trial as ${printable(winner.file)}:${winner.line}, counted once` });
    else superseded.push(loser);
  }
  const keep = new Set(chosen.values());
  // `by` is the trial's final choice (of three attempts, the second may have replaced the first and lost to the third).
  return { records: records.filter((r) => keep.has(r)), duplicates, superseded: superseded.map((record) => ({ record, by: chosen.get(trialKey(record.record))! })), retried };
}
