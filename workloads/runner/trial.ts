/**
 * One trial end to end: check tools, make work directories, start the server, set up, run (timed),
 * parse, clean up, and return one trial record. A failure anywhere yields a `failed` record with the
 * error and the tail of stderr; cleanup and the server stop always run.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { HostShape, ProfileName, RawRun, TrialSteps, Workload } from "../contract.ts";
import type { ListenAddress, Running, Target } from "../../model/target.ts";
import type { TrialRecord } from "../../model/record.ts";
import { InstallError, InterruptedError, VirtperfError, WorkloadRunError, tail } from "../../lib/errors.ts";
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
  /** Stops the trial (Ctrl-C, SIGTERM): the running step's far side is stopped, cleanup runs, the record says why. */
  readonly signal?: AbortSignal;
  /** Caps every step's time limit (the workload's own limits otherwise), seconds. */
  readonly maxStepS?: number;
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

/**
 * Never rejects: whatever fails (an unreachable target, a full disk, an interrupt), the outcome is a
 * record, `failed` with the reason.
 */
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
  const id = `${String(req.order).padStart(3, "0")}-${req.env.name}-${w.name}-r${req.rep}${req.warmup ? "-warmup" : ""}`;
  let tool: SideFacts = { version: "unknown" };
  const context: { env?: TrialContextFacts; client?: TrialContextFacts } = {};
  let contamination: Contamination | undefined;
  let leftovers: string[] = [];
  let runRaw: RawRun | undefined;
  let rawPath: string | null = null;
  let cases: TrialRecord["cases"] = [];
  let error: TrialRecord["error"] = null;
  // Thrown when the trial was asked to stop: checked after every step, so the reason is the interrupt.
  const interrupted = () => {
    if (req.signal?.aborted) throw new InterruptedError(`trial interrupted (${String(req.signal.reason ?? "aborted")}); it did not finish`);
  };

  const suffix = `${id}-${randomBytes(3).toString("hex")}`;
  const sides: Sides = {
    env: req.env.target, client: req.client,
    dirs: { env: `${req.env.workRoot}/${suffix}`, client: `/tmp/virtperf-client-${suffix}` },
    ...(req.signal ? { signal: req.signal } : {}),
  };
  const dataDir = `${req.env.dataDir}/${suffix}`;
  // The client side is only touched when the workload has something to run there.
  const usesClient = w.tool.on === "client" || w.requires.some((r) => r.on === "client") || w.ports > 0;
  let began = false, clientBegan = false;
  try {
    const params = w.params(req.profile, req.env.shape);
    began = true;
    const envSide = await beginSide(req, w, "env", [sides.dirs.env, dataDir]);
    context.env = envSide.context;
    leftovers = envSide.leftovers ?? [];
    if (w.tool.on === "env") tool = envSide;
    interrupted();
    // Servers listen on the address their client uses, and let in that client only (issue 10).
    const serverHost = await req.env.target.serverHost();
    const listen = w.ports > 0 ? await req.env.target.listenAddress() : { bind: serverHost };
    let clientSrc: string | undefined;
    if (usesClient) {
      clientBegan = true;
      const clientSide = await beginSide(req, w, "client", [sides.dirs.client], w.ports > 0 ? serverHost : undefined);
      context.client = clientSide.context;
      clientSrc = clientSide.routeSrc;
      if (w.tool.on === "client") tool = clientSide;
      interrupted();
    }
    const ports = req.env.ports.length >= w.ports ? req.env.ports.slice(0, w.ports) : await allocatePorts(w.ports);
    const steps = capSteps(w.steps(params, {
      workDir: sides.dirs.env, dataDir, ports, serverHost, shape: req.env.shape,
      bindHost: listen.bind, clientHost: clientAddress(serverHost, listen, clientSrc), secret: randomBytes(12).toString("hex"),
    }), req.maxStepS);
    let server: Running | undefined;
    try {
      if (steps.setup) checkStep("setup", steps.setup, await timed(() => runStep(sides, steps.setup!)));
      interrupted();
      if (steps.server) {
        const lifeS = (steps.prepare?.timeoutS ?? 0) + steps.run.timeoutS + SERVER_MARGIN_S;
        server = await timed(() => startServer(sides, steps.server!, lifeS, req.signal));
      }
      interrupted();
      if (steps.prepare) checkStep("prepare", steps.prepare, await timed(() => runStep(sides, steps.prepare!)));
      interrupted();
      const before = await snapshot(req);
      runRaw = await timed(() => runStep(sides, steps.run));
      interrupted();
      const after = await snapshot(req);
      if (before && after) contamination = assess(before, after, { ours: req.hostTarget!.ours, memoryNeedMiB: req.env.shape.memoryMiB, leftovers });
      rawPath = await keepRaw(req.out, id, runRaw);
      checkStep(`${w.tool.name} run`, steps.run, runRaw);
      cases = w.parse(runRaw, params).map((c) => ({ case: c.case, params: { ...c.params }, metrics: c.metrics.map((m) => ({ ...m })) }));
    } finally {
      // Cleanup runs whatever happened, without the abort signal (an interrupt must not skip it).
      if (server) await timed(() => stopServer(server!));
      if (steps.cleanup) await settle(timed(() => runStep({ ...sides, signal: undefined }, steps.cleanup!)));
    }
  } catch (e) {
    error = toRecordError(e, runRaw);
    // A step that failed because the interrupt stopped it (a server killed while starting) is the interrupt.
    if (req.signal?.aborted && !(e instanceof InterruptedError)) {
      error = { ...error, message: `trial interrupted (${String(req.signal.reason ?? "aborted")}); it did not finish: ${error.message.split("\n")[0]}` };
    }
    cases = [];
  } finally {
    // An unreachable target throws here too: that must not lose the record.
    if (began) await settle(sides.env.exec(`rm -rf ${shq(sides.dirs.env)} ${shq(dataDir)}`, { timeoutS: 120 }));
    if (clientBegan) await settle(sides.client.exec(`rm -rf ${shq(sides.dirs.client)}`, { timeoutS: 60 }));
  }
  timings.totalMs = performance.now() - t0;
  const record = recordOf(req, {
    startedAt, durationMs: timings.totalMs, toolMs: runRaw?.durationMs ?? 0, cases, tool, error, rawPath,
    ...(context.env ? { context: { env: context.env, ...(context.client ? { client: context.client } : {}) } } : {}),
    ...(contamination ? { contamination } : {}),
  });
  return { record, timings };
}

