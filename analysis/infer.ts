/**
 * The inference step of the comparison: which rows are headline rows, the false-discovery-rate family,
 * and for each row the ratio, its interval, p, q, verdict and equivalence, all from stats.ts's one rule.
 * A reference comparison (a row `against` another environment of the stack: gVisor against the same
 * container on runc) is judged by the same rule: a headline one is in the one family (every verdict a
 * report prints is controlled together), a supporting one gets its interval and p.
 *
 * - Family: the headline cells (headline.ts) of every stack in the report that can reach alpha at all
 *   (smallest attainable p <= alpha) and are not TCG guests (not KVM numbers: shown, never judged).
 *   Benjamini-Hochberg at alpha over them gives R of m; each family cell's interval is taken at
 *   alpha* = max(R, 1) alpha / m, so its verdict (p <= alpha*, q <= alpha) and its interval agree.
 * - Supporting rows (every other metric): the interval at alpha and p, unadjusted, no verdict.
 * - Calibration rows (an A/A copy against its original): the interval at alpha and p, never a verdict,
 *   never in the family (they measure the noise floor, not an environment).
 * - Equivalence: the interval inside [1/(1+m), 1+m] (symmetric on the log scale) for the group's margin m.
 */
import type { Draft, Row, Verdict } from "./compare.ts";
import { HEADLINES, pickHeadlines, type MeasureKey } from "./headline.ts";
import { ALPHA, benjaminiHochberg, shiftInterval, type ShiftComparison } from "./stats.ts";
import { resolveMargins, type Group } from "./groups.ts";
import { referenceFor } from "./reference.ts";
import { concurrencyOf } from "./curves.ts";
import type { WarningCode } from "./warnings.ts";

export interface InferOptions {
  /** Equivalence margins by group (0.02 = +-2 %); the defaults of groups.ts for the others. */
  readonly margins?: Readonly<Record<string, number>>;
  /** False-discovery rate and per-comparison alpha; default 0.05. */
  readonly alpha?: number;
}

export interface Family {
  /** m: headline cells tested together. */
  readonly tests: number;
  /** Of them, comparisons against a reference environment (not native). */
  readonly againstTests: number;
  /** R: of them, rejected by Benjamini-Hochberg. */
  readonly rejections: number;
  readonly alpha: number;
  /** alpha R / m (alpha / m when R = 0): the level of every family cell's interval and verdict. */
  readonly alphaStar: number;
  /** Headline cells left out of the family: too few trials to reach alpha at all. */
  readonly tooFew: number;
  /** Headline cells left out because they ran as TCG guests. */
  readonly tcg: number;
  readonly margins: Readonly<Record<Group, number>>;
}

const SEP = "\u0000";
const NEXT_ABOVE_ONE = 1 + 2 ** -52;

/** Headline label and position per draft index. */
function headlines(drafts: readonly Draft[]): Map<number, { label: string; position: number }> {
  const byStack = new Map<string, Map<number, Draft[]>>();
  for (const d of drafts) {
    const k = d.row.stack + SEP + d.row.profile;
    const m = byStack.get(k) ?? new Map<number, Draft[]>();
    byStack.set(k, m);
    m.set(d.measure, [...(m.get(d.measure) ?? []), d]);
  }
  const out = new Map<number, { label: string; position: number }>();
  for (const measures of byStack.values()) {
    const list = [...measures.entries()];
    const keys: MeasureKey[] = list.map(([, ds]) => {
      const r = ds[0]!.row;
      const native = ds.find((d) => d.row.verdict === "baseline")?.row.median ?? undefined;
      return { workload: r.workload, case: r.case, metric: r.metric, params: r.params, nativeMedian: native, concurrency: concurrencyOf(r.params)?.x };
    });
    for (const [i, position] of pickHeadlines(keys)) out.set(list[i]![0], { label: HEADLINES[position]!.label, position });
  }
  return out;
}

function direction(estimate: number, better: "higher" | "lower"): Verdict {
  return (estimate > 0) === (better === "higher") ? "faster" : "slower";
}

