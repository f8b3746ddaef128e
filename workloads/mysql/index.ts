/**
 * mysql: MariaDB (mariadbd) in the environment, datadir on the environment's data path, and
 * `sysbench oltp_read_only` on the client side over TCP, one report per thread count.
 * Scripts and the access decision (a real account, not --skip-grant-tables) are in scripts.ts.
 */
import type { HostShape, MetricSpec, ProfileName, TrialContext, TrialSteps, Workload } from "../contract.ts";
import { caseName, parseSysbench } from "./parse.ts";
import { cleanupScript, pathsOf, prepareScript, readyCheck, runScript, serverScript, setupScript } from "./scripts.ts";

export type MysqlParams = {
  /** sysbench thread counts, one report each, in this order. */
  readonly threads: readonly number[];
  /** Rows per table. */
  readonly tableSize: number;
  /** Tables (the paper: one). */
  readonly tables: number;
  /** Measured seconds per thread count. */
  readonly durationS: number;
  /** InnoDB buffer pool, MiB. */
  readonly bufferPoolMiB: number;
};

/** The paper's thread counts, 10..290 (in steps of 40), on a 32-thread host. */
const PAPER_THREADS = [10, 50, 90, 130, 170, 210, 250, 290];
const PAPER_CPUS = 32;

const unique = (xs: readonly number[]): number[] => [...new Set(xs)];

/**
 * Profiles. Thread counts follow `shape.cpus`. `full` keeps the paper's threads per CPU
 * (each of 10..290 times cpus/32, rounded, at least 1), its 2 M rows and 60 s per count; the buffer pool
 * holds the whole table (about 0.5 GB at 2 M rows) when memory allows: half the memory, 128..1024 MiB.
 */
function params(profile: ProfileName, shape: HostShape): MysqlParams {
  const cpus = Math.max(1, shape.cpus);
  switch (profile) {
    case "smoke":
      return { threads: unique([1, 2 * cpus]), tableSize: 10_000, tables: 1, durationS: 2, bufferPoolMiB: 64 };
    case "quick":
      return { threads: unique([1, cpus, 4 * cpus]), tableSize: 100_000, tables: 1, durationS: 10, bufferPoolMiB: 256 };
    case "full":
      return {
        threads: unique(PAPER_THREADS.map((t) => Math.max(1, Math.round((t * cpus) / PAPER_CPUS)))),
        tableSize: 2_000_000, tables: 1, durationS: 60,
        bufferPoolMiB: Math.min(1024, Math.max(128, Math.floor(shape.memoryMiB / 2))),
      };
  }
}

function steps(p: MysqlParams, ctx: TrialContext): TrialSteps {
  const port = ctx.ports[0];
  if (port === undefined) throw new Error("mysql needs one port in the trial context (workload.ports = 1)");
  const paths = pathsOf(ctx);
  const maxThreads = Math.max(...p.threads);
  return {
    setup: { on: "env", script: setupScript(paths, ctx), timeoutS: 120 },
    server: {
      // Room for every sysbench thread plus the prepare and ready-check connections.
      script: serverScript(paths, port, ctx.bindHost, { bufferPoolMiB: p.bufferPoolMiB, maxConnections: maxThreads + 20 }),
      readyCheck: readyCheck(paths, port),
      readyTimeoutS: 120,
    },
    // Loading: allow 2000 rows/s at worst (a TCG guest), plus two minutes.
    prepare: { on: "client", script: prepareScript(ctx, p.tableSize, p.tables), timeoutS: 120 + Math.ceil(p.tableSize / 2000) },
    // sysbench start-up and thread ramp per count, doubled for slow guests, plus a minute.
    run: { on: "client", script: runScript(ctx, p.tableSize, p.tables, p.threads, p.durationS), timeoutS: 60 + 2 * p.threads.length * (p.durationS + 15) },
    cleanup: { on: "env", script: cleanupScript(paths), timeoutS: 60 },
  };
}

const metrics: readonly MetricSpec[] = [
  { name: "tps", unit: "transactions/s", better: "higher", description: "sysbench OLTP read-only transactions per second" },
  { name: "qps", unit: "queries/s", better: "higher", description: "SQL queries per second" },
  { name: "latency_avg", unit: "ms", better: "lower", description: "mean transaction latency" },
  { name: "latency_p95", unit: "ms", better: "lower", description: "95th percentile transaction latency" },
];

export const workload: Workload<MysqlParams> = {
  name: "mysql",
  title: "MariaDB, sysbench OLTP read-only",
  paper: "MySQL 5.5, sysbench OLTP read-only, 2 M rows, one table, 60 s, 10..290 threads from a second machine",
  group: "application",
  packages: ["mariadb-server"],
  clientPackages: ["sysbench", "mariadb-client"],
  tool: { name: "sysbench", versionCommand: "sysbench --version", on: "client" },
  requires: [
    { command: "mariadbd", package: "mariadb-server", on: "env" },
    { command: "mariadb-install-db", package: "mariadb-server", on: "env" },
    { command: "mariadb", package: "mariadb-client", on: "env" },
    { command: "timeout", package: "coreutils", on: "env" },
    { command: "sysbench", package: "sysbench", on: "client" },
    { command: "mariadb", package: "mariadb-client", on: "client" },
  ],
  ports: 1,
  warmup: true,
  metrics,
  // The names `full` yields on the paper's 32-CPU host; other shapes scale them (see params).
  cases: PAPER_THREADS.map(caseName),
  params,
  // InnoDB's system files and redo logs (about 200 MiB with MariaDB 10.11's defaults), then about 250 B a row.
  dataBytes: (p) => 200 * 2 ** 20 + p.tableSize * p.tables * 250,
  steps,
  parse: (raw, p) => parseSysbench(raw, p),
};
