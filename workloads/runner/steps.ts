/**
 * Running the pieces of one trial on a target: scripts in the trial's work directory, a server in the
 * background with its process group remembered, its readiness poll and its stop.
 */
import type { RawRun, ServerStep, Step } from "../contract.ts";
import type { Target } from "../../model/target.ts";
import { shq } from "../../lib/shell.ts";
import { WorkloadRunError, tail } from "../../lib/errors.ts";

export interface Sides {
  readonly env: Target;
  readonly client: Target;
  /** Work directory of the trial on each side. */
  readonly dirs: { readonly env: string; readonly client: string };
}

/** Runs a step's script in its side's work directory; returns what it printed, never throws. */
export function runStep(sides: Sides, step: Step): Promise<RawRun> {
  const target = sides[step.on];
  return target.exec(`set -euo pipefail\ncd ${shq(sides.dirs[step.on])}\n${step.script}\n`, { timeoutS: step.timeoutS });
}

/** Throws a WorkloadRunError naming the step unless it exited 0. */
export function checkStep(what: string, step: Step | { script: string }, raw: RawRun): RawRun {
  if (raw.exitCode === 0 && !raw.timedOut) return raw;
  throw new WorkloadRunError({
    what, command: step.script.trim().split("\n").slice(0, 3).join("; "), exitCode: raw.exitCode, signal: raw.signal,
    timedOut: raw.timedOut, durationMs: raw.durationMs, stderrTail: tail(raw.stderr || raw.stdout),
  });
}

const HEREDOC = "VIRTPERF_SERVER_SCRIPT_END";

/**
 * Starts the server detached (setsid: its pid is its process group, so the stop reaches every child)
 * and waits, in one round trip, until its ready check passes or it dies.
 */
export async function startServer(sides: Sides, server: ServerStep): Promise<void> {
  const dir = shq(sides.dirs.env);
  const script = [
    "set -euo pipefail", `cd ${dir}`,
    `cat > server.sh <<'${HEREDOC}'`, server.script, HEREDOC,
    "setsid bash server.sh > server.log 2>&1 < /dev/null &",
    "echo $! > server.pid",
    `deadline=$((SECONDS + ${Math.ceil(server.readyTimeoutS)}))`,
    "while [ $SECONDS -lt $deadline ]; do",
    "  if ! kill -0 \"$(cat server.pid)\" 2>/dev/null; then echo 'server exited before it was ready' >&2; tail -n 30 server.log >&2; exit 3; fi",
    `  if ( ${server.readyCheck} ) >/dev/null 2>&1; then exit 0; fi`,
    "  sleep 0.2",
    "done",
    "echo 'server not ready in time' >&2; tail -n 30 server.log >&2; exit 4",
  ].join("\n");
  const raw = await sides.env.exec(script, { timeoutS: server.readyTimeoutS + 10 });
  checkStep("server start", server, raw);
}

/** Stops the server's whole process group: TERM, up to 5 s of grace, then KILL. Safe when none runs. */
export async function stopServer(sides: Sides): Promise<RawRun> {
  const script = [
    `cd ${shq(sides.dirs.env)} 2>/dev/null || exit 0`,
    "[ -f server.pid ] || exit 0",
    "pg=$(cat server.pid)",
    "kill -TERM -- -\"$pg\" 2>/dev/null || exit 0",
    // A zombie still answers kill -0 until its new parent reaps it: count only live members of the group.
    "alive() { ps -o stat= --sid \"$pg\" 2>/dev/null | grep -v '^Z' >/dev/null; }",
    "for i in $(seq 50); do alive || exit 0; sleep 0.1; done",
    "kill -KILL -- -\"$pg\" 2>/dev/null || true",
  ].join("\n");
  return sides.env.exec(script, { timeoutS: 15 });
}
