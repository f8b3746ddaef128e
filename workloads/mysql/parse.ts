/**
 * Parser of sysbench 1.0 `oltp_read_only run` reports, one report per thread count, printed one after
 * another by the run step. Pure. Each report starts with sysbench's banner line ("sysbench 1.0.20 ...")
 * and names its thread count ("Number of threads: 8"); the reports must come in the order of
 * `params.threads`, each complete.
 */
import { ParseError } from "../../lib/errors.ts";
import type { Case, RawRun } from "../contract.ts";

export interface MysqlParseParams {
  readonly threads: readonly number[];
  readonly tableSize: number;
  readonly tables: number;
  readonly durationS: number;
  readonly bufferPoolMiB: number;
}

export const caseName = (threads: number): string => `oltp-ro-t${threads}`;

export function parseSysbench(raw: RawRun, params: MysqlParseParams): Case[] {
  const reports = splitReports(raw.stdout);
  const seen = reports.map((r) => threadsOf(r));
  if (seen.length !== params.threads.length || seen.some((t, i) => t !== params.threads[i])) {
    throw new ParseError("sysbench", `one report per thread count ${JSON.stringify(params.threads)}, in that order`,
      `got reports for ${JSON.stringify(seen)}\n${raw.stderr}\n${raw.stdout}`);
  }
  return reports.map((report, i) => caseOf(report, seen[i]!, params));
}

/** Splits stdout at sysbench's banner; text before the first banner is ignored. */
function splitReports(stdout: string): string[] {
  const starts = [...stdout.matchAll(/^sysbench \d+\.\d+/gm)].map((m) => m.index);
  return starts.map((s, i) => stdout.slice(s, starts[i + 1] ?? stdout.length));
}

function threadsOf(report: string): number {
  return numberAfter(report, /^Number of threads:\s+(\d+)\s*$/m, "a line 'Number of threads: N'");
}

function caseOf(report: string, threads: number, params: MysqlParseParams): Case {
  const fatal = report.match(/^FATAL:.*$/m);
  if (fatal) throw new ParseError("sysbench", `a report without errors at ${threads} threads`, fatal[0]);
  const events = numberAfter(report, /^\s+total number of events:\s+(\d+)\s*$/m, `the total number of events at ${threads} threads`);
  if (events <= 0) throw new ParseError("sysbench", `transactions at ${threads} threads`, `total number of events: ${events}`);
  const where = ` at ${threads} threads`;
  return {
    case: caseName(threads),
    params: {
      threads, tableSize: params.tableSize, tables: params.tables, durationS: params.durationS,
      bufferPoolMiB: params.bufferPoolMiB, test: "oltp_read_only",
    },
    metrics: [
      { name: "tps", value: numberAfter(report, /^\s+transactions:\s+\d+\s+\(([\d.]+) per sec\.\)/m, `transactions per sec.${where}`), unit: "transactions/s", better: "higher" },
      { name: "qps", value: numberAfter(report, /^\s+queries:\s+\d+\s+\(([\d.]+) per sec\.\)/m, `queries per sec.${where}`), unit: "queries/s", better: "higher" },
      { name: "latency_avg", value: numberAfter(latencySection(report, threads), /^\s+avg:\s+([\d.]+)\s*$/m, `avg latency${where}`), unit: "ms", better: "lower" },
      { name: "latency_p95", value: numberAfter(latencySection(report, threads), /^\s+95th percentile:\s+([\d.]+)\s*$/m, `95th percentile latency${where} (--percentile=95)`), unit: "ms", better: "lower" },
    ],
  };
}

/** The "Latency (ms):" block, so "avg:" cannot match the fairness lines below it. */
function latencySection(report: string, threads: number): string {
  const start = report.indexOf("Latency (ms):");
  if (start < 0) throw new ParseError("sysbench", `a 'Latency (ms):' section at ${threads} threads`, report);
  const end = report.indexOf("Threads fairness:", start);
  return report.slice(start, end < 0 ? undefined : end);
}

function numberAfter(text: string, re: RegExp, expected: string): number {
  const m = text.match(re);
  const v = m?.[1] === undefined ? NaN : Number(m[1]);
  if (!Number.isFinite(v)) throw new ParseError("sysbench", expected, text);
  return v;
}
