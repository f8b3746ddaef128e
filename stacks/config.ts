/**
 * Stack config (namespace `virtperf:`) -> a typed, validated Experiment (DESIGN.md, Data flow 1).
 * Pure: the caller hands in the raw values (index.ts from pulumi.Config, e2e from the stack YAML) and
 * the host's facts. Every error is a ConfigError naming the key, the value and what is allowed, thrown
 * before any resource exists. The keys are documented in Pulumi.yaml (`config:`).
 */
import { z } from "zod";
import { ConfigError } from "../lib/errors.ts";
import { PROFILES, WORKLOAD_IDS, type ProfileName, type WorkloadId } from "../workloads/contract.ts";
import { KIND_NAMES } from "../model/kinds.ts";
import { formatCpuset, parseCpuset } from "../lib/cpuset.ts";

export { formatCpuset, parseCpuset } from "../lib/cpuset.ts";
import { DEFAULT_PRESET_NAMES, kindModule, PRESET_OPTIONS, PRESET_NAMES } from "./kinds.ts";
import type { Acceleration, ClientConfig, EnvironmentDef, Experiment, HostAddress, HostConfig } from "./experiment.ts";
import { defaultKeysDir, KEYS_DIR_ENV } from "./keys.ts";
import { dockerReferenceProblem, hostProblem, jumpProblem, pathProblem, publicKeyProblem, userProblem } from "../lib/validate.ts";

export const NAMESPACE = "virtperf";

/** Every key the program reads; anything else under `virtperf:` is refused (a typo would silently do nothing). */
export const CONFIG_KEYS = [
  "host", "cpuset", "memoryMiB", "scratchDir", "ioDir", "environments", "client", "acceleration",
  "workloads", "profile", "repetitions", "seed", "debianSuite", "dockerBaseImage", "guestImage", "resultsRoot", "calibration", "margins", "retryContaminated",
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
  environments: DEFAULT_PRESET_NAMES,
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

const SECRET_KEY = /^(?:privateKey|.*(?:secret|passphrase|password|token).*)$/i;

/** A value as config errors show it: secrets (by key name, or a private key's text anywhere) never appear. */
export function redact(value: unknown): unknown {
  if (typeof value === "string") return /PRIVATE KEY/.test(value) ? "[secret]" : value;
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? "[secret]" : redact(v)]));
  }
  return value;
}

function fail(key: string, value: unknown, what: string, allowed?: string): never {
  // JSON, so a newline or control character in a value is shown escaped, on the one line.
  const shown = JSON.stringify(redact(value)) ?? String(value);
  throw new ConfigError(`${NAMESPACE}:${key}`, `${NAMESPACE}:${key} = ${shown}: ${what}${allowed ? `; allowed: ${allowed}` : ""}`);
}

/** A zod string checked by one of lib/validate.ts's grammars (its message says what is allowed). */
function grammar(problem: (v: unknown) => string | undefined) {
  return z.string().superRefine((v, ctx) => {
    const p = problem(v);
    if (p) ctx.addIssue({ code: "custom", message: p });
  });
}
const absPath = () => grammar((v) => pathProblem(v));

/** Runs a zod schema on one key's value; the first issue becomes the ConfigError. */
function check<T>(key: string, schema: z.ZodType<T>, value: unknown, allowed?: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const at = issue.path.length ? `${key}.${issue.path.join(".")}` : key;
  return fail(at, value, issue.message, allowed);
}

const port = z.number().int().min(1).max(65535);
const sshHost = z.object({
  host: grammar(hostProblem), user: grammar(userProblem), port: port.default(22),
  privateKeyFile: absPath().optional(),
  privateKey: z.string().regex(/^-----BEGIN [A-Z ]*PRIVATE KEY-----\n[\s\S]+\n-----END [A-Z ]*PRIVATE KEY-----\s*$/,
    "the private key's text, from \"-----BEGIN ... PRIVATE KEY-----\" to \"-----END ... PRIVATE KEY-----\"").optional(),
  hostPublicKey: grammar(publicKeyProblem),
}).strict();

