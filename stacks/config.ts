/**
 * Stack config (namespace `virtperf:`) -> a typed, validated Experiment (DESIGN.md, Data flow 1).
 * Pure: the caller hands in the raw values (index.ts from pulumi.Config, e2e from the stack YAML) and
 * the host's facts. Every error is a ConfigError naming the key, the value and what is allowed, thrown
 * before any resource exists. The keys are documented in Pulumi.yaml (`config:`).
 */
import { z } from "zod";
import { ConfigError } from "../lib/errors.ts";
import { PROFILES, WORKLOAD_IDS, type ProfileName, type WorkloadId } from "../workloads/contract.ts";
import { PRESETS, PRESET_NAMES, type EnvironmentDef, type EnvironmentOptions } from "./environments.ts";
import type { Acceleration, ClientConfig, Experiment, HostAddress, HostConfig } from "./experiment.ts";

export const NAMESPACE = "virtperf";

/** Every key the program reads; anything else under `virtperf:` is refused (a typo would silently do nothing). */
export const CONFIG_KEYS = [
  "host", "cpuset", "memoryMiB", "scratchDir", "ioDir", "environments", "client", "acceleration",
  "workloads", "profile", "repetitions", "seed", "debianSuite", "dockerBaseImage", "guestImage", "resultsRoot",
] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

export interface HostFacts {
  /** Online CPU numbers of the host. */
  readonly cpus: readonly number[];
  /** Total memory of the host, MiB. */
  readonly memoryMiB: number;
}

export const DEFAULTS = {
  scratchDir: "/var/lib/virtperf",
  environments: PRESET_NAMES,
  acceleration: "auto" as Acceleration,
  profile: "quick" as ProfileName,
  repetitions: 6,
  seed: 1,
  debianSuite: "bookworm",
  resultsRoot: "results",
  /** Default memory per environment: 2 GiB, or half the host when that is less. */
  memoryMiB: (host: HostFacts) => Math.min(2048, Math.floor(host.memoryMiB / 2)),
};

const NAME_RE = /^[a-z][a-z0-9-]{0,30}$/;

function fail(key: string, value: unknown, what: string, allowed?: string): never {
  const shown = typeof value === "string" ? `"${value}"` : JSON.stringify(value);
  throw new ConfigError(`${NAMESPACE}:${key}`, `${NAMESPACE}:${key} = ${shown}: ${what}${allowed ? `; allowed: ${allowed}` : ""}`);
}

/** Runs a zod schema on one key's value; the first issue becomes the ConfigError. */
function check<T>(key: string, schema: z.ZodType<T>, value: unknown, allowed?: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const at = issue.path.length ? `${key}.${issue.path.join(".")}` : key;
  return fail(at, value, issue.message, allowed);
}

/** "0-3,6" -> [0,1,2,3,6]; throws on bad syntax. */
export function parseCpuset(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new Error(`"${part}" is not a CPU number or range`);
    const lo = Number(m[1]), hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new Error(`range "${part}" runs backwards`);
    for (let c = lo; c <= hi; c++) out.add(c);
  }
  return [...out].sort((a, b) => a - b);
}

/** [0,1,2,5] -> "0-2,5". */
export function formatCpuset(cpus: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length; ) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j]! + 1) j++;
    parts.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

const sshHost = z.object({
  host: z.string().min(1), user: z.string().min(1), port: z.number().int().min(1).max(65535).default(22),
  privateKeyFile: z.string().min(1).optional(),
  privateKey: z.string().min(1).optional(),
  hostPublicKey: z.string().min(1),
}).strict();

function parseHost(value: unknown, stack: string): HostAddress {
  if (value === undefined || value === "local") return { kind: "local" };
  const allowed = `"local", or {host, user, port?, privateKeyFile | privateKey (secret), hostPublicKey}`;
  const h = check("host", sshHost, value, allowed);
  if (!h.privateKeyFile && !h.privateKey) fail("host.privateKey", value, "an SSH host needs privateKey (secret) or privateKeyFile", allowed);
  // A secret key's text is written by the caller (index.ts, e2e) to this file, mode 600, before use.
  const privateKeyFile = h.privateKeyFile ?? `.virtperf/keys/${stack}-host`;
  return { kind: "ssh", host: h.host, user: h.user, port: h.port, privateKeyFile, hostPublicKey: h.hostPublicKey };
}

