/**
 * What each environment really got, as far as the run's facts files and records tell: CPU set, memory,
 * network mode, storage, acceleration (and why), kernel, CPU model, what the trial shells ran with
 * (facts-context.ts) and the tool binaries. Facts files are free-form (our own summaries, `docker
 * inspect`, libvirt domain XML) and read defensively: a fact that cannot be found is "unknown", never
 * guessed, and a malformed file never throws.
 */
import type { LocatedRecord, RunFacts } from "./load.ts";
import { dockerAspects, nativeAspects } from "./facts-host.ts";
import { kvmAspects } from "./facts-kvm.ts";
import { podmanAspects } from "./facts-podman.ts";
import { kvmDockerAspects } from "./facts-kvm-docker.ts";
import { gvisorAspects } from "./facts-gvisor.ts";
import { KIND_NAMES, type KindName } from "../model/kinds.ts";
import { parseFacts, type NativeFacts } from "../model/facts.ts";
import { str } from "./facts-json.ts";
import { contextAspects, toolsAspect } from "./facts-context.ts";
import { tcgReasonText } from "./format.ts";

export type AspectKey = "isolation" | "cpuset" | "memory" | "network" | "storage" | "acceleration" | "kernel" | "cpuModel"
  | "processEnv" | "limits" | "nice" | "cpusAllowed" | "shm" | "thp" | "blas" | "tools";

export const ASPECT_LABELS: Record<AspectKey, string> = {
  isolation: "isolation (what runs the workload)",
  cpuset: "CPU set",
  memory: "memory",
  network: "network",
  storage: "storage",
  acceleration: "acceleration",
  kernel: "kernel",
  cpuModel: "CPU model",
  processEnv: "process environment (trial shell)",
  limits: "limits (ulimit, trial shell)",
  nice: "niceness (trial shell)",
  cpusAllowed: "CPUs allowed (trial shell)",
  shm: "/dev/shm size",
  thp: "transparent hugepages",
  blas: "BLAS kernel (OpenBLAS core)",
  tools: "tool binaries (version, sha256)",
};

export type Aspects = Partial<Record<AspectKey, string>>;

/**
 * Keys searched (case-insensitively, breadth-first) in facts of a format no kind reader knows (plain or
 * older summaries), in order of preference. The formats our stacks write are read field by field in
 * facts-host.ts (native, Docker) and facts-kvm.ts (guest and domain XML), which win over these.
 */
const KEYS = {
  cpuset: ["cpusAllowed", "cpusetCpus", "cpuset"],
  network: ["networkMode", "network"],
  storage: ["storage", "dataFs"],
  acceleration: ["acceleration"],
  kernel: ["guestKernel", "kernel", "kernelRelease", "kernelVersion"],
  cpuModel: ["guestCpuModel", "cpuModel", "modelName"],
} as const;

type Json = unknown;

/** First primitive value under one of `keys`, searching breadth-first to `maxDepth`. */
export function findFact(obj: Json, keys: readonly string[], maxDepth = 4): string | number | boolean | undefined {
  const wanted = keys.map((k) => k.toLowerCase());
  let level: Json[] = [obj];
  for (let depth = 0; depth <= maxDepth && level.length > 0; depth++) {
    const next: Json[] = [];
    for (const node of level) {
      if (node === null || typeof node !== "object") continue;
      const entries = Array.isArray(node) ? node.map((v, i) => [String(i), v] as const) : Object.entries(node as Record<string, Json>);
      for (const want of wanted) {
        const hit = entries.find(([k, v]) => k.toLowerCase() === want && isPrimitive(v) && v !== "");
        if (hit) return hit[1] as string | number | boolean;
      }
      for (const [, v] of entries) if (v !== null && typeof v === "object") next.push(v);
    }
    level = next;
  }
  return undefined;
}

function isPrimitive(v: Json): v is string | number | boolean {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}

/** Plain summaries (older or hand-written facts): the first value found under one of the KEYS. */
function summaryAspects(facts: Json): Aspects {
  const out: Aspects = {};
  for (const key of Object.keys(KEYS) as (keyof typeof KEYS)[]) {
    const v = findFact(facts, KEYS[key]);
    if (v !== undefined) out[key] = String(v);
  }
  const memory = findFact(facts, ["memoryMiB", "memory_mib"]);
  if (typeof memory === "number") out.memory = `${memory} MiB`;
  return out;
}

