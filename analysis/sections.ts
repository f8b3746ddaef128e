/**
 * The report model: page one (overview.ts), the comparison rows grouped into sections by each workload's
 * own `group` (groups.ts), what differs between each section's environments, the curves, the run-order
 * plots, the run metadata, and the cross-host view when several stacks are given.
 * Renderers (render/*.ts) only add syntax to this.
 */
import type { LocatedRecord, LoadedInputs, SkippedLine } from "./load.ts";
import { printable } from "../model/record.ts";
import { compare, environmentOrderOf, type Comparison, type Row, type Params, type StackRun } from "./compare.ts";
import { ASPECT_LABELS, accelerationReasonOf, compareAspects, environmentAspects, type Aspects } from "./facts.ts";
import { processEnvDelta } from "./facts-context.ts";
import { contaminatedTrials, supersededText, type ContaminatedTrial } from "./contamination.ts";
import { REFERENCE_NOTES } from "./reference.ts";
import { GROUPS, GROUP_TITLES, groupOf, type Group } from "./groups.ts";
import { buildCurves, type Curve } from "./curves.ts";
import { buildOverviews, type Overview } from "./overview.ts";
import { buildRunOrder, type RunOrderPlot } from "./runorder.ts";
import { buildMetadata, type RunMeta, type ToolInfo } from "./metadata.ts";
import type { InferOptions } from "./infer.ts";
import { GUEST_KINDS, type KindName } from "../model/kinds.ts";

export type { Curve } from "./curves.ts";

/** One measure (workload, case, metric) of one stack: a row per environment. */
export interface MeasureGroup {
  readonly workload: string;
  readonly case: string;
  readonly params: Params;
  readonly metric: string;
  readonly unit: string;
  readonly better: "higher" | "lower";
  readonly headline: boolean;
  readonly rows: readonly Row[];
}

export interface IsolationNote {
  readonly environment: string;
  readonly label: string;
  readonly reason: string | null;
}

/** Environments whose records carry an isolation label, with its reason, in report order. */
export function isolationNotes(records: readonly LocatedRecord[], envOrder: (a: string, b: string) => number): IsolationNote[] {
  const by = new Map<string, { labels: Set<string>; reasons: Set<string> }>();
  for (const { record: r } of records) {
    if (!r.isolation) continue;
    const e = by.get(r.environment) ?? { labels: new Set<string>(), reasons: new Set<string>() };
    by.set(r.environment, e);
    e.labels.add(r.isolation);
    if (r.isolationReason) e.reasons.add(r.isolationReason);
  }
  return [...by].sort(([a], [b]) => envOrder(a, b)).map(([environment, e]) => ({ environment, label: [...e.labels].join("; "), reason: e.reasons.size ? [...e.reasons].join("; ") : null }));
}

export interface Difference {
  readonly label: string;
  readonly values: readonly (readonly [string, string])[];
}

export interface Section {
  readonly key: Group;
  /** Anchor id for the table of contents. */
  readonly id: string;
  readonly title: string;
  readonly stack: string;
  readonly profile: string;
  readonly workloads: readonly string[];
  readonly environments: readonly string[];
  readonly measures: readonly MeasureGroup[];
  /** The same measures' cells against the environments' references (rows with `against`), grouped alike; empty without references. */
  readonly against: readonly MeasureGroup[];
  readonly differences: readonly Difference[];
  /** Aspects known and identical in all of the section's environments (one value each). */
  readonly sameEverywhere: readonly { readonly label: string; readonly value: string }[];
  /** Environments of the section that ran as TCG guests, and why (null when no record or facts file says). */
  readonly tcg: readonly { readonly environment: string; readonly reason: string | null }[];
  /** Environments of the section with an isolation label (gVisor's runtime), and why (null when no record says). */
  readonly isolation: readonly IsolationNote[];
  readonly notes: readonly string[];
}

