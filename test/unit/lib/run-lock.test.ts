/**
 * The stack lock (issue 10): a second run is refused with a message naming the first; a lock whose
 * process is gone is taken over; the holder's own children run under it.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { acquireRunLock, LockError } from "../../../lib/run-lock.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const procStart = (pid: number) => { const s = readFileSync(`/proc/${pid}/stat`, "utf8"); return s.slice(s.lastIndexOf(")") + 2).split(" ")[19]; };

describe("run lock", () => {
  it("is taken, refused to another live process with its pid, start and command, and released", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "virtperf-lock-")), "dev", ".lock");
    const other = spawn("sleep", ["30"], { stdio: "ignore" });
    await new Promise((r) => setTimeout(r, 100));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ pid: other.pid, procStart: procStart(other.pid!), host: hostname(), startedAt: "2026-12-01T10:00:00.000Z", command: "npm run e2e -- --stack dev" }));
    try {
      assert.throws(() => acquireRunLock(file, "a run of stack dev", "me"), (e: unknown) =>
        e instanceof LockError && /a run of stack dev is already running: pid \d+ on .*, started 2026-12-01T10:00:00.000Z: npm run e2e -- --stack dev/.test(e.shortMessage));
    } finally {
      other.kill("SIGKILL");
    }
    await new Promise((r) => setTimeout(r, 100));
    // Its process is gone: stale, taken over.
    const lock = acquireRunLock(file, "a run of stack dev", "me");
    assert.equal(lock.inherited, false);
    assert.equal(JSON.parse(readFileSync(file, "utf8")).pid, process.pid);
    lock.release();
    assert.equal(existsSync(file), false);
  });

  it("a pid reused by another program does not hold the lock", () => {
    const file = join(mkdtempSync(join(tmpdir(), "virtperf-lock-")), ".lock");
    writeFileSync(file, JSON.stringify({ pid: process.pid, procStart: "1", host: hostname(), startedAt: "x", command: "old" }));
    const lock = acquireRunLock(file, "a run", "me");
    assert.equal(lock.inherited, false);
    lock.release();
  });

  it("a child of the holder runs under its lock; anyone else is refused", () => {
    const file = join(mkdtempSync(join(tmpdir(), "virtperf-lock-")), ".lock");
    const lock = acquireRunLock(file, "a run of stack t", "holder");
    const child = (script: string) => execFileSync("bin/node22", ["--import", "tsx", "-e", script], { cwd: ROOT, encoding: "utf8" });
    const probe = `import("./lib/run-lock.ts").then((m) => { try { const l = m.acquireRunLock(${JSON.stringify(file)}, "a run of stack t", "child"); console.log(l.inherited ? "inherited" : "own"); } catch (e) { console.log("refused: " + e.shortMessage); } })`;
    assert.equal(child(probe).trim(), "inherited");
    lock.release();
    assert.equal(child(probe).trim(), "own");
  });
});
