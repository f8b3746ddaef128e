/**
 * Page one: "overhead at a glance". One row per headline metric, one column per environment, every
 * number oriented as performance against native (> 1 is better, whatever the metric's direction), the
 * study's ratio beside ours with "consistent with the study?", and a geometric-mean row per environment.
 * A/A calibration copies are no columns: native's copy is each row's noise floor.
 */
import normalQuantile from "@stdlib/stats-base-dists-normal-quantile";
import type { Row, StackRun } from "./compare.ts";
import { HEADLINES } from "./headline.ts";

export interface Perf {
  /** Performance against native: the ratio, or its inverse for a lower-is-better metric. */
  readonly value: number;
  readonly low: number | null;
  readonly high: number | null;
}

export interface OverviewCell {
  readonly row: Row;
  readonly perf: Perf | null;
  /** The study's performance ratio (a figure, or the middle of its range) and its range, oriented alike. */
  readonly study: { readonly value: number; readonly range: readonly [number, number] | null } | null;
  /** Our interval contains the study's figure (overlaps its range); null without both or for a TCG guest. */
  readonly consistent: boolean | null;
  readonly tcg: boolean;
}

export interface OverviewRow {
  readonly label: string;
  readonly position: number;
  readonly workload: string;
  readonly case: string;
  readonly metric: string;
  readonly unit: string;
  readonly better: "higher" | "lower";
  readonly native: Row | null;
  /** Native's A/A copy: its interval is the row's noise floor; null without calibration. */
  readonly noise: Row | null;
  readonly cells: ReadonlyMap<string, OverviewCell>;
}

export interface GeoMean {
  readonly environment: string;
  readonly perf: Perf | null;
  /** Headline metrics in the mean, and those with an interval. */
  readonly count: number;
  readonly withInterval: number;
  readonly tcg: boolean;
}

/** One environment against one of its references (gVisor against the same container on runc), per headline metric. */
export interface AgainstColumn {
  readonly environment: string;
  readonly reference: string;
  /** Headline position -> the row of the environment's cell against the reference. */
  readonly cells: ReadonlyMap<number, Row>;
  readonly geomean: GeoMean;
}

export interface Overview {
  readonly stack: string;
  readonly profile: string;
  readonly baseline: string | null;
  /** Environments other than the baseline, in report order. */
  readonly environments: readonly string[];
  readonly rows: readonly OverviewRow[];
  readonly geomean: readonly GeoMean[];
  /** The stack's reference comparisons on the headline metrics (empty without any). */
  readonly against: readonly AgainstColumn[];
}

/** Performance orientation of a row's ratio and interval (lower-is-better metrics are inverted). */
export function perfOf(r: Pick<Row, "ratio" | "ratioLow" | "ratioHigh" | "better">): Perf | null {
  if (r.ratio === null || !(r.ratio > 0)) return null;
  if (r.better === "higher") return { value: r.ratio, low: r.ratioLow, high: r.ratioHigh };
  return { value: 1 / r.ratio, low: r.ratioHigh === null ? null : 1 / r.ratioHigh, high: r.ratioLow === null ? null : 1 / r.ratioLow };
}

function studyOf(r: Row): OverviewCell["study"] {
  if (!r.reference) return null;
  const inv = (v: number) => (r.better === "higher" ? v : 1 / v);
  const range = r.reference.range ? [inv(r.reference.range[0]), inv(r.reference.range[1])].sort((a, b) => a - b) as [number, number] : null;
  return { value: inv(r.reference.ratio), range };
}

function consistentOf(perf: Perf | null, study: OverviewCell["study"], tcg: boolean): boolean | null {
  if (tcg || !perf || !study || perf.low === null || perf.high === null) return null;
  if (study.range) return perf.low <= study.range[1] && study.range[0] <= perf.high;
  return perf.low <= study.value && study.value <= perf.high;
}

/**
 * Geometric mean of the performance ratios, with an approximate interval: each cell's log half-width
 * turned into a standard error by its own level (normal quantile), combined as independent.
 */