function parseHost(value: unknown, stack: string, keysDir: string): HostAddress {
  if (value === undefined || value === "local") return { kind: "local" };
  const allowed = `"local", or {host, user, port?, privateKeyFile | privateKey (secret), hostPublicKey}`;
  const h = check("host", sshHost, value, allowed);
  if (!h.privateKeyFile && !h.privateKey) fail("host.privateKey", value, "an SSH host needs privateKey (secret) or privateKeyFile", allowed);
  // Both would mean writing the secret over the user's own key file.
  if (h.privateKeyFile && h.privateKey) fail("host.privateKey", value, "set privateKey (secret) or privateKeyFile, not both", allowed);
  // A secret key's text is written by index.ts to this file (0600, in the 0700 keys directory) before use.
  const privateKeyFile = h.privateKeyFile ?? `${keysDir}/${stack}-host`;
  return {
    kind: "ssh", host: h.host, user: h.user, port: h.port, privateKeyFile, keyFromSecret: !h.privateKeyFile,
    hostPublicKey: h.hostPublicKey, knownHostsFile: `${keysDir}/${stack}-host.known_hosts`,
  };
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

/**
 * One environment: a preset name, or {name, preset?, kind?, ...options} built on a preset (a kind's
 * own preset, named as the kind, when only `kind` is given). The options are checked by the kind's
 * schema (stacks/<kind>/options.ts).
 */
function parseEnvironment(item: unknown, i: number): EnvironmentDef {
  const key = `environments[${i}]`;
  const presets = PRESET_NAMES.join(", ");
  if (typeof item === "string") {
    if (!(item in PRESET_OPTIONS)) fail(key, item, "unknown preset", presets);
    return { name: item, options: PRESET_OPTIONS[item]! };
  }
  const head = check(key, z.looseObject({
    name: z.string().regex(NAME_RE, "a name is lowercase letters, digits and '-', starting with a letter, at most 31 chars"),
    preset: z.enum(PRESET_NAMES as [string, ...string[]]).optional(),
    kind: z.enum(KIND_NAMES).optional(),
  }), item, `a preset (${presets}) or {name, preset?, kind?, ...options}`);
  if (!head.preset && !head.kind) fail(`${key}.preset`, item, "a custom environment needs a preset or a kind to start from", presets);
  const base = PRESET_OPTIONS[head.preset ?? head.kind!]!;
  if (head.kind && head.kind !== base.kind) fail(`${key}.kind`, head.kind, `preset "${head.preset}" is of kind ${base.kind}`);
  const { name: _n, preset: _p, kind: _k, ...rest } = head;
  const schema = kindModule(base.kind).optionsSchema.strict();
  const overrides = check(key, schema as z.ZodType<Record<string, unknown>>, rest, `options of kind ${base.kind}: ${Object.keys(schema.shape).join(", ") || "(none)"}`);
  return { name: head.name, options: { ...base, ...overrides } };
}

function withCalibration(defs: EnvironmentDef[], calibration: unknown): EnvironmentDef[] {
  return [...defs, ...parseCalibration(calibration, defs)];
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

const MARGIN_GROUPS = ["cpu", "memory", "network", "io", "application"] as const;

/** `margins: {cpu: 2, io: 5}`: the report's equivalence margins per workload group, percent (the report's defaults for the others). */
function parseMargins(value: unknown): Readonly<Record<string, number>> | undefined {
  if (value === undefined) return undefined;
  const allowed = `{${MARGIN_GROUPS.map((g) => `${g}?`).join(", ")}}: percent, more than 0 and at most 50`;
  return check("margins", z.partialRecord(z.enum(MARGIN_GROUPS), z.number().gt(0).max(50)), value, allowed) as Record<string, number>;
}

/** The suffix of an A/A copy's name: `native` -> `native-aa`. */
export const CALIBRATION_SUFFIX = "-aa";

/** `calibration: [native, ...]`: an identical second copy of each named environment, `<name>-aa`. */
function parseCalibration(value: unknown, defs: readonly EnvironmentDef[]): EnvironmentDef[] {
  if (value === undefined) return [];
  const names = defs.map((d) => d.name).join(", ");
  const list = check("calibration", z.array(z.string()), value, `a list of this stack's environments to run twice (${names})`);
  return list.map((name, i) => {
    const base = defs.find((d) => d.name === name);
    if (!base) fail(`calibration[${i}]`, name, "not an environment of this stack", names);
    if (list.indexOf(name) !== i) fail(`calibration[${i}]`, name, "listed twice");
    const copy = `${name}${CALIBRATION_SUFFIX}`;
    if (!NAME_RE.test(copy)) fail(`calibration[${i}]`, name, `the copy's name "${copy}" is longer than 31 characters; give the environment a shorter name`);
    if (defs.some((d) => d.name === copy)) fail(`calibration[${i}]`, name, `the stack already has an environment named "${copy}"`);
    return { name: copy, options: base.options, calibrationOf: name };
  });
}

const sshClient = z.object({
  host: grammar(hostProblem), user: grammar(userProblem), port: port.optional(),
  identityFile: absPath().optional(), knownHostsFile: absPath().optional(), hostPublicKey: grammar(publicKeyProblem).optional(),
  jump: grammar(jumpProblem).optional(),
}).strict();

function parseClient(value: unknown, stack: string, keysDir: string): ClientConfig {
  if (value === undefined || value === "host") return { kind: "host" };
  const allowed = `"host", or a second machine {host, user, port?, identityFile?, knownHostsFile | hostPublicKey, jump?}`;
  const { hostPublicKey, ...t } = check("client", sshClient, value, allowed);
  // Its host key is pinned, never taken on trust: a known_hosts file of the user's, or the key itself.
  if (!t.knownHostsFile && !hostPublicKey) fail("client.hostPublicKey", value, "a client machine's host key must be pinned: give knownHostsFile or hostPublicKey", allowed);
  if (t.knownHostsFile && hostPublicKey) fail("client.hostPublicKey", value, "give knownHostsFile or hostPublicKey, not both", allowed);
  const knownHostsFile = t.knownHostsFile ?? `${keysDir}/${stack}-client.known_hosts`;
  return { kind: "ssh", target: { kind: "ssh", ...t, knownHostsFile }, ...(hostPublicKey ? { hostPublicKey } : {}) };
}

function parseWorkloads(value: unknown): WorkloadId[] {
  const list = check("workloads", z.array(z.string()).min(1), value ?? [...WORKLOAD_IDS], `a list of: ${WORKLOAD_IDS.join(", ")}`);
  list.forEach((w, i) => {
    if (!(WORKLOAD_IDS as readonly string[]).includes(w)) fail(`workloads[${i}]`, w, "unknown workload", WORKLOAD_IDS.join(", "));
    if (list.indexOf(w) !== i) fail(`workloads[${i}]`, w, "listed twice");
  });
  return list as WorkloadId[];
}

/** A path key: absolute (or relative to the project root where `relative`), of characters safe everywhere it goes. */
const pathKey = (key: string, value: unknown, dflt: string, relative = false) =>
  check(key, grammar((v) => pathProblem(v, { relative })), value ?? dflt);

export interface ParseOptions {
  /** Where keys and known_hosts files go on this machine (stacks/keys.ts). Default defaultKeysDir(). */
  readonly keysDir?: string;
}

/**
 * Validates a stack's `virtperf:` config (keys without the namespace) against the host's facts.
 * Throws ConfigError on the first problem.
 */
export function parseExperiment(raw: Record<string, unknown>, stack: string, hostFacts: HostFacts, opts: ParseOptions = {}): Experiment {
  for (const k of Object.keys(raw)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(k)) fail(k, raw[k], "unknown key", CONFIG_KEYS.map((c) => `${NAMESPACE}:${c}`).join(", "));
  }
  if (!NAME_RE.test(stack)) throw new ConfigError("stack", `stack name "${stack}" is not usable in container and domain names`, { suggestions: ["lowercase letters, digits and '-', starting with a letter"] });
  const keysDir = opts.keysDir ?? defaultKeysDir();
  const keysProblem = pathProblem(keysDir);
  if (keysProblem) throw new ConfigError(KEYS_DIR_ENV, `the keys directory ${JSON.stringify(keysDir)} is not usable: ${keysProblem}`, { suggestions: [`set ${KEYS_DIR_ENV} to a private directory such as /root/.cache/virtperf/keys`] });
  const scratchDir = pathKey("scratchDir", raw.scratchDir, DEFAULTS.scratchDir);
  const host: HostConfig = {
    address: parseHost(raw.host, stack, keysDir),
    ...parseCpusetKey(raw.cpuset, hostFacts),
    memoryMiB: parseMemory(raw.memoryMiB, hostFacts),
    scratchDir,
    ioDir: pathKey("ioDir", raw.ioDir, `${scratchDir}/io`),
  };
  const debianSuite = check("debianSuite", z.string().regex(/^[a-z]+$/, "a Debian suite name like bookworm"), raw.debianSuite ?? DEFAULTS.debianSuite);
  const guestImage = raw.guestImage === undefined ? undefined : pathKey("guestImage", raw.guestImage, "");
  return {
    stack, host,
    environments: withCalibration(parseEnvironments(raw.environments), raw.calibration),
    client: parseClient(raw.client, stack, keysDir),
    acceleration: check("acceleration", z.enum(["auto", "kvm", "tcg"]), raw.acceleration ?? DEFAULTS.acceleration, "auto, kvm, tcg"),
    workloads: parseWorkloads(raw.workloads),
    profile: check("profile", z.enum(PROFILES), raw.profile ?? DEFAULTS.profile, PROFILES.join(", ")),
    repetitions: check("repetitions", z.coerce.number().int().min(1).max(1000), raw.repetitions ?? DEFAULTS.repetitions, "a whole number 1..1000"),
    seed: check("seed", z.coerce.number().int().min(0).max(2 ** 32 - 1), raw.seed ?? DEFAULTS.seed, "a whole number 0..4294967295"),
    debianSuite,
    dockerBaseImage: check("dockerBaseImage", grammar(dockerReferenceProblem), raw.dockerBaseImage ?? `debian:${debianSuite}`),
    ...(guestImage ? { guestImage } : {}),
    // Relative to the project root (where `pulumi up` and e2e run), or absolute.
    ...(raw.margins === undefined ? {} : { margins: parseMargins(raw.margins)! }),
    retryContaminated: check("retryContaminated", z.coerce.number().int().min(0).max(3), raw.retryContaminated ?? 0, "a whole number 0..3 (retries of a trial that ran on a busy host)"),
    resultsRoot: pathKey("resultsRoot", raw.resultsRoot, DEFAULTS.resultsRoot, true),
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
