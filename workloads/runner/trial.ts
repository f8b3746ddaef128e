/**
 * One trial end to end: check tools, make work directories, start the server, set up, run (timed),
 * parse, clean up, and return one trial record. A failure anywhere yields a `failed` record with the
 * error and the tail of stderr; cleanup and the server stop always run.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { HostShape, ProfileName, RawRun, Workload } from "../contract.ts";
import type { Target } from "../../model/target.ts";
import type { TrialRecord } from "../../model/record.ts";
import { InstallError, VirtperfError, WorkloadRunError, tail } from "../../lib/errors.ts";
import { shq } from "../../lib/shell.ts";
import { checkStep, runStep, startServer, stopServer, type Sides } from "./steps.ts";
import { allocatePorts } from "./ports.ts";
import { CONTEXT_PROBE, parseContext, type TrialContextFacts } from "./parity.ts";
import { assess, leftoverScript, parseLeftovers, parseSnapshot, snapshotScript, type Contamination, type Snapshot } from "./contamination.ts";

export interface TrialEnvironment {
  readonly name: string;
  readonly kind: TrialRecord["kind"];
  readonly acceleration: TrialRecord["acceleration"];
  /** Why this acceleration (guests), recorded in the trial record. */
  readonly accelerationReason?: string;
  /** A/A calibration: the environment this one copies, recorded in the trial record. */
  readonly calibrationOf?: string;
  /** Environments this one is also compared with, recorded in the trial record. */
  readonly references?: readonly string[];
  /** What isolates it beyond its kind (gVisor's runtime) and why, recorded in the trial record. */
  readonly isolation?: string;
  readonly isolationReason?: string;
  readonly target: Target;
  /** Fixed server ports of the environment; empty = pick free ones (local targets only). */
  readonly ports: readonly number[];
  readonly dataDir: string;
  readonly workRoot: string;
  readonly shape: HostShape;
  /** Bash, run on the host, that prints the environment's root pid (its container's init, its guest's QEMU). */
  readonly rootPidScript?: string;
}

/** The host the environments live on, where the contamination snapshots are taken. */
export interface TrialHost {
  readonly target: Target;
  /** Pids on that host known to be ours (this runner, when it runs there). */
  readonly ours: readonly number[];
}

export interface TrialRequest {
  readonly workload: Workload;
  readonly profile: ProfileName;
  readonly env: TrialEnvironment;
  readonly client: Target;
  /** Where the contamination checks run; none: no checks (the record then has no `contamination`). */
  readonly hostTarget?: TrialHost;
  readonly stack: string;
  readonly run: string;
  readonly host: string;
  readonly rep: number;
  readonly order: number;
  readonly seed: number;
  readonly warmup: boolean;
  /** Results folder: raw output goes to `<out>/raw/`. */
  readonly out: string;
  /** apt-get install missing packages instead of failing. */
  readonly install: boolean;
}

export interface TrialTimings {
  /** Wall time of the trial inside the runner. */
  totalMs: number;
  /** Time spent inside workload scripts (setup, server start, prepare, run, cleanup). */
  scriptsMs: number;
}

export interface TrialOutcome {
  readonly record: TrialRecord;
  readonly timings: TrialTimings;
}