function geomean(cells: readonly OverviewCell[], environment: string): GeoMean {
  const perfs = cells.map((c) => c.perf).filter((p): p is Perf => p !== null);
  const tcg = cells.some((c) => c.tcg);
  if (perfs.length === 0) return { environment, perf: null, count: 0, withInterval: 0, tcg };
  const logMean = perfs.reduce((s, p) => s + Math.log(p.value), 0) / perfs.length;
  const withCi = cells.filter((c) => c.perf?.low != null && c.perf.high != null && c.row.ratioLevel !== null);
  let perf: Perf = { value: Math.exp(logMean), low: null, high: null };
  if (withCi.length === perfs.length) {
    const variance = withCi.reduce((s, c) => {
      const z = normalQuantile(1 - (1 - c.row.ratioLevel!) / 2, 0, 1);
      const se = (Math.log(c.perf!.high!) - Math.log(c.perf!.low!)) / (2 * z);
      return s + se * se;
    }, 0) / (perfs.length * perfs.length);
    const half = 1.959963984540054 * Math.sqrt(variance);
    perf = { value: perf.value, low: Math.exp(logMean - half), high: Math.exp(logMean + half) };
  }
  return { environment, perf, count: perfs.length, withInterval: withCi.length, tcg };
}

function cellOf(r: Row): OverviewCell {
  const tcg = r.warnings.includes("tcg-guest");
  return { row: r, perf: perfOf(r), study: null, consistent: null, tcg };
}

/** The stack's reference comparisons, one column per (environment, reference), from the headline rows against them. */
function againstColumns(st: StackRun, against: readonly Row[]): AgainstColumn[] {
  const mine = against.filter((r) => r.stack === st.stack && r.profile === st.profile && r.headline);
  return st.references.map(({ environment, reference }) => {
    const rs = mine.filter((r) => r.environment === environment && r.against === reference);
    const g = geomean(rs.map(cellOf), environment);
    return { environment, reference, cells: new Map(rs.map((r) => [r.headline!.position, r])), geomean: g };
  }).filter((c) => c.cells.size > 0);
}

/** Page one of each stack, from its headline rows (and the headline rows against reference environments). */
export function buildOverviews(rows: readonly Row[], stacks: readonly StackRun[], against: readonly Row[] = []): Overview[] {
  return stacks.map((st) => {
    const mine = rows.filter((r) => r.stack === st.stack && r.profile === st.profile && r.headline);
    const copies = new Set(st.calibration.map((c) => c.copy));
    const nativeCopy = st.calibration.find((c) => c.of === st.baseline)?.copy;
    const environments = st.environments.filter((e) => e !== st.baseline && !copies.has(e));
    const byPos = new Map<number, Row[]>();
    for (const r of mine) byPos.set(r.headline!.position, [...(byPos.get(r.headline!.position) ?? []), r]);
    const out: OverviewRow[] = [...byPos.entries()].sort(([a], [b]) => a - b).map(([position, rs]) => {
      const r0 = rs[0]!;
      const cells = new Map<string, OverviewCell>();
      for (const r of rs) {
        if (r.environment === st.baseline || copies.has(r.environment)) continue;
        const tcg = r.warnings.includes("tcg-guest");
        const perf = perfOf(r);
        const study = tcg ? null : studyOf(r);
        cells.set(r.environment, { row: r, perf, study, consistent: consistentOf(perf, study, tcg), tcg });
      }
      return {
        label: HEADLINES[position]!.label, position, workload: r0.workload, case: r0.case, metric: r0.metric, unit: r0.unit, better: r0.better,
        native: rs.find((r) => r.environment === st.baseline) ?? null, noise: rs.find((r) => r.environment === nativeCopy) ?? null, cells,
      };
    });
    const geo = environments.map((env) => geomean(out.flatMap((o) => { const c = o.cells.get(env); return c ? [c] : []; }), env));
    return { stack: st.stack, profile: st.profile, baseline: st.baseline, environments, rows: out, geomean: geo, against: againstColumns(st, against) };
  });
}
