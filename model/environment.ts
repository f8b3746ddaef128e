/**
 * The environment description: everything `virtperf trial` needs to know about the environment a trial
 * runs in, as ONE JSON document (`--environment`). The planner writes it from the environment's plan;
 * the runner reads it as it is, with no defaults of its own. Checked field by field before anything
 * connects (no zod: a trial starts hundreds of times a run and loads only what it needs).
 */
import { ACCELERATIONS, GUEST_KINDS, KIND_NAMES, type GuestAcceleration, type KindName } from "./kinds.ts";
import type { TargetSpec } from "./target.ts";
import { targetProblem } from "./target-check.ts";
import { nameProblem, pathProblem, portProblem } from "../lib/validate.ts";

export interface EnvironmentDescription {
  readonly name: string;
  readonly kind: KindName;
  /** A/A calibration: the environment this one is an identical copy of. */
  readonly calibrationOf?: string;
  /** Other environments of the stack the report also compares this one with (beside native). */
  readonly references?: readonly string[];
  /** "none" but for guests: "kvm" or "tcg". */
  readonly acceleration: GuestAcceleration;
  /** For guests: why this acceleration (KVM proven, TCG requested, or the KVM check that failed). */
  readonly accelerationReason?: string;
  /** What isolates it beyond its kind, one label (gVisor: "runsc ptrace, host network passthrough"), and why. */
  readonly isolation?: string;
  readonly isolationReason?: string;
  /** How the runner reaches the environment. */
  readonly target: TargetSpec;
  /** Where network clients run: the host under test (this machine, or its SSH host), or a second machine. */
  readonly client: TargetSpec;
  /** The host the environments live on, where the contamination snapshots are taken. */
  readonly host: TargetSpec;
  /** Fixed server ports (published 1:1 for Docker bridge networks); empty: the runner picks free ones. */
  readonly ports: readonly number[];
  /** Where workloads put their data inside the environment (on the I/O path under test). */
  readonly dataDir: string;
  /** Where trial work directories go inside the environment. */
  readonly workRoot: string;
  /** CPUs and memory (MiB) the environment has: what the profiles size to. */
  readonly shape: { readonly cpus: number; readonly memoryMiB: number };
}

/** A field's check: undefined when fine, else what is wrong ("must be ...", "is not ..."). */
type Field = (v: unknown) => string | undefined;
const must = (problem: string | undefined) => (problem === undefined ? undefined : `must be ${problem}`);
const isPositiveInt = (v: unknown) => Number.isInteger(v) && (v as number) >= 1;
const oneOf = (values: readonly string[]): Field => (v) => (typeof v === "string" && values.includes(v) ? undefined : `must be one of ${values.join(", ")}`);
const text: Field = (v) => (typeof v === "string" && !/[\0-\x1f\x7f]/.test(v) ? undefined : "must be a line of text");
const target: Field = (v) => { const p = targetProblem(v); return p === undefined ? undefined : `is not a usable target: ${p}`; };
const ports: Field = (v) => (Array.isArray(v) && v.every((p) => portProblem(p) === undefined) ? undefined : "must be a list of ports 1..65535");
const path: Field = (v) => must(pathProblem(v));
const shape: Field = (v) => {
  const s = v as { cpus?: unknown; memoryMiB?: unknown } | null;
  if (!s || typeof s !== "object" || Array.isArray(s)) return "must be {cpus, memoryMiB}";
  if (!isPositiveInt(s.cpus)) return `must have cpus, a whole number >= 1 (got ${JSON.stringify(s.cpus)})`;
  return isPositiveInt(s.memoryMiB) ? undefined : `must have memoryMiB, a whole number >= 1 (got ${JSON.stringify(s.memoryMiB)})`;
};

const FIELDS: Record<keyof EnvironmentDescription, { check: Field; optional?: boolean }> = {
  name: { check: (v) => must(nameProblem(v)) }, kind: { check: oneOf(KIND_NAMES) }, calibrationOf: { check: (v) => must(nameProblem(v)), optional: true },
  references: { check: (v) => (Array.isArray(v) && v.every((n) => nameProblem(n) === undefined) ? undefined : "must be a list of environment names"), optional: true },
  acceleration: { check: oneOf(ACCELERATIONS) }, accelerationReason: { check: text, optional: true },
  isolation: { check: text, optional: true }, isolationReason: { check: text, optional: true },
  target: { check: target }, client: { check: target }, host: { check: target },
  ports: { check: ports }, dataDir: { check: path }, workRoot: { check: path }, shape: { check: shape },
};

/** undefined when `value` is a usable description, else one line: the field, what is wrong, what is allowed. */
export function environmentProblem(value: unknown): string | undefined {
  if (!value || typeof value !== "object" || Array.isArray(value)) return "must be a JSON object";
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(k in FIELDS)) return `unknown field "${k}"; fields: ${Object.keys(FIELDS).join(", ")}`;
  for (const [k, f] of Object.entries(FIELDS)) {
    if (o[k] === undefined) {
      if (!f.optional) return `"${k}" is required`;
      continue;
    }
    const p = f.check(o[k]);
    if (p) return `"${k}" ${p}`;
  }
  if (GUEST_KINDS.includes(o.kind as KindName) && o.acceleration === "none") return `a ${String(o.kind)} environment runs with acceleration kvm or tcg, not none`;
  return undefined;
}