/** The steps with every time limit at most `maxS` seconds (a server's readiness wait too). */
function capSteps(steps: TrialSteps, maxS: number | undefined): TrialSteps {
  if (maxS === undefined) return steps;
  const cap = <S extends { timeoutS: number }>(st: S | undefined): S | undefined => st && { ...st, timeoutS: Math.min(st.timeoutS, maxS) };
  return {
    ...steps, run: cap(steps.run)!,
    ...(steps.setup ? { setup: cap(steps.setup)! } : {}), ...(steps.prepare ? { prepare: cap(steps.prepare)! } : {}),
    ...(steps.cleanup ? { cleanup: cap(steps.cleanup)! } : {}),
    ...(steps.server ? { server: { ...steps.server, readyTimeoutS: Math.min(steps.server.readyTimeoutS, maxS) } } : {}),
  };
}

/** Seconds a server's trial shell may live beyond the prepare and run steps' own limits. */
const SERVER_MARGIN_S = 120;

/** Waits for a cleanup promise; its failure is not the trial's (the record keeps the first error). */
async function settle(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch {
    // The target is gone (an unreachable guest): nothing left to clean there.
  }
}

const isLoopback = (a: string) => /^127\./.test(a);

/**
 * The address a server sees its client come from, for accounts limited to it: the client's own source
 * address towards the server, or, for a client on the host's loopback behind NAT (a Docker bridge),
 * the NAT's gateway; "%" (any) only when neither is known.
 */