export async function runTrial(req: TrialRequest): Promise<TrialOutcome> {
  const startedAt = new Date();
  const t0 = performance.now();
  const timings: TrialTimings = { totalMs: 0, scriptsMs: 0 };
  // Time inside the workload's own scripts (steps, server start with its readiness wait, server stop).
  const timed = async <T>(f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await f();
    } finally {
      timings.scriptsMs += performance.now() - t;
    }
  };
  const w = req.workload;
  const params = w.params(req.profile, req.env.shape);
  const id = `${String(req.order).padStart(3, "0")}-${req.env.name}-${w.name}-r${req.rep}${req.warmup ? "-warmup" : ""}`;
  let tool: SideFacts = { version: "unknown" };
  const context: { env?: TrialContextFacts; client?: TrialContextFacts } = {};
  let contamination: Contamination | undefined;
  let leftovers: string[] = [];
  let runRaw: RawRun | undefined;
  let rawPath: string | null = null;
  let cases: TrialRecord["cases"] = [];
  let error: TrialRecord["error"] = null;

  const suffix = `${id}-${randomBytes(3).toString("hex")}`;
  const sides: Sides = {
    env: req.env.target, client: req.client,
    dirs: { env: `${req.env.workRoot}/${suffix}`, client: `/tmp/virtperf-client-${suffix}` },
  };
  const dataDir = `${req.env.dataDir}/${suffix}`;
  // The client side is only touched when the workload has something to run there.
  const usesClient = w.tool.on === "client" || w.requires.some((r) => r.on === "client") || w.ports > 0;
  try {
    const envSide = await beginSide(req, w, "env", [sides.dirs.env, dataDir]);
    context.env = envSide.context;
    leftovers = envSide.leftovers ?? [];
    if (w.tool.on === "env") tool = envSide;
    if (usesClient) {
      const clientSide = await beginSide(req, w, "client", [sides.dirs.client]);
      context.client = clientSide.context;
      if (w.tool.on === "client") tool = clientSide;
    }
    const ports = req.env.ports.length >= w.ports ? req.env.ports.slice(0, w.ports) : await allocatePorts(w.ports);
    const steps = w.steps(params, {
      workDir: sides.dirs.env, dataDir, ports, serverHost: await req.env.target.serverHost(), shape: req.env.shape,
    });
    try {
      if (steps.setup) checkStep("setup", steps.setup, await timed(() => runStep(sides, steps.setup!)));
      if (steps.server) await timed(() => startServer(sides, steps.server!));
      if (steps.prepare) checkStep("prepare", steps.prepare, await timed(() => runStep(sides, steps.prepare!)));
      const before = await snapshot(req);
      runRaw = await timed(() => runStep(sides, steps.run));
      const after = await snapshot(req);
      if (before && after) contamination = assess(before, after, { ours: req.hostTarget!.ours, memoryNeedMiB: req.env.shape.memoryMiB, leftovers });
      rawPath = await keepRaw(req.out, id, runRaw);
      checkStep(`${w.tool.name} run`, steps.run, runRaw);
      cases = w.parse(runRaw, params).map((c) => ({ case: c.case, params: { ...c.params }, metrics: c.metrics.map((m) => ({ ...m })) }));
    } finally {
      if (steps.server) await timed(() => stopServer(sides));
      if (steps.cleanup) await timed(() => runStep(sides, steps.cleanup!));
    }
  } catch (e) {
    error = toRecordError(e, runRaw);
    cases = [];
  } finally {
    await sides.env.exec(`rm -rf ${shq(sides.dirs.env)} ${shq(dataDir)}`, { timeoutS: 120 });
    if (usesClient) await sides.client.exec(`rm -rf ${shq(sides.dirs.client)}`, { timeoutS: 60 });
  }
  timings.totalMs = performance.now() - t0;
  const record: TrialRecord = {
    // The literal is checked against record.ts's schema by the type; importing the validator would cost every trial 0.3 s.
    schema: "virtperf.trial/1", stack: req.stack, run: req.run, host: req.host,
    environment: req.env.name, kind: req.env.kind, acceleration: req.env.acceleration,
    ...(req.env.accelerationReason ? { accelerationReason: req.env.accelerationReason } : {}),
    ...(req.env.calibrationOf ? { calibrationOf: req.env.calibrationOf } : {}),
    ...(req.env.references?.length ? { references: [...req.env.references] } : {}),
    ...(req.env.isolation ? { isolation: req.env.isolation } : {}),
    ...(req.env.isolationReason ? { isolationReason: req.env.isolationReason } : {}),
    workload: w.name, profile: req.profile, rep: req.rep, order: req.order, seed: req.seed, warmup: req.warmup,
    startedAt: startedAt.toISOString(), durationS: round3(timings.totalMs / 1000),
    toolS: round3((runRaw?.durationMs ?? 0) / 1000),
    status: error ? "failed" : "ok", cases,
    tool: { name: w.tool.name, version: tool.version, ...(tool.sha256 ? { sha256: tool.sha256 } : {}) },
    ...(context.env ? { context: { env: context.env, ...(context.client ? { client: context.client } : {}) } } : {}),
    ...(contamination ? { contamination } : {}),
    raw: rawPath, error,
  };
  return { record, timings };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function toRecordError(e: unknown, runRaw: RawRun | undefined): NonNullable<TrialRecord["error"]> {
  const message = e instanceof VirtperfError ? e.message : e instanceof Error ? e.message : String(e);
  if (e instanceof WorkloadRunError) {
    return { message, exitCode: e.exitCode, signal: e.signal, timedOut: e.timedOut, stderrTail: e.stderrTail };
  }
  return {
    message, exitCode: runRaw?.exitCode ?? null, signal: runRaw?.signal ?? null, timedOut: runRaw?.timedOut ?? false,
    stderrTail: tail(runRaw?.stderr ?? ""),
  };
}

