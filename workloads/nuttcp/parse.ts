/**
 * Parser of nuttcp 6 `-fparse` output, one line per direction. Pure. The run step labels each
 * transfer with `-I <label>`, so a line reads
 *   client_to_server: megabytes=1168.4968 real_seconds=1.03 rate_Mbps=9543.3227 tx_cpu=23 rx_cpu=25 retrans=0 rtt_ms=0.09
 * nuttcp's "megabytes" are MiB (2^20 B) and its "Mbps" are 10^6 bit/s; throughput is reported in
 * Gbit/s (10^9 bit/s), converted in `gbitPerS` only.
 */
import { ParseError } from "../../lib/errors.ts";
import type { Case, RawRun } from "../contract.ts";

export const DIRECTIONS = ["client-to-server", "server-to-client"] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** The `-I` label of a direction (nuttcp identifiers: no dashes needed, underscores read well). */
export const labelOf = (d: Direction): string => d.replace(/-/g, "_");

export interface NuttcpParseParams {
  readonly durationS: number;
}

/** A transfer shorter than this share of -T ended early. */
const MIN_FRACTION_OF_DURATION = 0.9;

/** nuttcp's rate_Mbps (10^6 bit/s) in Gbit/s (10^9 bit/s): the one unit conversion of this parser. */
const gbitPerS = (rateMbps: number): number => rateMbps / 1000;

export function parseNuttcp(raw: RawRun, params: NuttcpParseParams): Case[] {
  return DIRECTIONS.map((direction) => caseOf(raw, direction, params));
}

function caseOf(raw: RawRun, direction: Direction, params: NuttcpParseParams): Case {
  const fields = fieldsOf(raw, direction);
  const num = (key: string): number => {
    const v = fields.get(key) === undefined ? NaN : Number(fields.get(key));
    if (!Number.isFinite(v)) {
      throw new ParseError("nuttcp", `${key}=<number> on the ${direction} line`, `${raw.stdout}\n${raw.stderr}`);
    }
    return v;
  };
  const megabytes = num("megabytes");
  const seconds = num("real_seconds");
  const rate = num("rate_Mbps");
  // A transfer that moved nothing is a failure (e.g. the data connection never opened), not a 0 Gbit/s result.
  if (megabytes <= 0 || seconds <= 0 || rate <= 0) {
    throw new ParseError("nuttcp", `data moved ${direction} (megabytes, real_seconds, rate_Mbps > 0)`, `${raw.stdout}\n${raw.stderr}`);
  }
  // nuttcp exits 0 and prints a short line when the other end goes away mid-transfer (checked by
  // killing the server): a transfer that stopped well before -T is not a measurement.
  if (seconds < MIN_FRACTION_OF_DURATION * params.durationS) {
    throw new ParseError("nuttcp", `a ${direction} transfer of about ${params.durationS} s (got real_seconds=${seconds})`, `${raw.stdout}\n${raw.stderr}`);
  }
  return {
    case: direction,
    params: { direction, durationS: params.durationS, streams: 1, protocol: "tcp" },
    metrics: [
      { name: "throughput", value: gbitPerS(rate), unit: "Gbit/s", better: "higher" },
      { name: "retransmits", value: num("retrans"), unit: "segments", better: "lower" },
    ],
  };
}

/** The key=value fields of the single line labelled for `direction`. */
function fieldsOf(raw: RawRun, direction: Direction): Map<string, string> {
  const label = labelOf(direction);
  const lines = raw.stdout.split("\n").filter((l) => l.startsWith(`${label}: `));
  if (lines.length !== 1) {
    throw new ParseError("nuttcp", `exactly one '${label}: megabytes=...' line (got ${lines.length})`, `${raw.stdout}\n${raw.stderr}`);
  }
  const pairs = lines[0]!.slice(label.length + 2).trim().split(/\s+/).map((kv) => kv.split("="));
  return new Map(pairs.filter((kv) => kv.length === 2).map(([k, v]) => [k!, v!]));
}
