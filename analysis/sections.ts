/**
 * The report model: the comparison rows grouped the way the study presents them (CPU and memory,
 * network, block I/O, Redis, MySQL), what differs between each section's environments, the
 * throughput-versus-concurrency curves, and the cross-host view when several stacks are given.
 * Renderers (render/*.ts) only add syntax to this.
 */
import type { LocatedRecord, LoadedInputs } from "./load.ts";
import { compare, environmentOrder, type Comparison, type Row, type Params, type StackRun } from "./compare.ts";
import { ASPECT_LABELS, compareAspects, environmentAspects, type Aspects } from "./facts.ts";
import { REFERENCE_NOTES } from "./reference.ts";

export type SectionKey = "cpu" | "network" | "io" | "redis" | "mysql";

export const SECTIONS: readonly { key: SectionKey; title: string; workloads: readonly string[] }[] = [
  { key: "cpu", title: "CPU and memory", workloads: ["xz", "linpack", "stream", "randomaccess"] },
  { key: "network", title: "Network", workloads: ["nuttcp", "rr"] },
  { key: "io", title: "Block I/O (fio)", workloads: ["fio"] },
  { key: "redis", title: "Redis", workloads: ["redis"] },
  { key: "mysql", title: "MySQL", workloads: ["mysql"] },
];

/** One measure (workload, case, metric) of one stack: a row per environment. */
export interface MeasureGroup {
  readonly workload: string;
  readonly case: string;
  readonly params: Params;
  readonly metric: string;
  readonly unit: string;
  readonly better: "higher" | "lower";
  readonly rows: readonly Row[];
}

export interface Difference {
  readonly label: string;
  readonly values: readonly (readonly [string, string])[];
}

export interface Section {
  readonly key: SectionKey;
  readonly title: string;
  readonly stack: string;
  readonly profile: string;
  readonly workloads: readonly string[];
  readonly environments: readonly string[];
  readonly measures: readonly MeasureGroup[];
  readonly differences: readonly Difference[];
  /** Aspects known and identical in all of the section's environments (one value each). */
  readonly sameEverywhere: readonly { readonly label: string; readonly value: string }[];
  /** Environments of the section that ran as TCG guests. */
  readonly tcgEnvironments: readonly string[];
  readonly notes: readonly string[];
}

/** One line of a throughput/latency-versus-concurrency chart: an environment's medians over x. */
export interface Curve {
  readonly stack: string;
  readonly profile: string;
  readonly workload: string;
  /** What the line set varies besides concurrency (e.g. the Redis operation). */
  readonly series: string;
  readonly metric: string;
  readonly unit: string;
  readonly better: "higher" | "lower";
  readonly xName: string;
  readonly lines: readonly { readonly environment: string; readonly points: readonly { readonly x: number; readonly row: Row }[] }[];
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
  readonly sections: readonly Section[];
  readonly curves: readonly Curve[];
  /** Column labels "stack" (or "stack/profile" when one stack has several profiles). */
  readonly stackColumns: readonly string[];
  readonly crossStack: readonly CrossStackRow[];
  readonly factsProblems: readonly string[];
  readonly sources: readonly string[];
}

const CONCURRENCY_KEYS = ["clients", "threads", "connections", "concurrency"] as const;

export function concurrencyOf(params: Params): { name: string; x: number } | undefined {
  for (const key of CONCURRENCY_KEYS) {
    const v = params[key];
    if (typeof v === "number") return { name: key, x: v };
  }
  return undefined;
}

function seriesOf(kase: string, params: Params): string {
  const op = params["op"] ?? params["test"] ?? params["mode"];
  return typeof op === "string" ? op : kase.replace(/[-_]?[a-z]?\d+$/i, "");
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
    return { workload: r.workload, case: r.case, params: r.params, metric: r.metric, unit: r.unit, better: r.better, rows: rs };
  });
}

function sectionAspects(environments: readonly string[], records: readonly LocatedRecord[], inputs: LoadedInputs): Pick<Section, "differences" | "sameEverywhere"> {
  const byEnv = new Map<string, Aspects>();
  for (const env of environments) {
    const mine = records.filter((r) => r.record.environment === env);
    const run = mine[0]?.record.run;
    byEnv.set(env, environmentAspects(env, run ? inputs.facts.get(run) : undefined, mine));
  }
  const { differing, same } = compareAspects(byEnv);
  return {
    differences: differing.map((d) => ({ label: ASPECT_LABELS[d.key], values: [...d.values] })),
    sameEverywhere: same.map((d) => ({ label: ASPECT_LABELS[d.key], value: [...d.values.values()][0]! })),
  };
}