/** The same measure and environment on several stacks (hosts), side by side. */
export interface CrossStackRow {
  readonly workload: string;
  readonly case: string;
  readonly metric: string;
  readonly unit: string;
  readonly better: "higher" | "lower";
  readonly environment: string;
  readonly cells: ReadonlyMap<string, Row>;
}

export interface ReportModel {
  readonly comparison: Comparison;
  readonly overviews: readonly Overview[];
  readonly sections: readonly Section[];
  readonly curves: readonly Curve[];
  readonly runOrder: readonly RunOrderPlot[];
  readonly metadata: readonly RunMeta[];
  readonly tool: ToolInfo;
  /** Column labels "stack" (or "stack/profile" when one stack has several profiles). */
  readonly stackColumns: readonly string[];
  readonly crossStack: readonly CrossStackRow[];
  readonly factsProblems: readonly string[];
  readonly sources: readonly string[];
  /** Input lines and files left out, and records counted once; their reasons. */
  readonly skipped: readonly SkippedLine[];
  readonly duplicates: readonly SkippedLine[];
  /** Superseded records that were not flagged (a later attempt of a trial counted instead), one line each. */
  readonly superseded: readonly string[];
  readonly retried: number;
  /** Trials that ran on a busy host: counted (their cells warned) or superseded by another attempt. */
  readonly contaminated: readonly ContaminatedTrial[];
  /** Data conflicts left out of the statistics, one line each. */
  readonly problems: readonly string[];
}

export interface ReportOptionsModel extends InferOptions {
  readonly tool?: ToolInfo;
}

function groupMeasures(rows: readonly Row[]): MeasureGroup[] {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const key = `${r.workload}\u0000${r.case}\u0000${r.metric}`;
    const g = groups.get(key);
    if (g) g.push(r); else groups.set(key, [r]);
  }
  return [...groups.values()].map((rs) => {
    const r = rs[0]!;
    return { workload: r.workload, case: r.case, params: r.params, metric: r.metric, unit: r.unit, better: r.better, headline: r.role === "headline", rows: rs };
  });
}

/** The facts of the run an environment's records (of these) belong to. */
function factsOf(inputs: LoadedInputs, records: readonly LocatedRecord[], environment: string) {
  const run = records.find((r) => r.record.environment === environment)?.record.run;
  return run ? inputs.facts.get(run) : undefined;
}

/**
 * A guest's acceleration reason from its facts file where no record carries one (records from before
 * `accelerationReason`, a facts file written later). Rows without one had no record that says.
 */
function withFactsReasons(comparison: Comparison, inputs: LoadedInputs): Comparison {
  const reasons = new Map<string, string | null>();
  const reasonOf = (r: Row) => {
    const k = `${r.stack}\u0000${r.profile}\u0000${r.environment}`;
    if (!reasons.has(k)) {
      const runs = comparison.stacks.find((s) => s.stack === r.stack && s.profile === r.profile)?.runs ?? [];
      reasons.set(k, runs.map((run) => accelerationReasonOf(r.environment, inputs.facts.get(run), [])).find((x) => x !== null) ?? null);
    }
    return reasons.get(k)!;
  };
  const guest = (r: Row) => GUEST_KINDS.includes(r.kind as KindName);
  if (!comparison.rows.some((r) => r.accelerationReason === null && guest(r))) return comparison;
  return { ...comparison, rows: comparison.rows.map((r) => (r.accelerationReason === null && guest(r) && reasonOf(r) !== null ? { ...r, accelerationReason: reasonOf(r) } : r)) };
}

