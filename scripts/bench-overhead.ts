/**
 * The runner's own cost per trial: wall time of `virtperf trial` (process start to exit) minus the time
 * spent inside the workload's scripts. Runs each named workload's smoke trial N times natively and
 * prints the median and max overhead. Aim: under 0.5 s per trial.
 *   npm run bench:overhead [-- --workloads xz,fio --n 3]
 */
import { execa } from "execa";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { workloads: { type: "string", default: "xz,stream,fio,redis" }, n: { type: "string", default: "3" } } });
const workloads = values.workloads!.split(",");
const n = Number(values.n);
const out = await mkdtemp(join(tmpdir(), "virtperf-bench-"));
const rows: { workload: string; overheadS: number; wallS: number }[] = [];
for (const workload of workloads) {
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await execa("bin/virtperf", ["trial", "--env", "native", "--workload", workload, "--profile", "smoke", "--out", out, "--timings"], { reject: false });
    const wallMs = performance.now() - t0;
    const m = /virtperf-timings (\{.*\})/.exec(r.stderr);
    if (r.exitCode !== 0 || !m) throw new Error(`trial of ${workload} failed: ${r.stderr}`);
    const timings = JSON.parse(m[1]!) as { totalMs: number; scriptsMs: number };
    rows.push({ workload, overheadS: (wallMs - timings.scriptsMs) / 1000, wallS: wallMs / 1000 });
  }
}
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const k = s.length >> 1; return s.length % 2 ? s[k]! : (s[k - 1]! + s[k]!) / 2; };
for (const w of workloads) {
  const o = rows.filter((r) => r.workload === w);
  console.log(`${w.padEnd(12)} overhead median ${median(o.map((r) => r.overheadS)).toFixed(3)} s, max ${Math.max(...o.map((r) => r.overheadS)).toFixed(3)} s (trial wall median ${median(o.map((r) => r.wallS)).toFixed(2)} s, n=${o.length})`);
}
const all = rows.map((r) => r.overheadS);
console.log(`runner overhead per trial: median ${median(all).toFixed(3)} s over ${all.length} trials (aim < 0.5 s)`);
