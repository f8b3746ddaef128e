/**
 * Trial records -> one comparison model: a row per (stack, profile, workload, case, metric, environment)
 * with its statistics, its ratio to native and a statement. Every renderer reads this model; none computes.
 *
 * Rules: failed and warm-up trials never enter statistics (failed ones are counted and flagged); an
 * environment of the stack with no successful trial of a measure still gets a row, marked as a gap;
 * one metric (workload, case, metric) must carry one unit and one direction in every record (a record
 * that disagrees with the first one seen is left out of that metric, and the conflict is listed).
 * Trials that ran on a busy host (their record's contamination check flagged them) DO enter the
 * statistics: leaving them out would choose data after seeing it, and a busy host is a fact of the run.
 * Their cell is warned and names them; a clean retry of the same trial replaces a flagged record before
 * this step (the single reader's choice, workloads/record.ts dedupeTrials). An A/A calibration copy
 * (`calibrationOf`) is compared with its original, not with native, and is never judged (calibration.ts
 * turns native's copy into each measure's noise floor).
 * The inference (ratio, interval, p, verdict, equivalence) is infer.ts; the environment order takes
 * kinds from the records, so nothing here depends on the stacks' presets.
 */
import { WORKLOAD_IDS } from "../workloads/contract.ts";
import type { LocatedRecord } from "./load.ts";
import { compareShift, sorted, summarize, type ShiftComparison } from "./stats.ts";
import { HIGH_CV, type WarningCode } from "./warnings.ts";
import { groupOf, type Group } from "./groups.ts";
import { infer, type Family, type InferOptions } from "./infer.ts";
import { withNoiseFloor } from "./calibration.ts";
import type { ReferenceCell } from "./reference.ts";

export type Verdict = "faster" | "slower" | "indistinguishable" | "baseline";
export type Better = "higher" | "lower";
export type Params = Readonly<Record<string, string | number | boolean>>;

/** A value of a cell whose trial ran on a busy host: its index in `values`, its schedule position, why. */
export interface ContaminatedValue {
  readonly index: number;
  readonly order: number;
  readonly reasons: readonly string[];
}

export interface Row {
  readonly stack: string;
  readonly profile: string;
  readonly workload: string;
  readonly group: Group;
  readonly case: string;
  readonly params: Params;
  readonly metric: string;
  readonly unit: string;
  readonly better: Better;
  readonly environment: string;
  readonly kind: string;
  /** Accelerations of the trials in the cell ("none", "kvm", "tcg", or several joined by "+"). */
  readonly acceleration: string;
  /** Why the environment's trials ran with that acceleration (a guest's KVM proof), "; "-joined; null when no record says. */
  readonly accelerationReason: string | null;
  /** A/A calibration: the environment this one is an identical copy of. Its ratio is against that one, never native. */
  readonly calibrationOf: string | null;
  /**
   * The reference environment this row's ratio is against, one its records name (`references`: gVisor
   * against the same container on runc); null for the ratio against native (or an A/A copy's original).
   * These rows are in Comparison.against, never in Comparison.rows.
   */
  readonly against: string | null;
  /** What isolates the environment beyond its kind (gVisor's runtime label), "; "-joined; null when no record says. */
  readonly isolation: string | null;
  /** Why that isolation, "; "-joined; null when no record says. */
  readonly isolationReason: string | null;
  /** Values of trials that ran on a busy host (in the statistics; the cell is warned). */
  readonly contaminated: readonly ContaminatedValue[];
  readonly n: number;
  /** Failed trials of this (stack, workload, environment), left out of the statistics. */
  readonly failed: number;
  /** The cell's values (successful, measured trials) and each one's position in the schedule. */
  readonly values: readonly number[];
  readonly orders: readonly number[];
  readonly median: number | null;
  readonly ciLow: number | null;
  readonly ciHigh: number | null;
  /** Real coverage of [ciLow, ciHigh] (0.95 or more, or less when n < 6). */
  readonly ciLevel: number | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly cv: number | null;
  /** "headline": on page one, in the verdict family; "supporting": interval and p only; "calibration": an A/A copy against its original. */
  readonly role: "headline" | "supporting" | "calibration";
  /** The headline's label and position on page one, for headline rows. */
  readonly headline: { readonly label: string; readonly position: number } | null;
  /** Hodges-Lehmann ratio: this environment's values over native's (exp of the median log difference). */
  readonly ratio: number | null;
  readonly ratioLow: number | null;
  readonly ratioHigh: number | null;
  /** Real coverage of [ratioLow, ratioHigh]. */
  readonly ratioLevel: number | null;
  /** Two-sided p of the rank test against native (of "within one resolution step" for quantised cells). */
  readonly p: number | null;
  /** Benjamini-Hochberg adjusted p over the report's headline cells; null for other rows. */
  readonly q: number | null;
  /** The level the interval and verdict use: alpha R/m for headline cells, alpha for supporting ones. */
  readonly alpha: number | null;
  readonly pMethod: "exact" | "normal" | null;
  /** Smallest p these sample sizes can give. */
  readonly minP: number | null;
  /** Relative resolution of a quantised cell (0.016 = 1.6 % steps); 0 when continuous. */
  readonly resolution: number | null;
  /** null when no verdict is given (supporting data, a gap, no baseline, too few trials); warnings say why. */
  readonly verdict: Verdict | null;
  /** The interval lies inside [1/(1+margin), 1+margin]; null without a verdict. */
  readonly equivalent: boolean | null;
  /** Equivalence margin of the metric's group (0.02 = +-2 %). */
  readonly margin: number;
  readonly warnings: readonly WarningCode[];
  readonly reference: ReferenceCell | null;
  /** Position of the case in the workload's own order (first appearance in the records). */
  readonly caseOrder: number;
  /** Native's A/A noise floor of this measure: the interval of native's copy against native (ratio orientation); null without one. */
  readonly noiseFloorLow: number | null;
  readonly noiseFloorHigh: number | null;
  /** This cell's ratio interval lies inside native's noise floor (a statement beside the verdict); null when either is missing, and for native and copies. */
  readonly insideNoiseFloor: boolean | null;
}

