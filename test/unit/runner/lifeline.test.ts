/**
 * The lifeline (lifeline.ts) for real on this machine: a trial shell stops its script and everything in
 * its process group when its stdin closes (the runner killed, or a server closed), sweeps what a script
 * left behind when it ends, keeps `timeout`'s exit codes, and hands the lifeline on through a hop
 * (docker exec over ssh, faked here by scripts that run the far side locally).
 */
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { chmod, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { connect } from "../../../workloads/runner/targets.ts";
import { SERVER_READY, startServer, stopServer } from "../../../workloads/runner/steps.ts";
import { fakeBin } from "./fake-ssh.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const tag = `virtperf-lifeline-${process.pid}`;
/** Live (not zombie) processes whose argv[0] (set with `exec -a`) starts with `name`. */
function running(name: string): number[] {
  return readdirSync("/proc").filter((d) => /^\d+$/.test(d)).flatMap((d) => {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return [];
      return readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0")[0]!.startsWith(name) ? [Number(d)] : [];
    } catch {
      return [];
    }
  });
}
const gone = async (name: string, withinMs: number) => {
  for (const end = Date.now() + withinMs; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (running(name).length === 0) return true;
  return running(name).length === 0;
};
const local = connect({ kind: "local" });

describe("the lifeline of a trial shell", () => {
  it("keeps the script's exit code, and timeout's 124 for a script past its limit", async () => {
    assert.equal((await local.exec("echo out; exit 3", { timeoutS: 10 })).exitCode, 3);
    const r = await local.exec("sleep 20", { timeoutS: 1 });
    assert.equal(r.exitCode, 124);
    assert.equal(r.timedOut, true);
  });

  it("sweeps what a script left running in the background when it ends", async () => {
    const r = await local.exec(`(exec -a ${tag}-bg sleep 300) & echo started`, { timeoutS: 10 });
    assert.equal(r.stdout, "started\n");
    assert.ok(await gone(`${tag}-bg`, 6000), "the background process outlived its trial shell");
  });

  it("stops the script and its children when the lifeline closes (abort), TERM ignored or not", async () => {
    const ac = new AbortController();
    const p = local.exec(`trap '' TERM; (trap '' TERM; exec -a ${tag}-stubborn sleep 300) & exec -a ${tag}-main sleep 300`, { timeoutS: 600, signal: ac.signal });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(running(`${tag}-stubborn`).length, 1);
    const t0 = Date.now();
    ac.abort("test");
    await p;
    assert.ok(Date.now() - t0 < 9000, "stopped within the grace period");
    assert.ok(await gone(`${tag}-`, 2000), "a process of the script survived");
  });

  it("a server runs in its own trial shell until closed, then it is gone with its children", async () => {
    const sides = { env: local, client: local, dirs: { env: "/tmp", client: "/tmp" } };
    const session = await startServer(sides, { script: `(exec -a ${tag}-child sleep 300) & exec -a ${tag}-server sleep 300`, readyCheck: "true", readyTimeoutS: 5 }, 60);
    assert.ok(await session.waitForLine(SERVER_READY));
    assert.equal(running(`${tag}-server`).length, 1);
    await stopServer(session);
    assert.ok(await gone(`${tag}-`, 2000));
  });

  it("when the runner is SIGKILLed with its process group, the far side stops its trial within seconds", async () => {
    const script = `import("./workloads/runner/targets.ts").then((m) => m.connect({ kind: "local" }).exec("exec -a ${tag}-orphan sleep 300", { timeoutS: 600 }))`;
    const runner = spawn("bin/node22", ["--import", "tsx", "-e", script], { cwd: ROOT, detached: true, stdio: "ignore" });
    for (let i = 0; i < 100 && running(`${tag}-orphan`).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(running(`${tag}-orphan`).length, 1, "the trial did not start");
    process.kill(-runner.pid!, "SIGKILL");
    assert.ok(await gone(`${tag}-orphan`, 8000), "the workload outlived its runner");
  });

  describe("through a hop: docker exec on a remote host over ssh (both faked)", () => {
    let undo: (() => void) | undefined;
    let fakes: Awaited<ReturnType<typeof fakeBin>> | undefined;
    after(async () => { undo?.(); await fakes?.remove(); });

    it("the inner trial shell gets the lifeline and stops when the runner's closes", async () => {
      fakes = await fakeBin();
      // `docker exec -i <container> <command...>`: runs the command here, in a session of its own as in a container.
      await writeFile(join(fakes.dir, "docker"), `#!/bin/bash\n[ "$1" = exec ] || exit 2\nshift 3\nexec setsid -w "$@"\n`);
      await chmod(join(fakes.dir, "docker"), 0o755);
      undo = fakes.activate();
      const target = connect({ kind: "docker", container: "c1", via: { kind: "ssh", host: "h", user: "u" } });
      assert.equal((await target.exec("echo inside; exit 4", { timeoutS: 10 })).stdout, "inside\n");
      assert.equal((await target.exec("exit 4", { timeoutS: 10 })).exitCode, 4);
      const ac = new AbortController();
      const p = target.exec(`exec -a ${tag}-hop sleep 300`, { timeoutS: 600, signal: ac.signal });
      for (let i = 0; i < 50 && running(`${tag}-hop`).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(running(`${tag}-hop`).length, 1);
      ac.abort("test");
      await p;
      assert.ok(await gone(`${tag}-hop`, 8000), "the inner trial outlived the hop's lifeline");
    });
  });
});
