/**
 * Trial records -> one comparison model: a row per (stack, profile, workload, case, metric, environment)
 * with its statistics, its ratio to native and a verdict. Every renderer reads this model; none computes.
 *
 * Rules: failed and warm-up trials never enter statistics (failed ones are counted and flagged); an
 * environment of the stack with no successful trial of a measure still gets a row, marked as a gap;
 * one metric (workload, case, metric) must carry one unit and one direction in every record.
 */
import { RecordError } from "../workloads/record.ts";
import { WORKLOAD_IDS } from "../workloads/contract.ts";
import { PRESET_NAMES } from "../stacks/environments.ts";
import type { LocatedRecord } from "./load.ts";
import { mannWhitneyU, ratioOfMedians, sorted, summarize, CONFIDENCE } from "./stats.ts";
import { HIGH_CV, MIN_TRIALS, type WarningCode } from "./warnings.ts";
import { referenceFor, type ReferenceCell } from "./reference.ts";

export type Verdict = "faster" | "slower" | "indistinguishable" | "baseline";
export type Better = "higher" | "lower";
export type Params = Readonly<Record<string, string | number | boolean>>;

export interface Row {
  readonly stack: string;
  readonly profile: string;
  readonly workload: string;
  readonly case: string;
  readonly params: Params;
  readonly metric: string;
  readonly unit: string;
  readonly better: Better;
  readonly environment: string;
  readonly kind: string;
  /** Accelerations of the trials in the cell ("none", "kvm", "tcg", or several joined by "+"). */
  readonly acceleration: string;
  readonly n: number;
  /** Failed trials of this (stack, workload, environment), left out of the statistics. */
  readonly failed: number;
  readonly median: number | null;
  readonly ciLow: number | null;
  readonly ciHigh: number | null;
  /** Real coverage of [ciLow, ciHigh] (0.95, or less when n < 6). */
  readonly ciLevel: number | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly cv: number | null;
  /** This environment's median over native's. */
  readonly ratio: number | null;
  readonly ratioLow: number | null;
  readonly ratioHigh: number | null;
  /** Two-sided Mann-Whitney U p-value against native. */
  readonly p: number | null;
  readonly pMethod: "exact" | "normal" | null;
  /** null when no verdict can be given (a gap, no baseline, too few trials); the warnings say why. */
  readonly verdict: Verdict | null;
  readonly warnings: readonly WarningCode[];
  readonly reference: ReferenceCell | null;
  /** Position of the case in the workload's own order (first appearance in the records). */
  readonly caseOrder: number;
}

export interface StackRun {
  readonly stack: string;
  readonly profile: string;
  readonly runs: readonly string[];
  readonly hosts: readonly string[];
  readonly environments: readonly string[];
  readonly baseline: string | null;
  readonly trials: { readonly ok: number; readonly failed: number; readonly warmup: number };
  /** Failed trials per workload and environment (a workload whose every trial failed has no row). */
  readonly failures: readonly { readonly workload: string; readonly environment: string; readonly count: number }[];
}

export interface Comparison {
  readonly stacks: readonly StackRun[];
  readonly rows: readonly Row[];
  readonly confidence: number;
}

const SEP = "\u0000";

/** native first, then the presets in DESIGN order, then other names alphabetically. */
export function environmentOrder(a: string, b: string): number {
  const rank = (e: string) => (e === "native" ? -1 : PRESET_NAMES.indexOf(e as never) >= 0 ? PRESET_NAMES.indexOf(e as never) : 100);
  return rank(a) - rank(b) || a.localeCompare(b);
}

export function workloadOrder(a: string, b: string): number {
  return WORKLOAD_IDS.indexOf(a as never) - WORKLOAD_IDS.indexOf(b as never);
}

interface Measure {
  /** Order of first appearance: the workload's own case order. */
  seq: number;
  /** file:line of the first record with this measure. */
  at: string;
  stack: string; profile: string; workload: string; case: string; params: Params; metric: string; unit: string; better: Better;
  values: Map<string, number[]>;
  accel: Map<string, Set<string>>;
}

interface StackAcc {
  stack: string; profile: string; runs: Set<string>; hosts: Set<string>;
  envKind: Map<string, string>; ok: number; failed: number; warmup: number;
  /** failed trials per workload + environment */
  failedBy: Map<string, number>;
}