/** Each kind's reader of its facts (model/facts.ts schemas): a kind without one does not compile. */
const KIND_ASPECTS: { readonly [K in KindName]: (facts: FactsOf<K>, host: NativeFacts | undefined) => Aspects } = {
  // Native has no file of its own: its limits are probed (through the trial wrapper) into host.json.
  native: (facts) => nativeAspects(facts),
  docker: (facts, host) => dockerAspects(facts, host),
  kvm: (facts) => kvmAspects(facts),
  podman: (facts, host) => podmanAspects(facts, host),
  "kvm-docker": (facts) => kvmDockerAspects(facts),
  gvisor: (facts, host) => gvisorAspects(facts, host),
};
type FactsOf<K extends KindName> = NonNullable<ReturnType<typeof parseFacts<K>>["facts"]>;

function readKind<K extends KindName>(kind: K, envFacts: Json, host: NativeFacts | undefined): Aspects {
  const { facts } = parseFacts(kind, envFacts);
  return facts ? KIND_ASPECTS[kind](facts as FactsOf<K>, host) : {};
}

/** What the facts file of one environment says: read with its kind's schema; a file of another format by its keys. */
function factsAspects(kind: string | undefined, envFacts: Json, host: Json): Aspects {
  const summary = summaryAspects(envFacts);
  if (!(KIND_NAMES as readonly string[]).includes(kind ?? "")) return summary;
  return { ...summary, ...readKind(kind as KindName, envFacts, parseFacts("native", host).facts) };
}

const ACCELERATION_TEXT: Record<string, string> = { none: "none (host CPU)", kvm: "KVM", tcg: "QEMU TCG: software emulation, not KVM" };

/**
 * Why an environment ran with its acceleration: its records' `accelerationReason` ("; "-joined when
 * they differ), else its facts file's; null when neither says.
 */
export function accelerationReasonOf(environment: string, facts: RunFacts | undefined, records: readonly LocatedRecord[]): string | null {
  const own = [...new Set(records.filter((r) => r.record.environment === environment && r.record.accelerationReason).map((r) => r.record.accelerationReason!))];
  if (own.length > 0) return own.join("; ");
  const f = facts?.environments.get(environment);
  return str((f as { accelerationReason?: unknown } | null | undefined)?.accelerationReason) ?? null;
}

/** The acceleration aspect: TCG with the reason; KVM said proven when the proof passed (its timings would differ per guest). */
function accelerationText(accel: string, reason: string | null): string {
  const text = ACCELERATION_TEXT[accel] ?? accel;
  if (accel === "tcg") return `${text} (${tcgReasonText(reason)})`;
  if (accel === "kvm" && reason?.startsWith("KVM proven")) return `${text} (proven: a guest kernel booted under it)`;
  return text;
}

/** Aspects of one environment of one run: its facts file first, then what the records themselves say. */
export function environmentAspects(environment: string, facts: RunFacts | undefined, records: readonly LocatedRecord[]): Aspects {
  const mine = records.filter((r) => r.record.environment === environment);
  const own = facts?.environments.get(environment);
  // The records name the kind; a facts file names its own ("kind" field) when there is no record.
  const kind = mine[0]?.record.kind ?? (typeof (own as { kind?: unknown } | null)?.kind === "string" ? (own as { kind: string }).kind : undefined);
  const envFacts = own ?? (kind === "native" ? facts?.host : undefined);
  const out = envFacts === undefined || envFacts === null ? {} : factsAspects(kind, envFacts, facts?.host);
  // The records say how each trial really ran: they win over the facts for acceleration.
  const accel = [...new Set(mine.map((r) => r.record.acceleration))];
  const reason = accelerationReasonOf(environment, facts, mine);
  if (accel.length > 0) out.acceleration = accel.map((a) => accelerationText(a, reason)).join(" + ");
  else if (out.acceleration === "tcg") out.acceleration = accelerationText("tcg", reason);
  Object.assign(out, contextAspects(mine));
  const tools = toolsAspect(mine);
  if (tools) out.tools = tools;
  return out;
}

export interface AspectValues {
  readonly key: AspectKey;
  readonly values: ReadonlyMap<string, string>;
}

/**
 * Every aspect, split into those whose values differ between the given environments and those that
 * are the same in all ("unknown" where a fact is missing; an aspect unknown everywhere is left out).
 */
export function compareAspects(byEnvironment: ReadonlyMap<string, Aspects>): { differing: AspectValues[]; same: AspectValues[] } {
  const differing: AspectValues[] = [];
  const same: AspectValues[] = [];
  for (const key of Object.keys(ASPECT_LABELS) as AspectKey[]) {
    const values = new Map<string, string>();
    for (const [env, aspects] of byEnvironment) values.set(env, aspects[key] ?? "unknown");
    const distinct = new Set(values.values());
    if (distinct.size > 1) differing.push({ key, values });
    else if (distinct.size === 1 && !distinct.has("unknown")) same.push({ key, values });
  }
  return { differing, same };
}
