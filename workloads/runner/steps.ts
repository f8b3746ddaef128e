/**
 * Running the pieces of one trial on a target: scripts in the trial's work directory, a server in a
 * trial shell of its own (its readiness poll, its stop), every exec bound to the trial's abort signal.
 */
import type { RawRun, ServerStep, Step } from "../contract.ts";
import type { Running, Target } from "../../model/target.ts";
import { shq } from "../../lib/shell.ts";
import { WorkloadRunError, tail } from "../../lib/errors.ts";

export interface Sides {
  readonly env: Target;
  readonly client: Target;
  /** Work directory of the trial on each side. */
  readonly dirs: { readonly env: string; readonly client: string };
  /** Aborts the running step (Ctrl-C, SIGTERM): its far side is stopped; cleanup steps run without it. */
  readonly signal?: AbortSignal;
}

/** Runs a step's script in its side's work directory; returns what it printed, never throws. */
export function runStep(sides: Sides, step: Step): Promise<RawRun> {
  const target = sides[step.on];
  return target.exec(`set -euo pipefail\ncd ${shq(sides.dirs[step.on])}\n${step.script}\n`, { timeoutS: step.timeoutS, ...(sides.signal ? { signal: sides.signal } : {}) });
}

/** Throws a WorkloadRunError naming the step unless it exited 0. */
export function checkStep(what: string, step: Step | { script: string }, raw: RawRun): RawRun {
  if (raw.exitCode === 0 && !raw.timedOut) return raw;
  throw checkFailed(what, step, raw);
}

function checkFailed(what: string, step: Step | { script: string }, raw: RawRun): WorkloadRunError {
  return new WorkloadRunError({
    what, command: step.script.trim().split("\n").slice(0, 3).join("; "), exitCode: raw.exitCode, signal: raw.signal,
    timedOut: raw.timedOut, durationMs: raw.durationMs, stderrTail: tail(raw.stderr || raw.stdout),
  });
}

const HEREDOC = "VIRTPERF_SERVER_SCRIPT_END";
/** The line the server's trial shell prints once the ready check passed. */
export const SERVER_READY = "virtperf-server-ready";

/**
 * Starts the server in a trial shell of its own that lives as long as the server (Target.start): it
 * writes server.sh, starts it in the background (its pid in server.pid), waits until the ready check
 * passes or the server dies, prints SERVER_READY and waits. Stopping it closes that shell's lifeline
 * (lifeline.ts): the whole process group, the server and all its children, gets TERM, 5 s, then KILL;
 * so does it when this runner dies, wherever the server runs. `lifeS` bounds it all (the far side's
 * `timeout`). Throws a WorkloadRunError, after stopping it, when it is not ready.
 */
export async function startServer(sides: Sides, server: ServerStep, lifeS: number, signal?: AbortSignal): Promise<Running> {
  const dir = shq(sides.dirs.env);
  const script = [
    // 0600: server.sh may hold the trial's password.
    "set -euo pipefail", "umask 077", `cd ${dir}`,
    `cat > server.sh <<'${HEREDOC}'`, server.script, HEREDOC,
    "bash server.sh > server.log 2>&1 < /dev/null 3<&- &",
    "echo $! > server.pid",
    `deadline=$((SECONDS + ${Math.ceil(server.readyTimeoutS)}))`,
    "until ( " + server.readyCheck + " ) >/dev/null 2>&1; do",
    "  if ! kill -0 \"$(cat server.pid)\" 2>/dev/null; then echo 'server exited before it was ready' >&2; tail -n 30 server.log >&2; exit 3; fi",
    "  if [ $SECONDS -ge $deadline ]; then echo 'server not ready in time' >&2; tail -n 30 server.log >&2; exit 4; fi",
    "  sleep 0.2",
    "done",
    `echo ${SERVER_READY}`,
    // Until the lifeline closes; if the server ends first, so does this shell.
    "wait",
  ].join("\n");
  const session = await sides.env.start(script, { timeoutS: Math.ceil(server.readyTimeoutS) + lifeS, ...(signal ? { signal } : {}) });
  if (await session.waitForLine(SERVER_READY)) return session;
  const raw = await stopServer(session);
  // It ended before it was ready, so not with exit 0 (the ready line comes first); 1 if the transport said 0.
  throw checkFailed("server start", server, raw.exitCode === 0 ? { ...raw, exitCode: 1 } : raw);
}

/** Stops a server started by startServer and waits until its trial shell is gone. Safe to call twice. */
export async function stopServer(session: Running): Promise<RawRun> {
  session.close();
  return session.done;
}