function unitConflict(at: string, metric: string, workload: string, kase: string, unit: string, better: Better, first: { unit: string; better: Better; at: string }): RecordError {
  const what = first.unit !== unit ? `unit "${unit}"` : `direction "${better}"`;
  const had = first.unit !== unit ? `"${first.unit}"` : `"${first.better}"`;
  return new RecordError(`${at}: metric "${metric}" of ${workload}/${kase} has ${what} but ${had} at ${first.at}; one metric must have one unit and direction in every record`);
}

/** One unit and direction per (workload, case, metric) across stacks too (within a measure it is checked per value). */
function checkUnitsAcrossStacks(measures: Map<string, Measure>): void {
  const first = new Map<string, Measure>();
  for (const ms of measures.values()) {
    const k = ms.workload + SEP + ms.case + SEP + ms.metric;
    const f = first.get(k);
    if (!f) first.set(k, ms);
    else if (f.unit !== ms.unit || f.better !== ms.better) throw unitConflict(ms.at, ms.metric, ms.workload, ms.case, ms.unit, ms.better, f);
  }
}

function accumulate(records: readonly LocatedRecord[]): { measures: Map<string, Measure>; stacks: Map<string, StackAcc> } {
  const measures = new Map<string, Measure>();
  const stacks = new Map<string, StackAcc>();
  for (const located of records) {
    const r = located.record;
    const sk = r.stack + SEP + r.profile;
    let st = stacks.get(sk);
    if (!st) stacks.set(sk, (st = { stack: r.stack, profile: r.profile, runs: new Set(), hosts: new Set(), envKind: new Map(), ok: 0, failed: 0, warmup: 0, failedBy: new Map() }));
    st.runs.add(r.run);
    st.hosts.add(r.host);
    st.envKind.set(r.environment, r.kind);
    if (r.warmup) { st.warmup++; continue; }
    if (r.status === "failed") {
      st.failed++;
      const fk = r.workload + SEP + r.environment;
      st.failedBy.set(fk, (st.failedBy.get(fk) ?? 0) + 1);
      continue;
    }
    st.ok++;
    const wk = sk + SEP + r.workload;
    for (const c of r.cases) {
      const ck = wk + SEP + c.case;
      for (const m of c.metrics) {
        const key = ck + SEP + m.name;
        let ms = measures.get(key);
        if (!ms) measures.set(key, (ms = { seq: measures.size, at: `${located.file}:${located.line}`, stack: r.stack, profile: r.profile, workload: r.workload, case: c.case, params: c.params, metric: m.name, unit: m.unit, better: m.better, values: new Map(), accel: new Map() }));
        else if (ms.unit !== m.unit || ms.better !== m.better) throw unitConflict(`${located.file}:${located.line}`, m.name, r.workload, c.case, m.unit, m.better, ms);
        let vs = ms.values.get(r.environment);
        if (!vs) { ms.values.set(r.environment, (vs = [])); ms.accel.set(r.environment, new Set()); }
        vs.push(m.value);
        ms.accel.get(r.environment)!.add(r.acceleration);
      }
    }
  }
  checkUnitsAcrossStacks(measures);
  return { measures, stacks };
}

/** The baseline environment of a stack: the one named native, else the first of kind native. */
function baselineOf(st: StackAcc): string | null {
  if (st.envKind.get("native") === "native") return "native";
  return [...st.envKind].filter(([, k]) => k === "native").map(([e]) => e).sort()[0] ?? null;
}

function verdictOf(low: number, high: number, better: Better): Verdict {
  if (low <= 1 && 1 <= high) return "indistinguishable";
  const above = low > 1;
  return above === (better === "higher") ? "faster" : "slower";
}