export interface StackRun {
  readonly stack: string;
  readonly profile: string;
  readonly runs: readonly string[];
  readonly hosts: readonly string[];
  readonly environments: readonly string[];
  readonly baseline: string | null;
  /** A/A calibration copies and their originals. */
  readonly calibration: readonly { readonly copy: string; readonly of: string }[];
  /** Reference comparisons the records ask for (environment against reference), both environments of this stack. */
  readonly references: readonly { readonly environment: string; readonly reference: string }[];
  readonly trials: { readonly ok: number; readonly failed: number; readonly warmup: number };
  /** Failed trials per workload and environment (a workload whose every trial failed has no row). */
  readonly failures: readonly { readonly workload: string; readonly environment: string; readonly count: number }[];
}

export interface Comparison {
  readonly stacks: readonly StackRun[];
  /** One row per (measure, environment): its ratio against native (an A/A copy's against its original). */
  readonly rows: readonly Row[];
  /** One row per (measure, environment, reference): the same cell's ratio against each reference environment. */
  readonly against: readonly Row[];
  readonly family: Family;
  /** Records left out of a metric (unit or direction conflicts), one line each. */
  readonly problems: readonly string[];
}

const SEP = "\u0000";
const KIND_RANK: Record<string, number> = { native: 0, docker: 1, gvisor: 1.5, kvm: 2 };

/** Orders environments: native first, then by kind (docker, kvm, others), then by name. */
export function environmentOrderOf(kinds: ReadonlyMap<string, string>): (a: string, b: string) => number {
  const rank = (e: string) => (e === "native" ? -1 : KIND_RANK[kinds.get(e) ?? ""] ?? 9);
  return (a, b) => rank(a) - rank(b) || a.localeCompare(b);
}

export function workloadOrder(a: string, b: string): number {
  const rank = (w: string) => { const i = WORKLOAD_IDS.indexOf(w as never); return i < 0 ? 99 : i; };
  return rank(a) - rank(b) || a.localeCompare(b);
}

interface Measure {
  seq: number;
  at: string;
  stack: string; profile: string; workload: string; case: string; params: Params; metric: string; unit: string; better: Better;
  values: Map<string, Cell>;
}

