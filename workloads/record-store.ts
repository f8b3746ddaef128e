/**
 * Writing trial records (issue 10, data): a record is on disk whole or not at all, and never lost.
 *
 * - Appends are one write of the whole line, after a newline if the file ends in a torn line (so the
 *   reader skips only that fragment, never the record after it), then fsync; a write that fails is
 *   cut back off the file, so a full disk leaves no fragment.
 * - Before a trial, `outProblem` proves the results folder takes a write (creates it, writes and
 *   fsyncs a probe): an unwritable or full folder is found before the trial runs, not after.
 * - A record that cannot be appended is retried, then kept in a pending file outside the results
 *   folder (`pendingFile`); the next trial or run on that folder moves it in (`flushPending`).
 *
 * Reading stays in record.ts (readTrialsFile), the one reader.
 */
import {
  closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, readSync, rmSync,
  unlinkSync, writeFileSync, writeSync,
} from "node:fs";
import { createHash } from "node:crypto";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

export const TRIALS_FILE = "trials.jsonl";

/** Where records go that could not be written to their results folder: $VIRTPERF_PENDING_DIR, else the user's state directory. */
export function pendingDir(env: NodeJS.ProcessEnv = process.env): string {
  return env["VIRTPERF_PENDING_DIR"] || join(env["XDG_STATE_HOME"] || join(homedir(), ".local", "state"), "virtperf", "pending");
}

/** The pending file of one results folder (its absolute path hashed); `<same>.out` beside it names the folder. */
export function pendingFile(out: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(pendingDir(env), `${createHash("sha256").update(resolve(out)).digest("hex").slice(0, 16)}.jsonl`);
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Appends `line` (one JSON record, no newline) to `file` and fsyncs it. After a torn last line (a writer
 * killed mid-write) a newline comes first; on a failed write the file is cut back to its old length.
 * Throws the write's error.
 */
export function appendLine(file: string, line: string): void {
  const fd = openSync(file, "a+");
  try {
    const size = fstatSync(fd).size;
    let torn = false;
    if (size > 0) {
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, size - 1);
      torn = last[0] !== 0x0a;
    }
    const bytes = Buffer.from(`${torn ? "\n" : ""}${line}\n`);
    try {
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done);
      fsyncSync(fd);
    } catch (e) {
      try { ftruncateSync(fd, size); } catch { /* the error below is what matters */ }
      throw e;
    }
  } finally {
    closeSync(fd);
  }
}

/** Bytes the pre-trial probe writes (a record with its context is a few KiB). */
const PROBE_BYTES = 16 * 1024;

/**
 * Why the results folder `out` cannot take this trial's record, or undefined: it is created, a probe
 * file of PROBE_BYTES is written, fsynced and removed there and in raw/. Catches a missing parent that
 * cannot be made, a read-only or full file system, and a path that is not a folder.
 */
export function outProblem(out: string): string | undefined {
  for (const dir of [out, join(out, "raw")]) {
    const probe = join(dir, `.virtperf-write-check-${process.pid}`);
    try {
      mkdirSync(dir, { recursive: true });
      const fd = openSync(probe, "w");
      try {
        writeSync(fd, Buffer.alloc(PROBE_BYTES, 0x20));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      return `results folder ${dir} cannot be written (${errText(e)})`;
    } finally {
      try { unlinkSync(probe); } catch { /* it was never made */ }
    }
  }
  return undefined;
}

export type WriteOutcome =
  | { readonly written: true }
  | { readonly written: false; readonly reason: string; /** Where the record is kept instead; undefined when even that failed. */ readonly pending?: string };

/**
 * Appends a record to `<out>/trials.jsonl`, retrying `attempts` times `delayMs` apart; when that keeps
 * failing (a full disk), keeps it in the folder's pending file instead.
 */
export async function writeRecord(out: string, line: string, opts: { attempts?: number; delayMs?: number } = {}): Promise<WriteOutcome> {
  const attempts = opts.attempts ?? 3;
  let reason = "";
  for (let i = 0; i < attempts; i++) {
    try {
      mkdirSync(out, { recursive: true });
      appendLine(join(out, TRIALS_FILE), line);
      return { written: true };
    } catch (e) {
      reason = `cannot append to ${join(out, TRIALS_FILE)} (${errText(e)})`;
      if (i < attempts - 1) await new Promise((r) => setTimeout(r, opts.delayMs ?? 1000));
    }
  }
  const pending = keepPending(out, line);
  return { written: false, reason, ...(pending ? { pending } : {}) };
}

/** Appends the record to the folder's pending file; its path, or undefined when that fails too. */
export function keepPending(out: string, line: string): string | undefined {
  const file = pendingFile(out);
  try {
    mkdirSync(pendingDir(), { recursive: true });
    writeFileSync(file.replace(/\.jsonl$/, ".out"), `${resolve(out)}\n`);
    appendLine(file, line);
    return file;
  } catch {
    return undefined;
  }
}

export interface Flushed {
  /** Records moved into trials.jsonl (lines already there are not written twice). */
  readonly moved: number;
  /** Why the pending records stay pending (the folder still cannot be written), if they do. */
  readonly problem?: string;
  readonly pending?: string;
}

/** Moves the folder's pending records, if any, into its trials.jsonl; the pending file goes once they are all in. */
export function flushPending(out: string): Flushed {
  const file = pendingFile(out);
  if (!existsSync(file)) return { moved: 0 };
  const target = join(out, TRIALS_FILE);
  const present = new Set(existsSync(target) ? readFileSync(target, "utf8").split("\n") : []);
  const lines = readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "");
  let moved = 0;
  try {
    mkdirSync(out, { recursive: true });
    for (const line of lines) {
      if (present.has(line)) continue;
      appendLine(target, line);
      present.add(line);
      moved++;
    }
  } catch (e) {
    return { moved, problem: `cannot append to ${target} (${errText(e)})`, pending: file };
  }
  rmSync(file, { force: true });
  rmSync(file.replace(/\.jsonl$/, ".out"), { force: true });
  return { moved };
}