function parseCpusetKey(value: unknown, host: HostFacts): { cpuset: string; cpus: number } {
  const text = value === undefined ? formatCpuset(host.cpus) : typeof value === "number" ? String(value) : value;
  if (typeof text !== "string") return fail("cpuset", value, "expected a CPU list like \"0-1\" or \"2,4-7\"");
  let cpus: number[];
  try {
    cpus = parseCpuset(text);
  } catch (e) {
    return fail("cpuset", value, `${(e as Error).message}; expected a CPU list like "0-1" or "2,4-7"`);
  }
  const missing = cpus.filter((c) => !host.cpus.includes(c));
  if (missing.length) fail("cpuset", text, `CPU ${missing.join(", ")} not on this host`, `the host's CPUs ${formatCpuset(host.cpus)}`);
  return { cpuset: formatCpuset(cpus), cpus: cpus.length };
}

function parseMemory(value: unknown, host: HostFacts): number {
  const mib = check("memoryMiB", z.coerce.number().int().min(256), value ?? DEFAULTS.memoryMiB(host), "a whole number of MiB >= 256");
  if (mib > host.memoryMiB) fail("memoryMiB", mib, `more than the host's ${host.memoryMiB} MiB`, `256..${host.memoryMiB}`);
  return mib;
}

const dockerOptions = z.object({ network: z.enum(["bridge", "host"]), storage: z.enum(["overlay", "volume"]) }).partial();
const kvmOptions = z.object({
  cpuModel: z.enum(["generic", "host-passthrough"]), topology: z.boolean(), pinning: z.boolean(),
  hugepages: z.boolean(), diskFormat: z.enum(["qcow2", "raw"]), diskCache: z.enum(["default", "none"]),
  multiqueue: z.boolean(),
}).partial();
const KIND_BASE = { native: "native", docker: "docker", kvm: "kvm" } as const;

/** One environment: a preset name, or {name, preset?, kind?, ...options} built on a preset. */
function parseEnvironment(item: unknown, i: number): EnvironmentDef {
  const key = `environments[${i}]`;
  const presets = PRESET_NAMES.join(", ");
  if (typeof item === "string") {
    if (!(item in PRESETS)) fail(key, item, "unknown preset", presets);
    return { name: item, options: PRESETS[item as keyof typeof PRESETS] };
  }
  const head = check(key, z.looseObject({
    name: z.string().regex(NAME_RE, "a name is lowercase letters, digits and '-', starting with a letter, at most 31 chars"),
    preset: z.enum(PRESET_NAMES).optional(),
    kind: z.enum(["native", "docker", "kvm"]).optional(),
  }), item, `a preset (${presets}) or {name, preset?, kind?, ...options}`);
  if (!head.preset && !head.kind) fail(`${key}.preset`, item, "a custom environment needs a preset or a kind to start from", presets);
  const base: EnvironmentOptions = PRESETS[head.preset ?? KIND_BASE[head.kind!]];
  if (head.kind && head.kind !== base.kind) fail(`${key}.kind`, head.kind, `preset "${head.preset}" is of kind ${base.kind}`);
  const { name: _n, preset: _p, kind: _k, ...rest } = head;
  const schema = base.kind === "docker" ? dockerOptions.strict() : base.kind === "kvm" ? kvmOptions.strict() : z.object({}).strict();
  const overrides = check(key, schema as z.ZodType<Record<string, unknown>>, rest, `options of kind ${base.kind}: ${Object.keys(schema.shape).join(", ") || "(none)"}`);
  return { name: head.name, options: { ...base, ...overrides } as EnvironmentOptions };
}

function parseEnvironments(value: unknown): EnvironmentDef[] {
  const list = check("environments", z.array(z.unknown()).min(1), value ?? DEFAULTS.environments, `a list of presets (${PRESET_NAMES.join(", ")}) or custom environments`);
  const defs = list.map(parseEnvironment);
  const seen = new Set<string>();
  defs.forEach((d, i) => {
    if (seen.has(d.name)) fail(`environments[${i}].name`, d.name, "duplicate environment name");
    seen.add(d.name);
  });
  return defs;
}

const sshClient = z.object({
  host: z.string().min(1), user: z.string().min(1), port: z.number().int().min(1).max(65535).optional(),
  identityFile: z.string().optional(), knownHostsFile: z.string().optional(), jump: z.string().optional(),
}).strict();

