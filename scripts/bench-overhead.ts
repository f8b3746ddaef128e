/**
 * `npm run bench:overhead`: what the pipeline itself costs, as figures for BENCHMARKS.md.
 *
 * - Runner overhead per trial, on each kind of environment: the wall time of `virtperf trial` (process
 *   start to exit) minus the time inside the workload's own scripts (`--timings`), for the smallest real
 *   trial (xz at smoke). The environments are brought up with the planner's own steps, as e2e does.
 * - Bring-up and teardown times of each environment (and of the images: cached, or rebuilt with
 *   `--cold`, which removes the Docker tools image and the guest image first).
 *
 *   npm run bench:overhead [-- --environments native,docker-host-volume,kvm --n 5 --cold]
 *
 * Run it on a quiet machine: it measures the harness, and anything else running is noise in it.
 */
import { execa } from "execa";
import { mkdtempSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseExperiment } from "../stacks/config.ts";
import { probeHost } from "../stacks/host-probe.ts";
import { environmentDescription, plan } from "../stacks/planner.ts";
import { kvmProofOf, preflight } from "../stacks/preflight/preflight.ts";
import { bringUpSteps, type Step } from "../cli/e2e-steps.ts";

const { values } = parseArgs({ options: {
  environments: { type: "string", default: "native,docker-host-volume,kvm" }, n: { type: "string", default: "5" }, cold: { type: "boolean", default: false },
} });
const n = Number(values.n);
const envs = values.environments!.split(",");
const basic = probeHost();
const x = parseExperiment({ environments: envs, workloads: ["xz"], profile: "smoke", repetitions: 1, memoryMiB: 1536,
  resultsRoot: mkdtempSync(join(tmpdir(), "virtperf-bench-")) }, "bench", basic);
const checked = preflight(x);
const p = plan(x, { ...basic, kvm: kvmProofOf(checked) });
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const k = s.length >> 1; return s.length % 2 ? s[k]! : (s[k - 1]! + s[k]!) / 2; };

async function timed(step: Step, which: "create" | "delete"): Promise<number> {
  const script = which === "create" ? step.create : step.delete;
  if (!script) return 0;
  const t0 = performance.now();
  const r = await execa("bash", ["-c", script], { reject: false, all: true });
  if (r.exitCode !== 0 && which === "create") throw new Error(`${step.label} failed:\n${String(r.all).slice(-2000)}`);
  return (performance.now() - t0) / 1000;
}

const steps = bringUpSteps(p);
if (values.cold) {
  console.log("cold: removing the cached images first");
  for (const s of steps.filter((s) => s.phase === "image").reverse()) await timed(s, "delete");
  await execa("bash", ["-c", `rm -f ${x.host.scratchDir}/images/guest-*`], { reject: false });
}
const up = new Map<string, number>();
for (const s of steps) {
  const owner = s.phase === "image" ? "images" : s.phase === "prepare" ? "host" : s.phase === "facts" ? "facts" : s.label.split("/")[0]!;
  up.set(owner, (up.get(owner) ?? 0) + await timed(s, "create"));
}
console.log(`load average before the trials: ${loadavg()[0]!.toFixed(2)}`);
for (const env of p.environments) {
  const overheads: number[] = [], walls: number[] = [];
  for (let i = 0; i < n; i++) {
    const out = mkdtempSync(join(tmpdir(), "virtperf-bench-out-"));
    const t0 = performance.now();
    const r = await execa("bin/virtperf", ["trial", "--environment", JSON.stringify(environmentDescription(x, env)), "--workload", "xz",
      "--profile", "smoke", "--stack", "bench", "--out", out, "--timings"], { reject: false });
    const wallMs = performance.now() - t0;
    const m = /virtperf-timings (\{.*\})/.exec(r.stderr);
    if (r.exitCode !== 0 || !m) throw new Error(`trial in ${env.def.name} failed: ${r.stderr}`);
    overheads.push((wallMs - (JSON.parse(m[1]!) as { scriptsMs: number }).scriptsMs) / 1000);
    walls.push(wallMs / 1000);
  }
  console.log(`${env.def.name.padEnd(20)} runner overhead per trial: median ${median(overheads).toFixed(3)} s, max ${Math.max(...overheads).toFixed(3)} s (trial wall median ${median(walls).toFixed(2)} s, n=${n}, ${env.acceleration === "tcg" ? "TCG guest" : env.kind})`);
}
const down = new Map<string, number>();
for (const s of [...steps].reverse()) {
  if (s.phase === "image") continue; // images stay cached, as e2e leaves them
  const owner = s.phase === "prepare" ? "host" : s.phase === "facts" ? "facts" : s.label.split("/")[0]!;
  down.set(owner, (down.get(owner) ?? 0) + await timed(s, "delete"));
}
for (const [owner, s] of up) console.log(`bring-up ${owner.padEnd(20)} ${s.toFixed(1)} s${values.cold && owner === "images" ? " (cold: built)" : owner === "images" ? " (cached)" : ""}; teardown ${(down.get(owner) ?? 0).toFixed(1)} s`);