function sectionAspects(environments: readonly string[], records: readonly LocatedRecord[], inputs: LoadedInputs): Pick<Section, "differences" | "sameEverywhere"> {
  const byEnv = new Map<string, Aspects>();
  for (const env of environments) {
    const mine = records.filter((r) => r.record.environment === env);
    const run = mine[0]?.record.run;
    byEnv.set(env, environmentAspects(env, run ? inputs.facts.get(run) : undefined, mine));
  }
  const { differing, same } = compareAspects(byEnv);
  const sameEverywhere = same.map((d) => ({ label: ASPECT_LABELS[d.key], value: [...d.values.values()][0]! }));
  const differences = differing.map((d) => {
    if (d.key !== "processEnv") return { label: ASPECT_LABELS[d.key], values: [...d.values] };
    // The variables all share go to the "same in all" list; each environment shows what it has beyond them.
    const delta = processEnvDelta(d.values);
    if (delta.shared) sameEverywhere.push({ label: `${ASPECT_LABELS.processEnv}, shared`, value: delta.shared });
    return { label: ASPECT_LABELS[d.key], values: [...delta.values] };
  });
  return { differences, sameEverywhere };
}

/** Items grouped by stack, profile and group, in one pass (the 100,000-record report needs it). */
function byGroup<T>(items: readonly T[], key: (t: T) => [string, string, string]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const t of items) {
    const [stack, profile, workload] = key(t);
    const k = `${stack}\u0000${profile}\u0000${groupOf(workload)}`;
    const list = out.get(k);
    if (list) list.push(t); else out.set(k, [t]);
  }
  return out;
}

function buildSections(comparison: Comparison, inputs: LoadedInputs, envOrder: (a: string, b: string) => number, notMeasured: readonly NotMeasuredPair[]): Section[] {
  const out: Section[] = [];
  const rowsBy = byGroup(comparison.rows, (r) => [r.stack, r.profile, r.workload]);
  const againstBy = byGroup(comparison.against, (r) => [r.stack, r.profile, r.workload]);
  const recordsBy = byGroup(inputs.records, (r) => [r.record.stack, r.record.profile, r.record.workload]);
  comparison.stacks.forEach((st, si) => {
    for (const group of GROUPS) {
      const k = `${st.stack}\u0000${st.profile}\u0000${group}`;
      const rows = rowsBy.get(k) ?? [];
      const records = recordsBy.get(k) ?? [];
      const workloads = [...new Set([...rows.map((r) => r.workload), ...st.failures.map((f) => f.workload).filter((w) => groupOf(w) === group)])];
      if (workloads.length === 0) continue;
      const tcg = [...new Set(records.filter((r) => r.record.acceleration === "tcg").map((r) => r.record.environment))].sort(envOrder)
        .map((environment) => ({ environment, reason: accelerationReasonOf(environment, factsOf(inputs, records, environment), records) }));
      const notes = [...notMeasuredNotes(notMeasured, st.stack, group), ...workloads.map((w) => REFERENCE_NOTES[w as keyof typeof REFERENCE_NOTES]).filter((n): n is string => !!n)];
      out.push({
        key: group, id: `s${si}-${group}`, title: GROUP_TITLES[group], stack: st.stack, profile: st.profile, workloads, environments: st.environments,
        measures: groupMeasures(rows), against: groupMeasures(againstBy.get(k) ?? []), ...sectionAspects(st.environments, records, inputs), tcg,
        isolation: isolationNotes(records, envOrder), notes,
      });
    }
  });
  return out;
}

function stackLabel(st: StackRun, multiProfile: boolean): string {
  return multiProfile ? `${st.stack}/${st.profile}` : st.stack;
}

function buildCrossStack(comparison: Comparison): { columns: string[]; rows: CrossStackRow[] } {
  const names = comparison.stacks.map((s) => s.stack);
  const multiProfile = new Set(names).size !== names.length;
  const columns = comparison.stacks.map((s) => stackLabel(s, multiProfile));
  if (comparison.stacks.length < 2) return { columns, rows: [] };
  const byKey = new Map<string, CrossStackRow & { cells: Map<string, Row> }>();
  for (const row of comparison.rows) {
    const key = [row.workload, row.case, row.metric, row.environment].join("\u0000");
    let x = byKey.get(key);
    if (!x) byKey.set(key, (x = { workload: row.workload, case: row.case, metric: row.metric, unit: row.unit, better: row.better, environment: row.environment, cells: new Map() }));
    const st = comparison.stacks.find((s) => s.stack === row.stack && s.profile === row.profile)!;
    x.cells.set(stackLabel(st, multiProfile), row);
  }
  // Headline measures only: the cross-host view answers the study's question per host.
  return { columns, rows: [...byKey.values()].filter((r) => [...r.cells.values()].some((c) => c.verdict !== "baseline" && c.role === "headline")) };
}