function parseClient(value: unknown): ClientConfig {
  if (value === undefined || value === "host") return { kind: "host" };
  const t = check("client", sshClient, value, `"host", or a second machine {host, user, port?, identityFile?, knownHostsFile?, jump?}`);
  return { kind: "ssh", target: { kind: "ssh", ...t } };
}

function parseWorkloads(value: unknown): WorkloadId[] {
  const list = check("workloads", z.array(z.string()).min(1), value ?? [...WORKLOAD_IDS], `a list of: ${WORKLOAD_IDS.join(", ")}`);
  list.forEach((w, i) => {
    if (!(WORKLOAD_IDS as readonly string[]).includes(w)) fail(`workloads[${i}]`, w, "unknown workload", WORKLOAD_IDS.join(", "));
    if (list.indexOf(w) !== i) fail(`workloads[${i}]`, w, "listed twice");
  });
  return list as WorkloadId[];
}

const str = (key: string, value: unknown, dflt: string) => check(key, z.string().min(1), value ?? dflt, "a non-empty string");

/**
 * Validates a stack's `virtperf:` config (keys without the namespace) against the host's facts.
 * Throws ConfigError on the first problem.
 */
export function parseExperiment(raw: Record<string, unknown>, stack: string, hostFacts: HostFacts): Experiment {
  for (const k of Object.keys(raw)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(k)) fail(k, raw[k], "unknown key", CONFIG_KEYS.map((c) => `${NAMESPACE}:${c}`).join(", "));
  }
  if (!NAME_RE.test(stack)) throw new ConfigError("stack", `stack name "${stack}" is not usable in container and domain names`, { suggestions: ["lowercase letters, digits and '-', starting with a letter"] });
  const scratchDir = str("scratchDir", raw.scratchDir, DEFAULTS.scratchDir);
  const host: HostConfig = {
    address: parseHost(raw.host, stack),
    ...parseCpusetKey(raw.cpuset, hostFacts),
    memoryMiB: parseMemory(raw.memoryMiB, hostFacts),
    scratchDir,
    ioDir: str("ioDir", raw.ioDir, `${scratchDir}/io`),
  };
  const debianSuite = check("debianSuite", z.string().regex(/^[a-z]+$/, "a Debian suite name like bookworm"), raw.debianSuite ?? DEFAULTS.debianSuite);
  const guestImage = raw.guestImage === undefined ? undefined : str("guestImage", raw.guestImage, "");
  return {
    stack, host,
    environments: parseEnvironments(raw.environments),
    client: parseClient(raw.client),
    acceleration: check("acceleration", z.enum(["auto", "kvm", "tcg"]), raw.acceleration ?? DEFAULTS.acceleration, "auto, kvm, tcg"),
    workloads: parseWorkloads(raw.workloads),
    profile: check("profile", z.enum(PROFILES), raw.profile ?? DEFAULTS.profile, PROFILES.join(", ")),
    repetitions: check("repetitions", z.coerce.number().int().min(1).max(1000), raw.repetitions ?? DEFAULTS.repetitions, "a whole number 1..1000"),
    seed: check("seed", z.coerce.number().int().min(0).max(2 ** 32 - 1), raw.seed ?? DEFAULTS.seed, "a whole number 0..4294967295"),
    debianSuite,
    dockerBaseImage: str("dockerBaseImage", raw.dockerBaseImage, `debian:${debianSuite}`),
    ...(guestImage ? { guestImage } : {}),
    resultsRoot: str("resultsRoot", raw.resultsRoot, DEFAULTS.resultsRoot),
  };
}

/** Pulumi/YAML config values arrive as strings (pulumi.Config) or parsed YAML: accept JSON text for structured keys. */
export function decodeConfigValue(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const t = value.trim();
  if (/^[[{]/.test(t) || /^-?\d+$/.test(t) || t === "true" || t === "false") {
    try { return JSON.parse(t); } catch { return value; }
  }
  return value;
}

/** Keeps the `virtperf:` keys of a full config map (as in Pulumi.<stack>.yaml), without the namespace. */
export function namespaceKeys(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k.startsWith(`${NAMESPACE}:`)) out[k.slice(NAMESPACE.length + 1)] = decodeConfigValue(v);
  }
  return out;
}
