/**
 * The trial record, schema `virtperf.trial/1` (DESIGN.md): one JSON object per line of trials.jsonl.
 * Writers build it with `makeRecord`; readers check it with `parseRecord`.
 */
import { z } from "zod";
import { Ajv } from "ajv";
import { WORKLOAD_IDS, PROFILES } from "./contract.ts";
import { RecordError } from "../lib/errors.ts";

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
  kind: z.enum(["native", "docker", "kvm"]),
  /** "kvm", "tcg" for guests; "none" for native and Docker. A TCG guest's numbers are never KVM numbers. */
  acceleration: z.enum(["none", "kvm", "tcg"]),
  /** A/A calibration: the environment this one is an identical copy of (the report's noise floor). */
  calibrationOf: z.string().optional(),
  /** For guests: why this acceleration (KVM proven, TCG requested, or the KVM check that failed). */
  accelerationReason: z.string().optional(),
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

/** Parses and checks one line of trials.jsonl; the error names the file and line. */
export function parseRecord(line: string, where: { file: string; line: number }): TrialRecord {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (e) {
    throw new RecordError(`${where.file}:${where.line}: not valid JSON (${(e as Error).message})`);
  }
  const schema = (json as { schema?: unknown } | null)?.schema;
  if (schema !== TRIAL_SCHEMA) {
    throw new RecordError(`${where.file}:${where.line}: unknown schema ${JSON.stringify(schema)}; this virtperf reads "${TRIAL_SCHEMA}"`);
  }
  if (!isTrialRecord(json)) {
    const r = trialRecordSchema.safeParse(json);
    const first = r.error?.issues[0];
    throw new RecordError(`${where.file}:${where.line}: ${first ? `field "${first.path.join(".")}": ${first.message}` : "not a trial record"}`);
  }
  if (json.status === "ok" && json.cases.every((c) => c.metrics.length === 0)) {
    throw new RecordError(`${where.file}:${where.line}: status "ok" but no metrics`);
  }
  return json;
}