interface Cell { v: number[]; order: number[]; accel: Set<string>; flagged: ContaminatedValue[] }

interface StackAcc {
  stack: string; profile: string; runs: Set<string>; hosts: Set<string>;
  envKind: Map<string, string>; ok: number; failed: number; warmup: number;
  failedBy: Map<string, number>;
  /** copy -> original, and each environment's acceleration reasons. */
  calibration: Map<string, string>; reasons: Map<string, Set<string>>;
  /** Each environment's references, isolation labels and their reasons, as its records say. */
  references: Map<string, Set<string>>; isolation: Map<string, Set<string>>; isolationReasons: Map<string, Set<string>>;
}

function addTo(m: Map<string, Set<string>>, key: string, values: readonly string[]): void {
  if (values.length === 0) return;
  const set = m.get(key);
  if (set) for (const v of values) set.add(v); else m.set(key, new Set(values));
}

function conflict(at: string, metric: string, workload: string, kase: string, unit: string, better: Better, first: { unit: string; better: Better; at: string }): string {
  const what = first.unit !== unit ? `unit "${unit}"` : `direction "${better}"`;
  const had = first.unit !== unit ? `"${first.unit}"` : `"${first.better}"`;
  return `${at}: metric "${metric}" of ${workload}/${kase} has ${what} but ${had} at ${first.at}; left out (one metric must have one unit and direction in every record)`;
}

function accumulate(records: readonly LocatedRecord[], problems: string[]): { measures: Map<string, Measure>; stacks: Map<string, StackAcc> } {
  const measures = new Map<string, Measure>();
  const stacks = new Map<string, StackAcc>();
  const firstUnit = new Map<string, { unit: string; better: Better; at: string }>();
  for (const located of records) {
    const r = located.record;
    const sk = r.stack + SEP + r.profile;
    let st = stacks.get(sk);
    if (!st) {
      stacks.set(sk, (st = { stack: r.stack, profile: r.profile, runs: new Set(), hosts: new Set(), envKind: new Map(), ok: 0, failed: 0, warmup: 0, failedBy: new Map(),
        calibration: new Map(), reasons: new Map(), references: new Map(), isolation: new Map(), isolationReasons: new Map() }));
    }
    st.runs.add(r.run);
    st.hosts.add(r.host);
    st.envKind.set(r.environment, r.kind);
    if (r.calibrationOf) st.calibration.set(r.environment, r.calibrationOf);
    if (r.accelerationReason) addTo(st.reasons, r.environment, [r.accelerationReason]);
    if (r.references) addTo(st.references, r.environment, r.references);
    if (r.isolation) addTo(st.isolation, r.environment, [r.isolation]);
    if (r.isolationReason) addTo(st.isolationReasons, r.environment, [r.isolationReason]);
    if (r.warmup) { st.warmup++; continue; }
    if (r.status === "failed") {
      st.failed++;
      const fk = r.workload + SEP + r.environment;
      st.failedBy.set(fk, (st.failedBy.get(fk) ?? 0) + 1);
      continue;
    }
    st.ok++;
    const flagged = r.contamination?.flagged ? r.contamination.reasons : null;
    for (const c of r.cases) {
      for (const m of c.metrics) {
        const at = `${located.file}:${located.line}`;
        const uk = r.workload + SEP + c.case + SEP + m.name;
        const first = firstUnit.get(uk);
        if (!first) firstUnit.set(uk, { unit: m.unit, better: m.better, at });
        else if (first.unit !== m.unit || first.better !== m.better) { problems.push(conflict(at, m.name, r.workload, c.case, m.unit, m.better, first)); continue; }
        const key = sk + SEP + uk;
        let ms = measures.get(key);
        if (!ms) measures.set(key, (ms = { seq: measures.size, at, stack: r.stack, profile: r.profile, workload: r.workload, case: c.case, params: c.params, metric: m.name, unit: m.unit, better: m.better, values: new Map() }));
        let cell = ms.values.get(r.environment);
        if (!cell) ms.values.set(r.environment, (cell = { v: [], order: [], accel: new Set(), flagged: [] }));
        if (flagged) cell.flagged.push({ index: cell.v.length, order: r.order, reasons: flagged });
        cell.v.push(m.value);
        cell.order.push(r.order);
        cell.accel.add(r.acceleration);
      }
    }
  }
  return { measures, stacks };
}