/** Items grouped by stack, profile and section, in one pass (the 100,000-record report needs it). */
function bySection<T>(items: readonly T[], key: (t: T) => [string, string, string]): Map<string, T[]> {
  const sectionOf = new Map(SECTIONS.flatMap((d) => d.workloads.map((w) => [w, d.key] as const)));
  const out = new Map<string, T[]>();
  for (const t of items) {
    const [stack, profile, workload] = key(t);
    const k = `${stack}\u0000${profile}\u0000${sectionOf.get(workload)}`;
    const list = out.get(k);
    if (list) list.push(t); else out.set(k, [t]);
  }
  return out;
}

function buildSections(comparison: Comparison, inputs: LoadedInputs): Section[] {
  const out: Section[] = [];
  const rowsBy = bySection(comparison.rows, (r) => [r.stack, r.profile, r.workload]);
  const recordsBy = bySection(inputs.records, (r) => [r.record.stack, r.record.profile, r.record.workload]);
  for (const st of comparison.stacks) {
    for (const def of SECTIONS) {
      const k = `${st.stack}\u0000${st.profile}\u0000${def.key}`;
      const rows = rowsBy.get(k) ?? [];
      const failedHere = st.failures.some((f) => def.workloads.includes(f.workload));
      if (rows.length === 0 && !failedHere) continue;
      const records = recordsBy.get(k) ?? [];
      const environments = st.environments;
      const tcg = [...new Set(records.filter((r) => r.record.acceleration === "tcg").map((r) => r.record.environment))].sort(environmentOrder);
      const notes = def.workloads.map((w) => REFERENCE_NOTES[w as keyof typeof REFERENCE_NOTES]).filter((n): n is string => !!n);
      out.push({
        key: def.key, title: def.title, stack: st.stack, profile: st.profile, workloads: def.workloads, environments, measures: groupMeasures(rows),
        ...sectionAspects(environments, records, inputs), tcgEnvironments: tcg, notes,
      });
    }
  }
  return out;
}

function buildCurves(comparison: Comparison): Curve[] {
  const curves = new Map<string, { c: Omit<Curve, "lines">; lines: Map<string, { x: number; row: Row }[]> }>();
  for (const row of comparison.rows) {
    if (row.workload !== "redis" && row.workload !== "mysql") continue;
    const conc = concurrencyOf(row.params);
    if (!conc || row.median === null) continue;
    const series = seriesOf(row.case, row.params);
    const key = [row.stack, row.profile, row.workload, series, row.metric].join("\u0000");
    let entry = curves.get(key);
    if (!entry) curves.set(key, (entry = { c: { stack: row.stack, profile: row.profile, workload: row.workload, series, metric: row.metric, unit: row.unit, better: row.better, xName: conc.name }, lines: new Map() }));
    const pts = entry.lines.get(row.environment) ?? [];
    pts.push({ x: conc.x, row });
    entry.lines.set(row.environment, pts);
  }
  // Throughput (higher is better) before latency, as the study's figures.
  return [...curves.values()].sort((a, b) => (a.c.better === b.c.better ? 0 : a.c.better === "higher" ? -1 : 1)).map(({ c, lines }) => ({
    ...c,
    lines: [...lines].sort(([a], [b]) => environmentOrder(a, b)).map(([environment, points]) => ({ environment, points: points.sort((p, q) => p.x - q.x) })),
  }));
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
  return { columns, rows: [...byKey.values()].filter((r) => r.environment !== "native" && [...r.cells.values()].some((c) => c.verdict !== "baseline")) };
}

/** Everything the renderers need, from loaded inputs. */
export function buildReport(inputs: LoadedInputs): ReportModel {
  const comparison = compare(inputs.records);
  const cross = buildCrossStack(comparison);
  const factsProblems = [...new Set([...inputs.facts.values()].flatMap((f) => f.unreadable))];
  return {
    comparison, sections: buildSections(comparison, inputs), curves: buildCurves(comparison),
    stackColumns: cross.columns, crossStack: cross.rows, factsProblems, sources: inputs.sources,
  };
}
