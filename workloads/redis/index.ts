/**
 * redis: one `redis-server` in the environment on ctx.ports[0] (no persistence: nothing of it touches the
 * disk), and `redis-benchmark` on the client side, SET then GET, at several client counts, as the
 * paper's script did: before each client count the database is flushed (FLUSHALL), then
 * `redis-benchmark -c N -t set,get -d 50 -r 100000 -n 500000`. GETs ask for keys of the same 100k key
 * space that the SETs just before them filled (at small request counts many GETs miss, as in the paper's
 * runs they rarely did: the share of hits follows requests/keys).
 */
import type { HostShape, MetricSpec, ProfileName, TrialContext, TrialSteps, Workload } from "../contract.ts";
import { shq } from "../../lib/shell.ts";
import { MARKER_PREFIX, OPS, caseName, parseRedisBenchmark } from "./parse.ts";

export type RedisParams = {
  /** Client connections (redis-benchmark -c), one SET and one GET run each, in this order. */
  readonly clients: readonly number[];
  /** Requests per test (redis-benchmark -n). */
  readonly requests: number;
  /** Key space (redis-benchmark -r). */
  readonly keys: number;
  /** Value size in bytes (redis-benchmark -d). */
  readonly valueBytes: number;
};

/** The paper's connection counts span 1..120; these are the points `full` measures. */
const PAPER_CLIENTS = [1, 2, 5, 10, 20, 50, 80, 100, 120];

/**
 * Profiles. `full` is the paper's run unchanged: 500k requests per test, 100k keys of 50 bytes, 1..120
 * connections. Nothing scales with the host shape: redis-server executes commands on one thread
 * whatever the CPU count (so does the paper's single redis-server), its 100k keys need about 15 MiB, and
 * the connection counts describe the load offered, not the host.
 */
function params(profile: ProfileName, _shape: HostShape): RedisParams {
  const common = { keys: 100_000, valueBytes: 50 };
  switch (profile) {
    case "smoke": return { ...common, clients: [1, 10, 50], requests: 2_000 };
    case "quick": return { ...common, clients: [1, 10, 50, 100], requests: 50_000 };
    case "full": return { ...common, clients: PAPER_CLIENTS, requests: 500_000 };
  }
}

/**
 * --bind: only the address the client uses (issue 10: never every interface); the password is the
 * trial's random secret, in a config file (0600) rather than on the command line; protected mode stays
 * on. --save '' and --appendonly no: no RDB or AOF, ever; --dir: should anything be written, it lands in
 * the trial's work directory, which the runner removes.
 */
function serverScript(port: number, ctx: TrialContext): string {
  return `umask 077
printf 'requirepass %s\\n' ${shq(ctx.secret)} > redis-auth.conf
exec redis-server ./redis-auth.conf --port ${shq(port)} --bind ${shq(ctx.bindHost)} --save '' --appendonly no \\
  --daemonize no --dir ${shq(ctx.workDir)} --logfile ''
`;
}

/** Slowest rate a TCG guest should still sustain, requests/s, for the per-run time limit. */
const MIN_RPS = 500;

/** Seconds one redis-benchmark run (SET and GET) may take before `timeout` stops it. */
const benchmarkLimitS = (p: RedisParams): number => 30 + Math.ceil((OPS.length * p.requests) / MIN_RPS);

function runScript(p: RedisParams, ctx: TrialContext, port: number): string {
  const host = shq(ctx.serverHost);
  // redis-cli takes the password from REDISCLI_AUTH (never on its command line); redis-benchmark only from -a.
  return `export REDISCLI_AUTH=${shq(ctx.secret)}
for clients in ${p.clients.map(shq).join(" ")}; do
  echo ${shq(MARKER_PREFIX)}"$clients"
  flushed=$(redis-cli -h ${host} -p ${shq(port)} flushall)
  [ "$flushed" = OK ] || { echo "FLUSHALL answered: $flushed" >&2; exit 1; }
  # redis-benchmark waits forever when it cannot connect: each run gets its own time limit.
  timeout ${shq(benchmarkLimitS(p))} redis-benchmark -h ${host} -p ${shq(port)} -a "$REDISCLI_AUTH" -c "$clients" -n ${shq(p.requests)} \\
    -d ${shq(p.valueBytes)} -r ${shq(p.keys)} -t ${OPS.join(",")} --csv
done
`;
}

function steps(p: RedisParams, ctx: TrialContext): TrialSteps {
  const port = ctx.ports[0];
  if (port === undefined) throw new Error("redis needs one port in the trial context (workload.ports = 1)");
  return {
    server: {
      script: serverScript(port, ctx),
      readyCheck: `test "$(REDISCLI_AUTH=${shq(ctx.secret)} redis-cli -h ${shq(ctx.bindHost)} -p ${shq(port)} ping)" = PONG`,
      readyTimeoutS: 30,
    },
    run: { on: "client", script: runScript(p, ctx, port), timeoutS: 30 + p.clients.length * (benchmarkLimitS(p) + 10) },
  };
}

const metrics: readonly MetricSpec[] = [
  { name: "rps", unit: "requests/s", better: "higher", description: "requests per second over the whole test" },
  { name: "latency_avg", unit: "ms", better: "lower", description: "mean request latency as the client sees it" },
  { name: "latency_p50", unit: "ms", better: "lower", description: "median request latency" },
  { name: "latency_p99", unit: "ms", better: "lower", description: "99th percentile request latency" },
];

export const workload: Workload<RedisParams> = {
  name: "redis",
  title: "Redis key-value store, GET and SET",
  paper: "one redis-server; redis-benchmark from a second machine, 1..120 connections, 50-byte values, 100k keys, 500k requests, GET/SET (requests/s, latency)",
  group: "application",
  packages: ["redis-server"],
  clientPackages: ["redis-tools"],
  tool: { name: "redis-benchmark", versionCommand: "redis-benchmark --version", on: "client" },
  requires: [
    { command: "redis-server", package: "redis-server", on: "env" },
    { command: "redis-cli", package: "redis-tools", on: "env" },
    { command: "redis-benchmark", package: "redis-tools", on: "client" },
    { command: "redis-cli", package: "redis-tools", on: "client" },
    { command: "timeout", package: "coreutils", on: "client" },
  ],
  ports: 1,
  warmup: true,
  metrics,
  // The names `full` yields.
  cases: PAPER_CLIENTS.flatMap((c) => OPS.map((op) => caseName(op, c))),
  params,
  // Network and in-memory workloads write nothing under the data directory.
  dataBytes: () => 0,
  steps,
  parse: (raw, p) => parseRedisBenchmark(raw, p),
};
