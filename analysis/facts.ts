/**
 * What each environment really got, as far as the run's facts files and records tell: CPU set, memory,
 * network mode, storage, acceleration, kernel, CPU model, tool versions. Facts files are free-form
 * (our own summaries, `docker inspect`, libvirt domain XML), so they are searched defensively: a fact
 * that cannot be found is "unknown", never guessed.
 */
import type { LocatedRecord, RunFacts } from "./load.ts";

export type AspectKey = "cpuset" | "memory" | "network" | "storage" | "acceleration" | "kernel" | "cpuModel" | "tools";

export const ASPECT_LABELS: Record<AspectKey, string> = {
  cpuset: "CPU set",
  memory: "memory",
  network: "network",
  storage: "storage",
  acceleration: "acceleration",
  kernel: "kernel",
  cpuModel: "CPU model",
  tools: "tool versions",
};

export type Aspects = Partial<Record<AspectKey, string>>;

/**
 * Keys searched (case-insensitively, breadth-first) in an environment's facts, in order of preference.
 * They cover the facts our stacks write (stacks/*-spec.ts: native's limits probe, `docker inspect`
 * fields, the guest's own view and its domain XML) and plain summaries (cpuset, network, storage...).
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

function mib(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MiB`;
}

/** Memory the environment really got: a cgroup limit seen inside, docker's limit, the guest's total, or a summary. */
function memoryFact(facts: Json, xml: string | undefined): string | undefined {
  const limit = findFact(facts, ["memoryLimit"]);
  if (limit === "max" || limit === "9223372036854771712") return "unlimited";
  if (limit !== undefined && /^\d+$/.test(String(limit))) return mib(Number(limit));
  const bytes = findFact(facts, ["memoryBytes"]);
  if (typeof bytes === "number") return bytes === 0 ? "unlimited" : mib(bytes);
  const guestKiB = findFact(facts, ["guestMemTotalKiB", "memTotalKiB"]);
  if (typeof guestKiB === "number") return `${Math.round(guestKiB / 1024)} MiB (guest total)`;
  const summary = findFact(facts, ["memoryMiB", "memory_mib"]);
  if (typeof summary === "number") return `${summary} MiB`;
  const m = xml?.match(/<memory(?:\s+unit=['"](\w+)['"])?\s*>(\d+)<\/memory>/);
  if (m) return `${Math.round(Number(m[2]) / (m[1] === "MiB" ? 1 : m[1] === "GiB" ? 1 / 1024 : 1024))} MiB`;
  return undefined;
}

/** The first libvirt domain XML found among the facts' string values. */
function findDomainXml(obj: Json, depth = 0): string | undefined {
  if (typeof obj === "string") return obj.includes("<domain") ? obj : undefined;
  if (obj === null || typeof obj !== "object" || depth > 4) return undefined;
  for (const v of Object.values(obj as Record<string, Json>)) {
    const found = findDomainXml(v, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Facts read from a domain XML when the summary lacks them. */
function xmlAspects(xml: string): Aspects {
  const out: Aspects = {};
  const cpuset = xml.match(/<vcpu[^>]*cpuset=['"]([^'"]+)['"]/);
  if (cpuset) out.cpuset = cpuset[1]!;
  const type = xml.match(/<domain[^>]*type=['"](\w+)['"]/);
  if (type) out.acceleration = type[1] === "qemu" ? "tcg" : type[1]!;
  const cpu = xml.match(/<cpu[^>]*mode=['"]([\w-]+)['"]/);
  if (cpu) out.cpuModel = `libvirt mode ${cpu[1]!}`;
  const driver = xml.match(/<driver[^>]*type=['"](\w+)['"][^>]*/);
  if (driver) out.storage = driver[0].includes("cache=") ? `${driver[1]} cache=${driver[0].match(/cache=['"](\w+)/)?.[1]}` : driver[1]!;
  const iface = xml.match(/<interface[^>]*type=['"](\w+)['"]/);
  if (iface) out.network = iface[1]!;
  return out;
}

/** Kind-specific facts a summary key would miss: Docker's volume, a guest's vCPU count. */
function kindAspects(envFacts: Json, kind: string | undefined): Aspects {
  const out: Aspects = {};
  if (kind === "native") { out.network = "host network stack"; out.storage = "host filesystem"; }
  if (kind === "docker" && envFacts && typeof envFacts === "object" && "volume" in envFacts) {
    const driver = findFact(envFacts, ["storageDriver"]);
    const fs = findFact(envFacts, ["dataFs"]);
    out.storage = `${(envFacts as { volume: unknown }).volume ? "Docker volume" : `container filesystem (${driver ?? "unknown driver"})`}${fs ? `, ${fs}` : ""}`;
  }
  return out;
}

/** Aspects of one environment of one run: facts first, then what the records themselves say. */
export function environmentAspects(environment: string, facts: RunFacts | undefined, records: readonly LocatedRecord[]): Aspects {
  const kind = records[0]?.record.kind;
  // Native's facts are in host.json (its limits are probed through the same wrapper its trials use).
  const envFacts = facts?.environments.get(environment) ?? (kind === "native" ? facts?.host : undefined);
  const xml = findDomainXml(envFacts);
  const out: Aspects = {};
  for (const key of Object.keys(KEYS) as (keyof typeof KEYS)[]) {
    const v = findFact(envFacts, KEYS[key]);
    if (v !== undefined) out[key] = String(v);
  }
  const fromXml = xml ? xmlAspects(xml) : {};
  if (fromXml.cpuModel && out.cpuModel) fromXml.cpuModel = `${out.cpuModel} (${fromXml.cpuModel})`;
  Object.assign(out, kindAspects(envFacts, kind), fromXml);
  if (xml && out.cpuset === undefined) {
    const vcpus = findFact(envFacts, ["guestVcpus", "vcpus"]);
    if (vcpus !== undefined) out.cpuset = `${vcpus} vCPUs, not pinned`;
  }
  // A container runs on the host's CPU.
  if (kind === "docker" && out.cpuModel === undefined) {
    const hostCpu = findFact(facts?.host, KEYS.cpuModel);
    if (hostCpu !== undefined) out.cpuModel = String(hostCpu);
  }
  const memory = memoryFact(envFacts, xml);
  if (memory) out.memory = memory;
  const mine = records.filter((r) => r.record.environment === environment);
  const accel = [...new Set(mine.map((r) => r.record.acceleration))];
  if (accel.length > 0) out.acceleration = accel.join("+");
  const tools = [...new Set(mine.map((r) => `${r.record.tool.name} ${r.record.tool.version}`))].sort();
  if (tools.length > 0) out.tools = tools.join(", ");
  return out;
}

/** The aspects whose values differ between the given environments ("unknown" where a fact is missing). */
export function differingAspects(byEnvironment: ReadonlyMap<string, Aspects>): { key: AspectKey; values: Map<string, string> }[] {
  const out: { key: AspectKey; values: Map<string, string> }[] = [];
  for (const key of Object.keys(ASPECT_LABELS) as AspectKey[]) {
    const values = new Map<string, string>();
    for (const [env, aspects] of byEnvironment) values.set(env, aspects[key] ?? "unknown");
    const distinct = new Set(values.values());
    if (distinct.size > 1) out.push({ key, values });
  }
  return out;
}