export interface NotMeasuredPair {
  readonly stack: string;
  readonly environment: string;
  readonly workload: string;
  readonly reason: string;
}

/**
 * Pairs the planner left out of the schedule (experiment.json's `notMeasured`), of every run folder read;
 * entries that are not {environment, workload, reason} strings are ignored (a hand-edited file never breaks the report).
 */
export function notMeasuredPairs(inputs: LoadedInputs): NotMeasuredPair[] {
  const out = new Map<string, NotMeasuredPair>();
  for (const f of inputs.facts.values()) {
    const stack = (f.experiment as { stack?: unknown } | undefined)?.stack;
    if (typeof stack !== "string" || !Array.isArray(f.notMeasured)) continue;
    for (const n of f.notMeasured as unknown[]) {
      const { environment, workload, reason } = (n ?? {}) as Record<string, unknown>;
      if (typeof environment !== "string" || typeof workload !== "string" || typeof reason !== "string") continue;
      out.set(`${stack}\u0000${environment}\u0000${workload}`, { stack, environment: printable(environment, 100), workload: printable(workload, 100), reason: printable(reason, 600) });
    }
  }
  return [...out.values()];
}

/** One note per left-out pair of the section's stack and group: "Not measured: nuttcp on gvisor (why)". */
function notMeasuredNotes(pairs: readonly NotMeasuredPair[], stack: string, group: string): string[] {
  return pairs.filter((n) => n.stack === stack && groupOf(n.workload) === group)
    .map((n) => `Not measured: ${n.workload} on ${n.environment}, left out of the schedule: ${n.reason}.`);
}

/**
 * Margins a stack set (experiment.json's `margins`: group -> percent, e.g. { cpu: 2, io: 5 }), from the
 * first run folder that has them; `virtperf report --margin` overrides them.
 */
function stackMargins(inputs: LoadedInputs): Record<string, number> {
  for (const f of inputs.facts.values()) {
    const m = (f.experiment as { margins?: unknown } | undefined)?.margins;
    if (m && typeof m === "object") return Object.fromEntries(Object.entries(m).filter(([, v]) => typeof v === "number").map(([g, v]) => [g, (v as number) / 100]));
  }
  return {};
}

/** Everything the renderers need, from loaded inputs. */
export function buildReport(inputs: LoadedInputs, options: ReportOptionsModel = {}): ReportModel {
  const notMeasured = notMeasuredPairs(inputs);
  const comparison = withFactsReasons(compare(inputs.records, { ...options, margins: { ...stackMargins(inputs), ...options.margins }, notMeasured }), inputs);
  const kinds = new Map(inputs.records.map((r) => [r.record.environment, r.record.kind] as const));
  const envOrder = environmentOrderOf(kinds);
  const cross = buildCrossStack(comparison);
  const factsProblems = [...new Set([...inputs.facts.values()].flatMap((f) => f.unreadable))];
  return {
    comparison, overviews: buildOverviews(comparison.rows, comparison.stacks, comparison.against), sections: buildSections(comparison, inputs, envOrder, notMeasured),
    curves: buildCurves(comparison.rows, envOrder), runOrder: buildRunOrder(comparison.rows, comparison.stacks, inputs.records, inputs.superseded.map((s) => s.record)),
    metadata: buildMetadata(inputs, comparison.stacks), tool: options.tool ?? { version: "unknown", commit: "unknown" },
    stackColumns: cross.columns, crossStack: cross.rows, factsProblems, sources: inputs.sources,
    skipped: inputs.skipped, duplicates: inputs.duplicates, superseded: supersededText(inputs), retried: inputs.retried, problems: comparison.problems,
    contaminated: contaminatedTrials(inputs),
  };
}