/** The baseline environment of a stack: the one named native, else the first of kind native that is not a calibration copy. */
function baselineOf(st: StackAcc): string | null {
  if (st.envKind.get("native") === "native" && !st.calibration.has("native")) return "native";
  return [...st.envKind].filter(([e, k]) => k === "native" && !st.calibration.has(e)).map(([e]) => e).sort()[0] ?? null;
}

/** A row before inference, with the comparison the inference needs. */
export interface Draft {
  row: Row;
  shift: ShiftComparison | null;
  measure: number;
}

const EMPTY = {
  n: 0, values: [], orders: [], median: null, ciLow: null, ciHigh: null, ciLevel: null, min: null, max: null, cv: null,
  role: "supporting" as const, headline: null, ratio: null, ratioLow: null, ratioHigh: null, ratioLevel: null,
  p: null, q: null, alpha: null, pMethod: null, minP: null, resolution: null, verdict: null, equivalent: null, margin: 0, reference: null, against: null,
  noiseFloorLow: null, noiseFloorHigh: null, insideNoiseFloor: null,
};

const joined = (m: Map<string, Set<string>>, env: string) => (m.has(env) ? [...m.get(env)!].join("; ") : null);

/**
 * A cell before inference; `reference` holds the values it is compared with: native's, for an A/A copy
 * its original's, for a reference comparison (`against`) the reference environment's.
 */
function draftRow(ms: Measure, env: string, st: StackAcc, baseline: string | null, reference: Float64Array | null, against: string | null = null): Omit<Draft, "measure"> {
  const cell = ms.values.get(env);
  const failed = st.failedBy.get(ms.workload + SEP + env) ?? 0;
  const accel = [...(cell?.accel ?? [])].sort().join("+") || "unknown";
  const warnings: WarningCode[] = [];
  if (accel.includes("tcg")) warnings.push("tcg-guest");
  if (failed > 0) warnings.push("failed-trials");
  const base = {
    ...EMPTY, stack: ms.stack, profile: ms.profile, workload: ms.workload, group: groupOf(ms.workload), case: ms.case, params: ms.params,
    metric: ms.metric, unit: ms.unit, better: ms.better, environment: env, kind: st.envKind.get(env) ?? "unknown", acceleration: accel, failed, caseOrder: ms.seq,
    accelerationReason: joined(st.reasons, env), calibrationOf: st.calibration.get(env) ?? null, contaminated: cell?.flagged ?? [],
    against, isolation: joined(st.isolation, env), isolationReason: joined(st.isolationReasons, env),
  };
  if (!cell || cell.v.length === 0) return { row: { ...base, warnings: [...warnings, "missing"] }, shift: null };
  const asc = sorted(cell.v);
  const s = summarize(asc);
  if (s.n < 6) warnings.push("ci-below-95");
  if (s.cv !== undefined && s.cv > HIGH_CV) warnings.push("high-cv");
  // MAD is too unstable below 6 values to call anything an outlier.
  if (s.n >= 6 && s.outliers > 0) warnings.push("outliers");
  if (cell.flagged.length > 0) warnings.push("contaminated");
  const stats = { ...base, n: s.n, values: cell.v, orders: cell.order, median: s.median, ciLow: s.ci?.low ?? null, ciHigh: s.ci?.high ?? null, ciLevel: s.ci?.level ?? null, min: s.min, max: s.max, cv: s.cv ?? null };
  if (env === baseline && against === null) return { row: { ...stats, ratio: 1, ratioLow: 1, ratioHigh: 1, verdict: "baseline", warnings }, shift: null };
  if (!reference || reference.length === 0) return { row: { ...stats, warnings: [...warnings, against === null ? "no-baseline" : "no-reference"] }, shift: null };
  if (asc[0]! <= 0 || reference[0]! <= 0) return { row: { ...stats, warnings: [...warnings, "non-positive"] }, shift: null };
  return { row: { ...stats, warnings }, shift: compareShift(asc, reference) };
}

