/** Contamination verdicts from two snapshots: busy processes not ours, steal, memory, leftovers; and the snapshot script's output parsed. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { assess, parseLeftovers, parseSnapshot, snapshotScript } from "../../../workloads/runner/contamination.ts";

/** A snapshot's text: uptime, /proc/stat cpu counters, and processes as "pid comm ppid ticks". */
function snap(o: { t: number; steal?: number; total?: number; psi?: number; root?: number; procs: [number, string, number, number][]; shells?: number[] }): string {
  const total = o.total ?? 1000;
  const cpu = [total - (o.steal ?? 0), 0, 0, 0, 0, 0, 0, o.steal ?? 0, 0, 0];
  return [
    `snap.time=${o.t}`, "snap.load=0.50 0.40 0.30", `snap.cpu=${cpu.join(" ")}`, "snap.ticks=100", "snap.memAvailKiB=20000000",
    `snap.psi=${o.psi ?? 0}`, "snap.mhz=2596 2596", "snap.self=999", ...(o.root ? [`snap.root=${o.root}`] : []),
    ...o.procs.map(([pid, comm, ppid, ticks]) => `proc ${pid} (${comm}) S ${ppid} 0 0 0 -1 0 0 0 0 0 ${ticks} 0 0 0 20 0 1 0`),
    ...(o.shells ?? []).map((p) => `shell ${p}`),
  ].join("\n");
}

describe("assess", () => {
  const base: [number, string, number, number][] = [[1, "init", 0, 10], [2, "kthreadd", 0, 0], [50, "kworker/0:1", 2, 10], [100, "node", 1, 50], [300, "dockerd", 1, 5]];
  it("a process not ours that used 50 % of a CPU over 10 s is busy; our tree, kernel threads and harness daemons are not", () => {
    const before = parseSnapshot(snap({ t: 100, procs: [...base, [400, "stress", 1, 0], [200, "timeout", 1, 0], [201, "xz", 200, 0]], shells: [200] }));
    const after = parseSnapshot(snap({ t: 110, procs: [[1, "init", 0, 10], [2, "kthreadd", 0, 0], [50, "kworker/0:1", 2, 900], [100, "node", 1, 60],
      [300, "dockerd", 1, 800], [400, "stress", 1, 500], [200, "timeout", 1, 1], [201, "xz", 200, 1900]], shells: [200] }));
    const c = assess(before, after, { ours: [100] });
    assert.deepEqual(c.busy, [{ pid: 400, comm: "stress", cpuPct: 50 }]);
    assert.equal(c.flagged, true);
    assert.match(c.reasons[0]!, /stress \(pid 400\) 50 % of a CPU/);
  });
  it("the environment's root process (a guest's QEMU) and its threads are ours; another guest is not", () => {
    const before = parseSnapshot(snap({ t: 0, root: 700, procs: [[700, "qemu-system-x86", 1, 0], [800, "qemu-system-x86", 1, 0]] }));
    const after = parseSnapshot(snap({ t: 10, root: 700, procs: [[700, "qemu-system-x86", 1, 2000], [701, "qemu-system-x86", 700, 500], [800, "qemu-system-x86", 1, 300]] }));
    assert.deepEqual(assess(before, after).busy.map((b) => b.pid), [800]);
  });
  it("a new process counts from zero; a reused pid with another name counts from zero", () => {
    const before = parseSnapshot(snap({ t: 0, procs: [[900, "old", 1, 5000]] }));
    const after = parseSnapshot(snap({ t: 10, procs: [[900, "new", 1, 200], [901, "born", 1, 150]] }));
    assert.deepEqual(assess(before, after).busy.map((b) => [b.comm, b.cpuPct]), [["new", 20], ["born", 15]]);
  });
  it("steal above 5 % flags; below does not", () => {
    const before = parseSnapshot(snap({ t: 0, procs: [], total: 1000, steal: 0 }));
    assert.equal(assess(before, parseSnapshot(snap({ t: 10, procs: [], total: 2000, steal: 100 }))).stealPct, 10);
    assert.match(assess(before, parseSnapshot(snap({ t: 10, procs: [], total: 2000, steal: 100 }))).reasons.join(), /stole 10 %/);
    assert.equal(assess(before, parseSnapshot(snap({ t: 10, procs: [], total: 2000, steal: 20 }))).flagged, false);
  });
  it("memory pressure flags; leftovers flag", () => {
    const before = parseSnapshot(snap({ t: 0, procs: [] }));
    assert.match(assess(before, parseSnapshot(snap({ t: 1, procs: [], psi: 25 }))).reasons.join(), /memory pressure 25 %/);
    assert.match(assess(before, before, { leftovers: ["redis-server (pid 5, in /w/x)"] }).reasons.join(), /earlier trial.*redis-server/);
  });
});

describe("snapshot script", () => {
  it("runs here and parses: uptime, CPU counters, this process among the processes", () => {
    const s = parseSnapshot(execFileSync("bash", ["-c", snapshotScript("echo 1")], { encoding: "utf8" }));
    assert.ok(s.uptimeS > 0 && s.cpu.length >= 8 && s.ticks > 0 && s.memAvailMiB > 0);
    assert.equal(s.root, 1);
    assert.ok(s.procs.size > 3 && s.procs.has(1));
  });
  it("leftover lines", () => {
    assert.deepEqual(parseLeftovers("x\nleftover 42 redis-server /w/000-a\n"), ["redis-server (pid 42, in /w/000-a)"]);
  });
});
