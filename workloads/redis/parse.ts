/**
 * Parser of redis-benchmark 7 `--csv` output, one block per client count, each after a marker line the
 * run step prints ("# virtperf redis clients=10"). Pure. A block is redis-benchmark's header line
 *   "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
 * and one row per test ("SET", then "GET"). Columns are found by name; latencies stay in ms as
 * redis-benchmark reports them (no conversion).
 */
import { ParseError } from "../../lib/errors.ts";
import type { Case, RawRun } from "../contract.ts";

export const OPS = ["set", "get"] as const;
export type Op = (typeof OPS)[number];

export interface RedisParseParams {
  readonly clients: readonly number[];
  readonly requests: number;
  readonly keys: number;
  readonly valueBytes: number;
}

/** What the run step prints before each client count's CSV block, followed by the count. */
export const MARKER_PREFIX = "# virtperf redis clients=";
export const caseName = (op: Op, clients: number): string => `${op}-c${clients}`;

/** Metric name -> CSV column, all in the units the metrics table declares. */
const COLUMNS = {
  rps: "rps", latency_avg: "avg_latency_ms", latency_p50: "p50_latency_ms", latency_p99: "p99_latency_ms",
} as const;
const UNITS = { rps: "requests/s", latency_avg: "ms", latency_p50: "ms", latency_p99: "ms" } as const;

export function parseRedisBenchmark(raw: RawRun, params: RedisParseParams): Case[] {
  const blocks = splitBlocks(raw.stdout);
  const seen = blocks.map((b) => b.clients);
  if (seen.length !== params.clients.length || seen.some((c, i) => c !== params.clients[i])) {
    throw new ParseError("redis-benchmark", `one CSV block per client count ${JSON.stringify(params.clients)}, in that order`,
      `got blocks for ${JSON.stringify(seen)}\n${raw.stderr}\n${raw.stdout}`);
  }
  return blocks.flatMap((b) => OPS.map((op) => caseOf(b.text, op, b.clients, params)));
}

function splitBlocks(stdout: string): { clients: number; text: string }[] {
  const found = [...stdout.matchAll(/^# virtperf redis clients=(\d+)\s*$/gm)];
  return found.map((m, i) => ({
    clients: Number(m[1]),
    text: stdout.slice(m.index + m[0].length, found[i + 1]?.index ?? stdout.length),
  }));
}

/** redis-benchmark quotes every CSV field; none of its fields holds a comma or a quote. */
const fieldsOf = (line: string): string[] => line.trim().split(",").map((f) => f.replace(/^"(.*)"$/, "$1"));

function caseOf(text: string, op: Op, clients: number, params: RedisParseParams): Case {
  const fail = (expected: string): never => {
    throw new ParseError("redis-benchmark", `${expected} (clients=${clients})`, text);
  };
  const lines = text.split("\n").filter((l) => l.startsWith('"'));
  const header = lines[0] === undefined ? fail("a CSV header line") : fieldsOf(lines[0]);
  const rows = lines.slice(1).map(fieldsOf).filter((f) => f[0] === op.toUpperCase());
  if (rows.length !== 1) fail(`exactly one "${op.toUpperCase()}" row (got ${rows.length})`);
  const row = rows[0]!;
  const value = (metric: keyof typeof COLUMNS): number => {
    const column = header.indexOf(COLUMNS[metric]);
    if (column < 0) fail(`a "${COLUMNS[metric]}" column in the header`);
    const v = row[column] === undefined || row[column] === "" ? NaN : Number(row[column]);
    return Number.isFinite(v) ? v : fail(`a number in "${COLUMNS[metric]}" of the ${op.toUpperCase()} row`);
  };
  const metric = (name: keyof typeof COLUMNS) =>
    ({ name, value: value(name), unit: UNITS[name], better: name === "rps" ? "higher" as const : "lower" as const });
  const metrics = [metric("rps"), metric("latency_avg"), metric("latency_p50"), metric("latency_p99")];
  if (metrics[0]!.value <= 0) fail(`requests served in the ${op.toUpperCase()} row (rps > 0)`);
  return {
    case: caseName(op, clients),
    params: { op, clients, requests: params.requests, keys: params.keys, valueBytes: params.valueBytes },
    metrics,
  };
}
