/**
 * One trial end to end: check tools, make work directories, start the server, set up, run (timed),
 * parse, clean up, and return one trial record. A failure anywhere yields a `failed` record with the
 * error and the tail of stderr; cleanup and the server stop always run.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { HostShape, ProfileName, RawRun, Workload } from "../contract.ts";
import type { Target } from "./target.ts";
import { TRIAL_SCHEMA, type TrialRecord } from "../record.ts";
import { InstallError, VirtperfError, WorkloadRunError, tail } from "../../lib/errors.ts";
import { shq } from "../../lib/shell.ts";
import { checkStep, runStep, startServer, stopServer, type Sides } from "./steps.ts";
import { allocatePorts } from "./ports.ts";

export interface TrialEnvironment {
  readonly name: string;
  readonly kind: TrialRecord["kind"];
  readonly acceleration: TrialRecord["acceleration"];
  readonly target: Target;
  /** Fixed server ports of the environment; empty = pick free ones (local targets only). */
  readonly ports: readonly number[];
  readonly dataDir: string;
  readonly workRoot: string;
  readonly shape: HostShape;
}

export interface TrialRequest {
  readonly workload: Workload;
  readonly profile: ProfileName;
  readonly env: TrialEnvironment;
  readonly client: Target;
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
  const timed = async (p: Promise<RawRun>): Promise<RawRun> => {
    const raw = await p;
    timings.scriptsMs += raw.durationMs;
    return raw;
  };
  const w = req.workload;
  const params = w.params(req.profile, req.env.shape);
  const id = `${String(req.order).padStart(3, "0")}-${req.env.name}-${w.name}-r${req.rep}${req.warmup ? "-warmup" : ""}`;
  let toolVersion = "unknown";
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
  try {
    await ensureTools(req, w);
    toolVersion = await readToolVersion(sides, w);
    await makeDirs(sides, dataDir);
    const ports = req.env.ports.length >= w.ports ? req.env.ports.slice(0, w.ports) : await allocatePorts(w.ports);
    const steps = w.steps(params, {
      workDir: sides.dirs.env, dataDir, ports, serverHost: await req.env.target.serverHost(), shape: req.env.shape,
    });
    try {
      if (steps.setup) checkStep("setup", steps.setup, await timed(runStep(sides, steps.setup)));
      if (steps.server) await startServer(sides, steps.server);
      if (steps.prepare) checkStep("prepare", steps.prepare, await timed(runStep(sides, steps.prepare)));
      runRaw = await timed(runStep(sides, steps.run));
      rawPath = await keepRaw(req.out, id, runRaw);
      checkStep(`${w.tool.name} run`, steps.run, runRaw);
      cases = w.parse(runRaw, params);
    } finally {
      if (steps.server) await stopServer(sides);
      if (steps.cleanup) await timed(runStep(sides, steps.cleanup));
    }
  } catch (e) {
    error = toRecordError(e, runRaw);
    cases = [];
  } finally {
    await removeDirs(sides, dataDir);
  }
  timings.totalMs = performance.now() - t0;
  const record: TrialRecord = {
    schema: TRIAL_SCHEMA, stack: req.stack, run: req.run, host: req.host,
    environment: req.env.name, kind: req.env.kind, acceleration: req.env.acceleration,
    workload: w.name, profile: req.profile, rep: req.rep, order: req.order, seed: req.seed, warmup: req.warmup,
    startedAt: startedAt.toISOString(), durationS: round3(timings.totalMs / 1000),
    toolS: round3((runRaw?.durationMs ?? 0) / 1000),
    status: error ? "failed" : "ok", cases, tool: { name: w.tool.name, version: toolVersion }, raw: rawPath, error,
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

/** Checks every required command on its side; installs the packages when asked, else names them. */
async function ensureTools(req: TrialRequest, w: Workload): Promise<void> {
  for (const side of ["env", "client"] as const) {
    const reqs = w.requires.filter((r) => r.on === side);
    if (reqs.length === 0) continue;
    const target = side === "env" ? req.env.target : req.client;
    const check = reqs.map((r) => `command -v ${shq(r.command)} >/dev/null || echo ${shq(r.command)}`).join("\n");
    const missing = (await target.exec(check, { timeoutS: 30 })).stdout.split("\n").filter(Boolean);
    if (missing.length === 0) continue;
    const packages = [...new Set(reqs.filter((r) => missing.includes(r.command)).map((r) => r.package))];
    if (!req.install) {
      throw new InstallError(`${w.name} needs ${missing.join(", ")} on ${target.description}: install Debian package(s) ${packages.join(" ")}`, packages);
    }
    const raw = await target.exec(`export DEBIAN_FRONTEND=noninteractive\napt-get install -y --no-install-recommends ${packages.map(shq).join(" ")}`, { timeoutS: 900 });
    checkStep(`apt-get install ${packages.join(" ")}`, { script: "apt-get install" }, raw);
  }
}

async function readToolVersion(sides: Sides, w: Workload): Promise<string> {
  const raw = await sides[w.tool.on].exec(`${w.tool.versionCommand} 2>&1 | head -n 1`, { timeoutS: 30 });
  return raw.stdout.trim() || "unknown";
}

async function makeDirs(sides: Sides, dataDir: string): Promise<void> {
  checkStep("mkdir", { script: "mkdir" }, await sides.env.exec(`mkdir -p ${shq(sides.dirs.env)} ${shq(dataDir)}`, { timeoutS: 30 }));
  checkStep("mkdir", { script: "mkdir" }, await sides.client.exec(`mkdir -p ${shq(sides.dirs.client)}`, { timeoutS: 30 }));
}

async function removeDirs(sides: Sides, dataDir: string): Promise<void> {
  await sides.env.exec(`rm -rf ${shq(sides.dirs.env)} ${shq(dataDir)}`, { timeoutS: 120 });
  await sides.client.exec(`rm -rf ${shq(sides.dirs.client)}`, { timeoutS: 60 });
}

/** Keeps the run step's output verbatim: stdout as the raw file, stderr beside it when there is any. */
async function keepRaw(out: string, id: string, raw: RawRun): Promise<string> {
  await mkdir(join(out, "raw"), { recursive: true });
  const rel = `raw/${id}.txt`;
  await writeFile(join(out, rel), raw.stdout);
  if (raw.stderr.trim()) await writeFile(join(out, `raw/${id}.stderr.txt`), raw.stderr);
  return rel;
}
