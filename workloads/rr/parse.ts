/**
 * Parser of sockperf 3 `ping-pong` reports, one per case (tcp, then udp), each after a marker line the run step prints
 * ("# virtperf rr case=tcp"). Pure. sockperf colours some lines with ANSI escapes even into a pipe; they
 * are stripped first. sockperf exits 0 when it could not connect or got no reply, so the content decides.
 *
 * Round trip: the run step passes --full-rtt, so sockperf reports round-trip times ("Summary: Round trip
 * is ... usec"). Without it sockperf reports one-way latency, which it computes as RTT / 2; such a report
 * ("Summary: Latency is ... usec") is accepted and doubled in `toRoundTripUs`, the one conversion here.
 */
import { ParseError } from "../../lib/errors.ts";
import type { Case, RawRun } from "../contract.ts";

export const PROTOCOLS = ["tcp", "udp"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export interface RrParseParams {
  readonly messageBytes: number;
  readonly durationS: number;
}

/** The marker the run step prints before each case's sockperf output. */
export const marker = (protocol: Protocol): string => `# virtperf rr case=${protocol}`;

type Mode = "round-trip" | "one-way";

/** sockperf's figure in the report's mode, as a round-trip time in us. */
const toRoundTripUs = (value: number, mode: Mode): number => (mode === "one-way" ? 2 * value : value);

const ANSI = /\x1b\[[0-9;]*m/g;

export function parseSockperf(raw: RawRun, params: RrParseParams): Case[] {
  const sections = splitSections(raw.stdout.replace(ANSI, ""));
  const seen = sections.map((s) => s.protocol);
  if (seen.length !== PROTOCOLS.length || seen.some((p, i) => p !== PROTOCOLS[i])) {
    throw new ParseError("sockperf", `one report per case ${JSON.stringify(PROTOCOLS)}, in that order`,
      `got ${JSON.stringify(seen)}\n${raw.stderr}\n${raw.stdout}`);
  }
  return sections.map((s) => caseOf(s.text, s.protocol, params));
}

function splitSections(stdout: string): { protocol: Protocol; text: string }[] {
  const found = [...stdout.matchAll(/^# virtperf rr case=(\S+)\s*$/gm)];
  return found.map((m, i) => {
    const protocol = m[1] as Protocol;
    if (!PROTOCOLS.includes(protocol)) throw new ParseError("sockperf", `case tcp or udp in the marker`, m[0]);
    return { protocol, text: stdout.slice(m.index + m[0].length, found[i + 1]?.index ?? stdout.length) };
  });
}

function caseOf(text: string, protocol: Protocol, params: RrParseParams): Case {
  const fail = (expected: string): never => { throw new ParseError("sockperf", `${expected} (case ${protocol})`, text); };
  // Not anchored: when the peer goes away sockperf prints its ERROR in the middle of a line.
  const error = text.match(/sockperf: (ERROR:[^\n]*|No messages were received[^\n]*)/);
  if (error) fail(`a report without errors, got "${error[1]}"`);
  // The connection line names the protocol actually used: "[ 0] IP = 127.0.0.1  PORT = 15101 # TCP".
  const used = text.match(/PORT =\s*\d+ # (TCP|UDP)\s*$/m)?.[1]?.toLowerCase();
  if (used !== protocol) fail(`a ${protocol.toUpperCase()} connection line, got ${used ?? "none"}`);
  const summary = text.match(/^sockperf: Summary: (Round trip|Latency) is ([\d.]+) usec\s*$/m);
  if (!summary) return fail("a 'Summary: Round trip is ... usec' line");
  const mode: Mode = summary[1] === "Round trip" ? "round-trip" : "one-way";
  const valid = text.match(/^sockperf: \[Valid Duration\] RunTime=([\d.]+) sec; SentMessages=(\d+); ReceivedMessages=(\d+)\s*$/m);
  if (!valid) return fail("a '[Valid Duration] RunTime=... ReceivedMessages=...' line");
  const [seconds, received] = [Number(valid[1]), Number(valid[3])];
  if (!(seconds > 0 && received > 0)) fail(`replies in the valid duration (RunTime=${valid[1]}, ReceivedMessages=${valid[3]})`);
  const percentile = (p: string): number => {
    const m = text.match(new RegExp(`^sockperf: ---> percentile ${p.replace(".", "\\.")} =\\s*([\\d.]+)\\s*$`, "m"));
    return m ? toRoundTripUs(Number(m[1]), mode) : fail(`a 'percentile ${p}' line`);
  };
  return {
    case: protocol,
    params: { protocol, messageBytes: params.messageBytes, durationS: params.durationS },
    metrics: [
      { name: "rtt_avg", value: toRoundTripUs(Number(summary[2]), mode), unit: "us", better: "lower" },
      { name: "rtt_p50", value: percentile("50.000"), unit: "us", better: "lower" },
      { name: "rtt_p99", value: percentile("99.000"), unit: "us", better: "lower" },
      // One request in flight at a time: a transaction is one reply received.
      { name: "transactions", value: received / seconds, unit: "transactions/s", better: "higher" },
    ],
  };
}