export function clientAddress(serverHost: string, listen: ListenAddress, routeSrc: string | undefined): string {
  const src = routeSrc ?? (isLoopback(serverHost) ? "127.0.0.1" : undefined);
  if (src && isLoopback(src) && listen.loopbackPeer) return listen.loopbackPeer;
  return src ?? "%";
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

interface RecordParts {
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly toolMs: number;
  readonly cases: TrialRecord["cases"];
  readonly tool: SideFacts;
  readonly error: TrialRecord["error"];
  readonly rawPath: string | null;
  readonly context?: TrialRecord["context"];
  readonly contamination?: Contamination;
}

function recordOf(req: TrialRequest, p: RecordParts): TrialRecord {
  return {
    // The literal is checked against record.ts's schema by the type; importing the validator would cost every trial 0.3 s.
    schema: "virtperf.trial/1", stack: req.stack, run: req.run, host: req.host,
    environment: req.env.name, kind: req.env.kind, acceleration: req.env.acceleration,
    ...(req.env.accelerationReason ? { accelerationReason: req.env.accelerationReason } : {}),
    ...(req.env.calibrationOf ? { calibrationOf: req.env.calibrationOf } : {}),
    ...(req.env.references?.length ? { references: [...req.env.references] } : {}),
    ...(req.env.isolation ? { isolation: req.env.isolation } : {}),
    ...(req.env.isolationReason ? { isolationReason: req.env.isolationReason } : {}),
    workload: req.workload.name, profile: req.profile, rep: req.rep, order: req.order, seed: req.seed, warmup: req.warmup,
    startedAt: p.startedAt.toISOString(), durationS: round3(p.durationMs / 1000), toolS: round3(p.toolMs / 1000),
    status: p.error ? "failed" : "ok", cases: p.cases,
    tool: { name: req.workload.tool.name, version: p.tool.version, ...(p.tool.sha256 ? { sha256: p.tool.sha256 } : {}) },
    ...(p.context ? { context: p.context } : {}),
    ...(p.contamination ? { contamination: p.contamination } : {}),
    raw: p.rawPath, error: p.error,
  };
}

/** The failed record of a trial that was not run (its results folder cannot take a record, say), with the reason. */
export function notRunRecord(req: TrialRequest, message: string): TrialRecord {
  return recordOf(req, {
    startedAt: new Date(), durationMs: 0, toolMs: 0, cases: [], tool: { version: "unknown" }, rawPath: null,
    error: { message, exitCode: null, signal: null, timedOut: false, stderrTail: "" },
  });
}

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
  /** Client side: its source address towards the server. */
  readonly routeSrc?: string;
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
async function beginSide(req: TrialRequest, w: Workload, side: "env" | "client", dirs: readonly string[], routeTo?: string): Promise<SideFacts> {
  const target = side === "env" ? req.env.target : req.client;
  const reqs = w.requires.filter((r) => r.on === side);
  const version = w.tool.on === side
    ? `echo "version $( (${w.tool.versionCommand}) 2>&1 | sed -n 1p)"\nbin=$(command -v ${shq(w.tool.name)}) && echo "sha256 $(sha256sum "$(readlink -f "$bin")" | cut -d' ' -f1)"`
    : "";
  const script = [
    ...(side === "env" ? [leftoverScript(req.env.workRoot, shq)] : []),
    // Found AND executable: bash's `command -v` also names a file it cannot run, when nothing better is on PATH.
    ...reqs.map((r) => `{ p=$(command -v ${shq(r.command)}) && { [ -x "$p" ] || [[ $p != */* ]]; }; } || echo missing ${shq(r.command)}`),
    `mkdir -p ${dirs.map(shq).join(" ")}`,
    version,
    // The source address this side uses towards the server (the client's address the server sees, before any NAT).
    ...(routeTo ? [routeSrcScript(routeTo)] : []),
    CONTEXT_PROBE,
  ].join("\n");
  const sig = req.signal ? { signal: req.signal } : {};
  let raw = checkStep(`preparing ${target.description}`, { script }, await target.exec(script, { timeoutS: 60, ...sig }));
  const missing = [...raw.stdout.matchAll(/^missing (.+)$/gm)].map((m) => m[1]!);
  if (missing.length > 0) {
    const packages = [...new Set(reqs.filter((r) => missing.includes(r.command)).map((r) => r.package))];
    if (!req.install) {
      throw new InstallError(`${w.name} needs ${missing.join(", ")} on ${target.description}: install Debian package(s) ${packages.join(" ")}`, packages);
    }
    const install = `export DEBIAN_FRONTEND=noninteractive\napt-get install -y --no-install-recommends ${packages.map(shq).join(" ")}`;
    checkStep(`apt-get install ${packages.join(" ")}`, { script: install }, await target.exec(install, { timeoutS: 900, ...sig }));
    raw = await target.exec(script, { timeoutS: 60, ...sig });
  }
  const sha256 = /^sha256 ([0-9a-f]{64})$/m.exec(raw.stdout)?.[1];
  const routeSrc = /^route\.src ([0-9.]+)$/m.exec(raw.stdout)?.[1];
  return {
    ...(routeSrc ? { routeSrc } : {}),
    version: /^version (.*)$/m.exec(raw.stdout)?.[1]?.trim() || "unknown", ...(sha256 ? { sha256 } : {}),
    context: parseContext(raw.stdout), ...(side === "env" ? { leftovers: parseLeftovers(raw.stdout) } : {}),
  };
}

/** Bash printing `route.src <address>`: this side's source address towards `to` (nothing when unknown). */
export function routeSrcScript(to: string): string {
  return String.raw`r=$(ip -4 route get ${shq(to)} 2>/dev/null) && [[ $r =~ src\ ([0-9.]+) ]] && echo "route.src ${"${BASH_REMATCH[1]}"}"`;
}

/** Keeps the run step's output verbatim: stdout as the raw file, stderr beside it when there is any. */
async function keepRaw(out: string, id: string, raw: RawRun): Promise<string> {
  await mkdir(join(out, "raw"), { recursive: true });
  const rel = `raw/${id}.txt`;
  await writeFile(join(out, rel), raw.stdout);
  if (raw.stderr.trim()) await writeFile(join(out, `raw/${id}.stderr.txt`), raw.stderr);
  return rel;
}