/** The interval and statements of one comparison at `alpha`, verdict only for family cells. */
function judged(s: ShiftComparison, alpha: number, margin: number, verdictAllowed: boolean, better: "higher" | "lower"): Partial<Row> & { extra: WarningCode[] } {
  const extra: WarningCode[] = [];
  if (s.resolution > 0) extra.push("quantised");
  const ci = shiftInterval(s, alpha);
  const common = { ratio: Math.exp(s.estimate), p: s.p, alpha, pMethod: s.nul.method, minP: s.minP, resolution: Math.expm1(s.resolution) };
  if (!ci) return { ...common, extra: [...extra, "few-trials"] };
  const rejected = s.p <= alpha;
  let low = Math.exp(ci.low), high = Math.exp(ci.high);
  // Keep "excludes 1" exact where exp rounds a tiny positive log bound to 1.
  if (rejected && ci.low > 0 && low <= 1) low = NEXT_ABOVE_ONE;
  if (rejected && ci.high < 0 && high >= 1) high = 1 - 2 ** -53;
  const bound = Math.log1p(margin);
  const inside = ci.low >= -bound && ci.high <= bound;
  return {
    ...common, ratioLow: low, ratioHigh: high, ratioLevel: ci.level,
    verdict: verdictAllowed ? (rejected ? direction(s.estimate, better) : "indistinguishable") : null,
    equivalent: verdictAllowed ? inside : null, extra,
  };
}

/** Rows with their inference, and the family it used. */
export function infer(drafts: readonly Draft[], options: InferOptions = {}): { rows: Row[]; family: Family } {
  const alpha = options.alpha ?? ALPHA;
  const margins = resolveMargins(options.margins);
  const heads = headlines(drafts);
  const isTcg = (d: Draft) => d.row.warnings.includes("tcg-guest");
  const isCopy = (d: Draft) => d.row.calibrationOf !== null;
  const inFamily = drafts.filter((d) => d.shift && heads.has(d.measure) && !isTcg(d) && !isCopy(d) && d.shift.minP <= alpha);
  const bh = benjaminiHochberg(inFamily.map((d) => d.shift!.p), alpha);
  const m = inFamily.length;
  const alphaStar = m === 0 ? alpha : (Math.max(bh.rejections, 1) * alpha) / m;
  const qOf = new Map(inFamily.map((d, i) => {
    // q <= alpha exactly when rejected (guards the last bit of rounding in the adjusted value).
    const rejected = d.shift!.p <= alphaStar && bh.rejections > 0;
    const q = bh.q[i]!;
    return [d, rejected ? Math.min(q, alpha) : Math.max(q, alpha * NEXT_ABOVE_ONE)] as const;
  }));
  const headlineDrafts = drafts.filter((d) => d.shift && heads.has(d.measure) && !isCopy(d));
  const rows = drafts.map((d): Row => {
    const head = heads.get(d.measure) ?? null;
    const margin = margins[d.row.group];
    // The study's figures are against native: no figure for an A/A copy or a reference comparison.
    const reference = isCopy(d) || d.row.against !== null ? null : referenceFor(d.row, head !== null) ?? null;
    const role = isCopy(d) ? "calibration" as const : head ? "headline" as const : "supporting" as const;
    const base = { ...d.row, role, headline: head, margin, reference };
    if (!d.shift) return base;
    const family = qOf.has(d);
    const j = judged(d.shift, family ? alphaStar : alpha, margin, family, d.row.better);
    const { extra, ...fields } = j;
    return { ...base, ...fields, q: qOf.get(d) ?? null, warnings: [...d.row.warnings, ...extra.filter((w) => !d.row.warnings.includes(w))] };
  });
  const tcg = headlineDrafts.filter(isTcg).length;
  const tooFew = headlineDrafts.filter((d) => !isTcg(d) && d.shift!.minP > alpha).length;
  const againstTests = inFamily.filter((d) => d.row.against !== null).length;
  return { rows, family: { tests: m, againstTests, rejections: m ? bh.rejections : 0, alpha, alphaStar, tooFew, tcg, margins } };
}