interface SideFacts {
  readonly version: string;
  readonly sha256?: string;
  readonly context?: TrialContextFacts;
  /** Env side: processes of an earlier trial found (and killed) in the work root. */
  readonly leftovers?: string[];
}

/** A contamination snapshot of the host, or undefined when it has none or it could not be taken (never fails a trial). */
async function snapshot(req: TrialRequest): Promise<Snapshot | undefined> {
  if (!req.hostTarget) return undefined;
  const r = await req.hostTarget.target.exec(snapshotScript(req.env.rootPidScript), { timeoutS: 30 });
  return r.exitCode === 0 ? parseSnapshot(r.stdout) : undefined;
}

/**
 * One round trip per side before the trial: which required commands are missing, the tool's version and
 * binary checksum, what the trial shell really got (parity.ts), the work directories. Missing tools are
 * installed when asked, else named with their Debian packages.
 */
async function beginSide(req: TrialRequest, w: Workload, side: "env" | "client", dirs: readonly string[]): Promise<SideFacts> {
  const target = side === "env" ? req.env.target : req.client;
  const reqs = w.requires.filter((r) => r.on === side);
  const version = w.tool.on === side
    ? `echo "version $( (${w.tool.versionCommand}) 2>&1 | sed -n 1p)"\nbin=$(command -v ${shq(w.tool.name)}) && echo "sha256 $(sha256sum "$(readlink -f "$bin")" | cut -d' ' -f1)"`
    : "";
  const script = [
    ...(side === "env" ? [leftoverScript(req.env.workRoot, shq)] : []),
    ...reqs.map((r) => `command -v ${shq(r.command)} >/dev/null || echo missing ${shq(r.command)}`),
    `mkdir -p ${dirs.map(shq).join(" ")}`,
    version,
    CONTEXT_PROBE,
  ].join("\n");
  let raw = checkStep(`preparing ${target.description}`, { script }, await target.exec(script, { timeoutS: 60 }));
  const missing = [...raw.stdout.matchAll(/^missing (.+)$/gm)].map((m) => m[1]!);
  if (missing.length > 0) {
    const packages = [...new Set(reqs.filter((r) => missing.includes(r.command)).map((r) => r.package))];
    if (!req.install) {
      throw new InstallError(`${w.name} needs ${missing.join(", ")} on ${target.description}: install Debian package(s) ${packages.join(" ")}`, packages);
    }
    const install = `export DEBIAN_FRONTEND=noninteractive\napt-get install -y --no-install-recommends ${packages.map(shq).join(" ")}`;
    checkStep(`apt-get install ${packages.join(" ")}`, { script: install }, await target.exec(install, { timeoutS: 900 }));
    raw = await target.exec(script, { timeoutS: 60 });
  }
  const sha256 = /^sha256 ([0-9a-f]{64})$/m.exec(raw.stdout)?.[1];
  return {
    version: /^version (.*)$/m.exec(raw.stdout)?.[1]?.trim() || "unknown", ...(sha256 ? { sha256 } : {}),
    context: parseContext(raw.stdout), ...(side === "env" ? { leftovers: parseLeftovers(raw.stdout) } : {}),
  };
}

/** Keeps the run step's output verbatim: stdout as the raw file, stderr beside it when there is any. */
async function keepRaw(out: string, id: string, raw: RawRun): Promise<string> {
  await mkdir(join(out, "raw"), { recursive: true });
  const rel = `raw/${id}.txt`;
  await writeFile(join(out, rel), raw.stdout);
  if (raw.stderr.trim()) await writeFile(join(out, `raw/${id}.stderr.txt`), raw.stderr);
  return rel;
}