function failuresOf(st: StackAcc, order: (a: string, b: string) => number): StackRun["failures"] {
  return [...st.failedBy].map(([k, count]) => {
    const [workload, environment] = k.split(SEP) as [string, string];
    return { workload, environment, count };
  }).sort((a, b) => workloadOrder(a.workload, b.workload) || order(a.environment, b.environment));
}

/** Builds the comparison model from loaded records (never throws on data: conflicts are listed). */
export interface CompareOptions extends InferOptions {
  /** Pairs the planner left out of the schedule (experiment.json): no cell at all, rather than a gap to rerun. */
  readonly notMeasured?: readonly { readonly stack: string; readonly environment: string; readonly workload: string }[];
}

export function compare(records: readonly LocatedRecord[], options: CompareOptions = {}): Comparison {
  const leftOut = new Set((options.notMeasured ?? []).map((n) => [n.stack, n.environment, n.workload].join(SEP)));
  const problems: string[] = [];
  const { measures, stacks } = accumulate(records, problems);
  const drafts: Draft[] = [];
  const stackRuns: StackRun[] = [];
  const allKinds = new Map<string, string>();
  for (const st of stacks.values()) for (const [e, k] of st.envKind) allKinds.set(e, k);
  const envOrder = environmentOrderOf(allKinds);
  const measureList = [...measures.values()];
  for (const st of stacks.values()) {
    const baseline = baselineOf(st);
    const envs = [...st.envKind.keys()].sort(envOrder);
    const calibration = [...st.calibration].map(([copy, of]) => ({ copy, of })).sort((a, b) => envOrder(a.copy, b.copy));
    // A reference comparison needs both environments in this stack; native is every cell's own baseline, and copies are never judged.
    const references = envs.filter((e) => !st.calibration.has(e)).flatMap((environment) => [...(st.references.get(environment) ?? [])]
      .filter((r) => r !== environment && r !== baseline && st.envKind.has(r)).sort(envOrder).map((reference) => ({ environment, reference })));
    stackRuns.push({ stack: st.stack, profile: st.profile, runs: [...st.runs].sort(), hosts: [...st.hosts].sort(), environments: envs, baseline, calibration, references, trials: { ok: st.ok, failed: st.failed, warmup: st.warmup }, failures: failuresOf(st, envOrder) });
    measureList.forEach((ms, i) => {
      if (ms.stack !== st.stack || ms.profile !== st.profile) return;
      const sortedOf = (env: string | null | undefined) => { const v = env ? ms.values.get(env)?.v : undefined; return v ? sorted(v) : null; };
      const native = sortedOf(baseline);
      for (const env of envs) {
        if (leftOut.has([st.stack, env, ms.workload].join(SEP))) continue;
        const original = st.calibration.get(env);
        drafts.push({ ...draftRow(ms, env, st, baseline, original === undefined ? native : original === baseline ? native : sortedOf(original)), measure: i });
      }
      // The same cell against each reference environment, by the same rule (infer.ts: in the family when headline).
      for (const { environment, reference } of references) if (!leftOut.has([st.stack, environment, ms.workload].join(SEP))) drafts.push({ ...draftRow(ms, environment, st, baseline, sortedOf(reference), reference), measure: i });
    });
  }
  const inferred = infer(drafts, options);
  const family = inferred.family;
  const order = (a: Row, b: Row) => a.stack.localeCompare(b.stack) || a.profile.localeCompare(b.profile) || workloadOrder(a.workload, b.workload)
    || a.caseOrder - b.caseOrder || envOrder(a.environment, b.environment) || envOrder(a.against ?? "", b.against ?? "");
  // The noise floor is native's A/A interval: a statement about cells against native only.
  const rows = withNoiseFloor(inferred.rows.filter((r) => r.against === null), stackRuns).sort(order);
  const against = inferred.rows.filter((r) => r.against !== null).sort(order);
  stackRuns.sort((a, b) => a.stack.localeCompare(b.stack) || a.profile.localeCompare(b.profile));
  return { stacks: stackRuns, rows, against, family, problems };
}
