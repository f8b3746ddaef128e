/**
 * Run metadata for the report's head: when the runs ran, how long, how much of it was measuring, and the
 * host settings that move numbers (cpufreq governor, SMT, NUMA), from the records and facts/host.json.
 */
import type { LoadedInputs } from "./load.ts";
import type { StackRun } from "./compare.ts";
import { num, str } from "./facts-json.ts";
import { parseFacts } from "../model/facts.ts";

export interface RunMeta {
  readonly stack: string;
  readonly profile: string;
  /** First trial start and last trial end (ISO 8601), null without parseable times. */
  readonly first: string | null;
  readonly last: string | null;
  /** last - first, seconds. */
  readonly wallS: number | null;
  /** Sum of trial durations and of the tools' measured steps, seconds. */
  readonly trialS: number;
  readonly toolS: number;
  readonly governor: string;
  readonly smt: string;
  readonly numa: string;
  readonly repetitions: number | null;
  readonly seed: number | null;
}

/** Who wrote the report: virtperf's version and commit (unknown when not in a git checkout). */
export interface ToolInfo {
  readonly version: string;
  readonly commit: string;
}

function hostText(json: unknown): Pick<RunMeta, "governor" | "smt" | "numa"> {
  const host = json ? parseFacts("native", json).facts : undefined;
  if (!host) return { governor: `unknown (${json ? "facts/host.json of another format" : "no facts/host.json"})`, smt: "unknown", numa: "unknown" };
  const gov = str(host.cpufreqGovernor);
  const tpc = num(host.threadsPerCore);
  const list = (host.numa ?? []).map((n) => `${num(n.node) ?? "?"}: ${str(n.cpus) ?? "?"}`);
  return {
    governor: gov ?? "not exposed (no cpufreq in this kernel or VM)",
    smt: tpc === undefined ? "unknown" : tpc > 1 ? `on (${tpc} threads per core)` : "off (1 thread per core)",
    numa: list.length ? `${list.length} node${list.length > 1 ? "s" : ""} (${list.join("; ")})` : "unknown",
  };
}

export function buildMetadata(inputs: LoadedInputs, stacks: readonly StackRun[]): RunMeta[] {
  return stacks.map((st) => {
    const recs = inputs.records.filter((r) => r.record.stack === st.stack && r.record.profile === st.profile).map((r) => r.record);
    let first = Infinity, last = -Infinity, trialS = 0, toolS = 0;
    for (const r of recs) {
      const t = Date.parse(r.startedAt);
      if (Number.isFinite(t)) { first = Math.min(first, t); last = Math.max(last, t + r.durationS * 1000); }
      trialS += r.durationS;
      toolS += r.toolS;
    }
    const facts = st.runs.map((run) => inputs.facts.get(run)).find((f) => f);
    const x = facts?.experiment;
    const timed = Number.isFinite(first);
    return {
      stack: st.stack, profile: st.profile,
      first: timed ? new Date(first).toISOString() : null, last: timed ? new Date(last).toISOString() : null,
      wallS: timed ? (last - first) / 1000 : null, trialS, toolS, ...hostText(facts?.host),
      repetitions: num((x as { repetitions?: unknown } | undefined)?.repetitions) ?? null, seed: num((x as { seed?: unknown } | undefined)?.seed) ?? null,
    };
  });
}
