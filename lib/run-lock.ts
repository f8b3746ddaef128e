/**
 * One run per stack at a time (issue 10): `<resultsRoot>/<stack>/.lock` holds who runs it (pid, the
 * process's start time, command, host, when). A second run is refused with a message naming the first;
 * a lock whose process is gone (killed, crashed, or its pid reused by another program) is stale and
 * taken over. A process started by the holder (e2e's trials) runs under the holder's lock.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { VirtperfError } from "./errors.ts";

export interface LockHolder {
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat: tells a live holder from a later process that got its pid. */
  readonly procStart: string;
  readonly host: string;
  readonly startedAt: string;
  readonly command: string;
}

export class LockError extends VirtperfError {
  readonly holder: LockHolder;
  constructor(what: string, file: string, holder: LockHolder) {
    super(`${what} is already running: pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}: ${holder.command}`, {
      detail: `lock file: ${file}`,
      suggestions: [`wait for it to finish, or stop it (kill ${holder.pid}); a lock whose process is gone is taken over by the next run`],
    });
    this.holder = holder;
  }
}

function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/** This process and its ancestors, nearest first. */
function lineage(): number[] {
  const out: number[] = [];
  for (let p: number | undefined = process.pid; p && p > 1 && !out.includes(p); p = parentOf(p)) out.push(p);
  return out;
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(file, "utf8")) as LockHolder;
    return Number.isInteger(h.pid) ? h : undefined;
  } catch {
    return undefined;
  }
}

/** Does the holder still run? Only this machine's processes can be checked: another host's lock counts as live. */
function alive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true;
  return procStart(h.pid) === h.procStart;
}

export interface RunLock {
  /** True when an ancestor holds the lock (this process runs under it and must not release it). */
  readonly inherited: boolean;
  release(): void;
}

/**
 * Takes the lock at `file` for `command`, or joins an ancestor's; throws a LockError naming the live
 * holder otherwise. `what` names the run in the message ("a run of stack dev").
 */
export function acquireRunLock(file: string, what: string, command: string): RunLock {
  mkdirSync(dirname(file), { recursive: true });
  const me: LockHolder = { pid: process.pid, procStart: procStart(process.pid) ?? "", host: hostname(), startedAt: new Date().toISOString(), command };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o644);
      try { writeSync(fd, `${JSON.stringify(me)}\n`); } finally { closeSync(fd); }
      return {
        inherited: false,
        release: () => { if (readHolder(file)?.pid === me.pid && readHolder(file)?.procStart === me.procStart) rmSync(file, { force: true }); },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let holder = readHolder(file);
    // A lock being written this instant reads empty: look again before calling it stale.
    if (!holder) { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200); holder = readHolder(file); }
    if (holder && alive(holder)) {
      if (holder.host === hostname() && lineage().includes(holder.pid)) return { inherited: true, release: () => {} };
      throw new LockError(what, file, holder);
    }
    // Stale (its process is gone) or unreadable (a writer killed before it wrote): take it over.
    rmSync(file, { force: true });
  }
  throw new VirtperfError(`cannot take the lock ${file}: it keeps changing hands`);
}