function buildRow(ms: Measure, env: string, st: StackAcc, baseline: string | null, nativeAsc: Float64Array | null): Row {
  const values = ms.values.get(env) ?? [];
  const failed = st.failedBy.get(ms.workload + SEP + env) ?? 0;
  const accel = [...(ms.accel.get(env) ?? [])].sort().join("+") || "unknown";
  const warnings: WarningCode[] = [];
  if (accel.includes("tcg")) warnings.push("tcg-guest");
  if (failed > 0) warnings.push("failed-trials");
  const base = {
    stack: ms.stack, profile: ms.profile, workload: ms.workload, case: ms.case, params: ms.params, metric: ms.metric,
    unit: ms.unit, better: ms.better, environment: env, kind: st.envKind.get(env) ?? "unknown", acceleration: accel, failed,
    reference: referenceFor(ms.workload, ms.case, ms.metric, env, ms.unit) ?? null, caseOrder: ms.seq,
  };
  const empty = { n: 0, median: null, ciLow: null, ciHigh: null, ciLevel: null, min: null, max: null, cv: null, ratio: null, ratioLow: null, ratioHigh: null, p: null, pMethod: null, verdict: null };
  if (values.length === 0) return { ...base, ...empty, warnings: [...warnings, "missing"] };

  const asc = sorted(values);
  const s = summarize(asc);
  if (s.n < MIN_TRIALS) warnings.push("few-trials");
  else if (s.ci && s.ci.level < CONFIDENCE) warnings.push("ci-below-95");
  if (s.cv !== undefined && s.cv > HIGH_CV) warnings.push("high-cv");
  // MAD is too unstable below 6 values to call anything an outlier.
  if (s.n >= 6 && s.outliers > 0) warnings.push("outliers");
  const stats = { ...empty, n: s.n, median: s.median, ciLow: s.ci?.low ?? null, ciHigh: s.ci?.high ?? null, ciLevel: s.ci?.level ?? null, min: s.min, max: s.max, cv: s.cv ?? null };
  if (env === baseline) return { ...base, ...stats, ratio: 1, ratioLow: 1, ratioHigh: 1, verdict: "baseline", warnings };

  if (!nativeAsc || nativeAsc.length === 0) return { ...base, ...stats, warnings: [...warnings, "no-baseline"] };
  const ratio = ratioOfMedians(asc, nativeAsc);
  const test = mannWhitneyU(asc, nativeAsc);
  const tested = { p: test?.p ?? null, pMethod: test?.method ?? null };
  // Below MIN_TRIALS on either side an interval (and so a verdict) would be noise: keep the point ratio only.
  if (ratio.ok && (s.n < MIN_TRIALS || nativeAsc.length < MIN_TRIALS)) {
    if (!warnings.includes("few-trials")) warnings.push("few-trials");
    return { ...base, ...stats, ...tested, ratio: ratio.ratio, warnings };
  }
  if (!ratio.ok) {
    if (ratio.reason === "non-positive") warnings.push("non-positive");
    else if (!warnings.includes("few-trials")) warnings.push("few-trials");
    return { ...base, ...stats, ...tested, ratio: ratio.ratio, warnings };
  }
  return { ...base, ...stats, ...tested, ratio: ratio.ratio, ratioLow: ratio.low, ratioHigh: ratio.high, verdict: verdictOf(ratio.low, ratio.high, ms.better), warnings };
}

function failuresOf(st: StackAcc): StackRun["failures"] {
  return [...st.failedBy].map(([k, count]) => {
    const [workload, environment] = k.split(SEP) as [string, string];
    return { workload, environment, count };
  }).sort((a, b) => workloadOrder(a.workload, b.workload) || environmentOrder(a.environment, b.environment));
}

function rowOrder(a: Row, b: Row): number {
  return a.stack.localeCompare(b.stack) || a.profile.localeCompare(b.profile) || workloadOrder(a.workload, b.workload)
    || a.caseOrder - b.caseOrder || environmentOrder(a.environment, b.environment);
}

/** Builds the comparison model from loaded records. Throws RecordError on mixed units. */
export function compare(records: readonly LocatedRecord[]): Comparison {
  const { measures, stacks } = accumulate(records);
  const rows: Row[] = [];
  const stackRuns: StackRun[] = [];
  for (const st of stacks.values()) {
    const baseline = baselineOf(st);
    const envs = [...st.envKind.keys()].sort(environmentOrder);
    stackRuns.push({ stack: st.stack, profile: st.profile, runs: [...st.runs].sort(), hosts: [...st.hosts].sort(), environments: envs, baseline, trials: { ok: st.ok, failed: st.failed, warmup: st.warmup }, failures: failuresOf(st) });
    for (const ms of measures.values()) {
      if (ms.stack !== st.stack || ms.profile !== st.profile) continue;
      const nativeValues = baseline ? ms.values.get(baseline) : undefined;
      const nativeAsc = nativeValues ? sorted(nativeValues) : null;
      for (const env of envs) rows.push(buildRow(ms, env, st, baseline, nativeAsc));
    }
  }
  rows.sort(rowOrder);
  stackRuns.sort((a, b) => a.stack.localeCompare(b.stack) || a.profile.localeCompare(b.profile));
  return { stacks: stackRuns, rows, confidence: CONFIDENCE };
}
