/**
 * `npm run bench:report`: the whole report (read trials.jsonl, parse and check every record, statistics,
 * summary.json, report.md, results.csv, report.html) on 100,000 generated trial records. Aim: under 5 s.
 *
 * Shape: 20 stacks (hosts) x 7 environments x 6 workloads with their real case and metric counts
 * (fio 2 cases x 5 metrics, Redis 6 cases x 2, MySQL 4 x 2 ...), repetitions filling up to 100,000
 * records, 1 % failed, 1 % run on a busy host; every record carries a trial context, a tool checksum and a
 * contamination check, as the runner writes them. Records are generated (seeded), written to a temp
 * folder and read back.
 * BENCH_RECORDS=N changes the count; BENCH_KEEP=1 keeps the temp folder (its path is printed).
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { writeReport } from "../cli/report.ts";
import { drawRecord, seededRng, type CaseDraw } from "../test/fixtures/records/generate.ts";
import type { WorkloadId } from "../workloads/contract.ts";
import type { TrialRecord } from "../model/record.ts";

const TOTAL = Number(process.env.BENCH_RECORDS ?? 100_000);
const STACKS = 20;
const ENVS: { name: string; kind: TrialRecord["kind"]; f: number }[] = [
  { name: "native", kind: "native", f: 1 }, { name: "docker", kind: "docker", f: 0.95 }, { name: "docker-host", kind: "docker", f: 0.99 },
  { name: "docker-volume", kind: "docker", f: 0.96 }, { name: "docker-host-volume", kind: "docker", f: 1 },
  { name: "kvm", kind: "kvm", f: 0.8 }, { name: "kvm-tuned", kind: "kvm", f: 0.93 },
];

const m = (name: string, unit: string, better: "higher" | "lower", median: number) => ({ name, unit, better, median, sigma: 0.03 });
const CASES: Partial<Record<WorkloadId, (f: number) => CaseDraw[]>> = {
  xz: (f) => [{ case: "compress", params: { threads: 2 }, metrics: [m("throughput", "MB/s", "higher", 20 * f)] }],
  linpack: (f) => [{ case: "hpl", params: { n: 4000 }, metrics: [m("gflops", "GFLOPS", "higher", 38 * f)] }],
  stream: (f) => [{ case: "star", params: {}, metrics: ["copy", "scale", "add", "triad"].map((n) => m(n, "GB/s", "higher", 10 * f)) }],
  fio: (f) => ["seq-read", "rand-read-qd128"].map((c) => ({ case: c, params: { bs: "4k" }, metrics: [m("bw", "MB/s", "higher", 500 * f), m("iops", "IO/s", "higher", 80000 * f), m("clat_p50", "us", "lower", 900 / f), m("clat_p99", "us", "lower", 2000 / f), m("clat_p99_9", "us", "lower", 4000 / f)] })),
  redis: (f) => [1, 10, 50].flatMap((clients) => ["get", "set"].map((op) => ({ case: `${op}-c${clients}`, params: { op, clients }, metrics: [m("rps", "requests/s", "higher", 9000 * clients * f), m("latency_p50", "ms", "lower", 0.1 * clients / f)] }))),
  mysql: (f) => [1, 2, 4, 8].map((threads) => ({ case: `oltp-ro-t${threads}`, params: { threads }, metrics: [m("tps", "transactions/s", "higher", 400 * threads * f), m("latency_p95", "ms", "lower", 3 * threads / f)] })),
};

const CONTEXT = {
  env: "HOME=/tmp LANG=C LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TZ=UTC", limits: "nofile=4096 stack=8192 memlock=64 core=0 nproc=16384",
  nice: "0", cpus: "0-1", shm: "1073741824", thp: "madvise", blas: "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 core=Haswell",
};
const QUIET = { flagged: false, reasons: [], loadBefore: 0.1, loadAfter: 1.9, stealPct: 0, busy: [], memAvailableMiB: 21000, memPressurePct: 0, cpuMHz: "2200 -> 2200", leftovers: [] };
const BUSY = { ...QUIET, flagged: true, reasons: ["busy processes not ours: yes (pid 4711) 98 % of a CPU"], busy: [{ pid: 4711, comm: "yes", cpuPct: 98 }] };

function generate(dir: string): number {
  const workloads = Object.keys(CASES) as WorkloadId[];
  const perStack = Math.ceil(TOTAL / STACKS);
  const reps = Math.ceil(perStack / (ENVS.length * workloads.length));
  const rng = seededRng(2026);
  let written = 0;
  for (let s = 0; s < STACKS && written < TOTAL; s++) {
    const stack = `host${String(s).padStart(2, "0")}`;
    const lines: string[] = [];
    let order = 0;
    for (let rep = 1; rep <= reps && written < TOTAL; rep++) {
      for (const w of workloads) for (const e of ENVS) {
        if (written >= TOTAL || lines.length >= perStack) break;
        const failed = rng() < 0.01;
        const busy = rng() < 0.01;
        const extra = { context: { env: e.kind === "kvm" ? { ...CONTEXT, blas: CONTEXT.blas.replace("Haswell", "Nehalem") } : CONTEXT }, contamination: busy ? BUSY : QUIET };
        lines.push(JSON.stringify(drawRecord(rng, { stack, run: `${stack}-r1`, environment: e.name, kind: e.kind, workload: w, rep, order: order++, cases: CASES[w]!(e.f), status: failed ? "failed" : "ok", tool: { name: w, version: "1.0", sha256: "ab".repeat(32) }, extra })));
        written++;
      }
    }
    const runDir = join(dir, stack, `${stack}-r1`);
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, "trials.jsonl"), lines.join("\n") + "\n");
  }
  return written;
}

const root = mkdtempSync(join(tmpdir(), "virtperf-bench-report-"));
try {
  const inputs = join(root, "results");
  const n = generate(inputs);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const { files, model } = writeReport([inputs], { out: join(root, "report") });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const sizes = Object.entries(files).map(([k, f]) => `${k} ${(statSync(f).size / 1e6).toFixed(1)} MB`).join(", ");
  // CPU time beside wall time: on a shared 2-core machine the wall figure mostly measures the neighbours.
  console.log(`report on ${n} trial records (${model.comparison.stacks.length} stacks, ${model.comparison.rows.length} cells): ${seconds.toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU (aim < 5 s; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs); ${sizes}`);
} finally {
  if (!process.env.BENCH_KEEP) rmSync(root, { recursive: true, force: true }); else console.log(root);
}
