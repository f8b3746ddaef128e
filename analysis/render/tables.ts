/**
 * The one table builder every renderer shares (hyperfine's MarkupExporter): each table as a header and
 * rows of plain text, from the model and format.ts. report.md and report.html add only syntax.
 */
import type { Row } from "../compare.ts";
import type { Curve, ReportModel, Section } from "../sections.ts";
import { perfOf, type AgainstColumn, type Overview, type OverviewCell, type Perf } from "../overview.ts";
import type { RunMeta } from "../metadata.ts";
import { contaminationText, levelText, measureLabel, medianText, noiseText, num, pct, rangeText, ratioNum, ratioShort, ratioText, referenceText, tcgShort, verdictWord, warningsText, directionText } from "../format.ts";
import { WARNING_LABEL } from "../warnings.ts";
import { skippedText } from "../load.ts";

export interface Table {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

export function stacksTable(model: ReportModel): Table {
  return {
    header: ["stack", "profile", "host", "runs", "environments", "baseline", "trials ok", "failed", "warm-up (not counted)"],
    rows: model.comparison.stacks.map((s) => [s.stack, s.profile, s.hosts.join(", "), s.runs.join(", "), s.environments.join(", "), s.baseline ?? "none (no ratios)", String(s.trials.ok), String(s.trials.failed), String(s.trials.warmup)]),
  };
}

function duration(s: number | null): string {
  if (s === null) return "unknown";
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${Math.round(s % 60)} s` : `${s.toFixed(1)} s`;
}

function metaRow(m: RunMeta): string[] {
  const share = m.wallS ? `${pct(Math.min(1, m.toolS / m.wallS))} measuring (tools), ${pct(Math.min(1, m.trialS / m.wallS))} in trials` : "unknown";
  return [m.stack, m.first && m.last ? `${m.first.slice(0, 16).replace("T", " ")} .. ${m.last.slice(0, 16).replace("T", " ")} UTC` : "unknown", duration(m.wallS), share,
    m.repetitions === null ? "unknown" : String(m.repetitions), m.governor, m.smt, m.numa];
}

/** When, how long, how much measuring, and the host settings that move numbers. */
export function metaTable(model: ReportModel): Table {
  return { header: ["stack", "ran (first start .. last end)", "wall time", "share of wall time", "repetitions", "cpufreq governor", "SMT", "NUMA"], rows: model.metadata.map(metaRow) };
}

export function perfText(p: Perf | null): string {
  if (!p) return "no ratio";
  return p.low === null || p.high === null ? `x${ratioNum(p.value)}, no interval:` : `x${ratioNum(p.value)} [${ratioNum(p.low)}, ${ratioNum(p.high)}]`;
}

function studyText(c: OverviewCell): string {
  if (c.tcg) return "";
  if (!c.study) return "";
  const s = c.study.range ? `x${ratioNum(c.study.range[0])}..${ratioNum(c.study.range[1])} (approx.)` : `x${ratioNum(c.study.value)}`;
  const verdict = c.consistent === null ? "" : c.consistent ? ", consistent" : ", NOT consistent";
  return `study ${s}${verdict}`;
}

/** A row's interval as performance against native with its coverage: "x1.00 [0.97, 1.03] (95.9 %)". */
function perfWithLevel(r: Row): string {
  const p = perfOf(r);
  return `${perfText(p)}${r.ratioLevel !== null && p?.low != null ? ` (${levelText(r.ratioLevel)})` : ""}`;
}

/**
 * A chart column's title (two lines where a table has one): the environment, then its isolation in short
 * ("gVisor ptrace, host net") or the TCG mark; `note`, the whole label, for the tooltip. Undefined note: none.
 */
export function environmentChartColumn(ov: Overview, env: string): { title: string; note?: string } {
  const isolation = ov.rows.map((o) => o.cells.get(env)).find((c) => c?.row.isolation)?.row.isolation;
  if (!isolation) return { title: environmentColumn(ov, env) };
  return { title: `${env}\n(${shortIsolation(isolation)})`, note: `${env} runs under ${isolation}` };
}

/** "runsc ptrace, host network passthrough" -> "gVisor ptrace, host net"; other labels as they are. */
export function shortIsolation(label: string): string {
  return label.replace(/^runsc /, "gVisor ").replace("host network passthrough", "host net").replace("gVisor netstack", "gVisor net");
}

/** A page-one cell of an environment whose every trial of the metric failed. */
const GAP = "gap: no successful trial";

/** A page-one column's name: the environment, its isolation label (gVisor's runtime), and for a TCG guest the KVM check that failed. */
export function environmentColumn(ov: Overview, env: string): string {
  const cells = ov.rows.map((o) => o.cells.get(env));
  const isolation = cells.find((c) => c?.row.isolation)?.row.isolation;
  if (isolation) return `${env} (${isolation})`;
  const tcg = cells.find((c) => c?.tcg);
  if (!tcg) return env;
  const why = tcgShort(tcg.row.accelerationReason);
  return `${env} (TCG, not KVM${why ? `: ${why}` : ""})`;
}

/** Page one as a benchstat-style table: headline metric x environment, performance against native (> 1 better). */
export function glanceTable(ov: Overview): Table {
  const noise = ov.rows.some((o) => o.noise);
  const copy = ov.rows.find((o) => o.noise)?.noise?.environment;
  const rows = ov.rows.map((o) => [
    `${o.label} (${o.unit}, ${directionText(o.better)})`,
    o.native?.median != null ? `${num(o.native.median)} (n = ${o.native.n})` : "no data",
    ...(noise ? [o.noise ? perfWithLevel(o.noise) : "no A/A copy"] : []),
    ...ov.environments.map((env) => {
      const c = o.cells.get(env);
      if (!c) return "not run";
      if (c.row.median === null) return GAP;
      const study = studyText(c);
      const inside = c.row.insideNoiseFloor ? "; inside the noise floor" : "";
      return `${perfWithLevel(c.row)} ${verdictWord(c.row)}${inside}${study ? `; ${study}` : ""}`;
    }),
  ]);
  const geo = ["geometric mean (approx. 95 %)", "", ...(noise ? [""] : []), ...ov.environments.map((env) => {
    const g = ov.geomean.find((x) => x.environment === env);
    return g?.perf ? `${perfText(g.perf)} over ${g.count} metrics${g.tcg ? " (TCG)" : ""}` : "no ratio";
  })];
  return {
    header: ["headline metric", `${ov.baseline ?? "native"} median`, ...(noise ? [`noise floor (A/A: ${copy} vs ${ov.baseline})`] : []), ...ov.environments.map((e) => `${environmentColumn(ov, e)}: performance vs native`)],
    rows: [...rows, geo],
  };
}

/** A reference comparison's column: "gvisor (runsc ptrace, ...) vs docker". */
export function againstColumnTitle(c: AgainstColumn): string {
  const isolation = [...c.cells.values()].find((r) => r.isolation)?.isolation;
  return `${c.environment}${isolation ? ` (${isolation})` : ""} vs ${c.reference}`;
}

/** Page one's reference comparisons: headline metric x (environment vs reference), performance against the reference (> 1 better). */
export function againstGlanceTable(ov: Overview): Table | null {
  if (ov.against.length === 0) return null;
  const rows = ov.rows.map((o) => [
    `${o.label} (${o.unit}, ${directionText(o.better)})`,
    ...ov.against.map((c) => { const r = c.cells.get(o.position); return !r ? "not run" : r.median === null ? GAP : `${perfWithLevel(r)} ${verdictWord(r)}`; }),
  ]).filter((row) => row.slice(1).some((v) => v !== "not run"));
  const geo = ["geometric mean (approx. 95 %)", ...ov.against.map((c) => (c.geomean.perf ? `${perfText(c.geomean.perf)} over ${c.geomean.count} metrics` : "no ratio"))];
  return { header: ["headline metric", ...ov.against.map((c) => `${againstColumnTitle(c)}: performance vs ${c.reference}`)], rows: [...rows, geo] };
}

/** A section's cells against their reference environments: the same rule as against native. */
export function againstTable(section: Section): Table | null {
  if (section.against.length === 0) return null;
  return {
    header: ["measure", "environment", "against", "median [interval] (coverage)", "n", "ratio to the reference [interval] (coverage), statement", "warnings"],
    rows: section.against.flatMap((m) => m.rows.map((r, i) => [
      i === 0 ? `${measureLabel(m)}${m.headline ? " [headline]" : ""}` : "", r.environment, r.against ?? "", medianText(r), String(r.n), ratioText(r), warningsText(r),
    ])),
  };
}

export function measureTable(section: Section): Table {
  const hasRef = section.measures.some((m) => m.rows.some((r) => r.reference));
  const hasNoise = section.measures.some((m) => m.rows.some((r) => r.noiseFloorLow !== null || r.calibrationOf !== null));
  const rows = section.measures.flatMap((m) => m.rows.map((r, i) => [
    i === 0 ? `${measureLabel(m)}${m.headline ? " [headline]" : ""}` : "", r.environment, medianText(r), String(r.n), rangeText(r), ratioText(r),
    ...(hasNoise ? [noiseText(r)] : []), warningsText(r),
    ...(hasRef ? [referenceText(r)] : []),
  ]));
  return {
    header: ["measure", "environment", "median [interval] (coverage)", "n", "min..max", "vs native: ratio [interval] (coverage), statement", ...(hasNoise ? ["noise floor (A/A)"] : []), "warnings", ...(hasRef ? ["study"] : [])],
    rows,
  };
}

/** The run metadata's list of trials that ran on a busy host. */
export function contaminatedTable(model: ReportModel): Table | null {
  if (model.contaminated.length === 0) return null;
  const multi = model.comparison.stacks.length > 1;
  return {
    header: [...(multi ? ["stack"] : []), "trial (schedule position)", "environment", "workload", "rep", "why the host was busy", "in the statistics?"],
    rows: model.contaminated.map((c) => [
      ...(multi ? [c.stack] : []), `#${c.order} (${c.at})`, c.environment, c.workload, `${c.rep}${c.warmup ? " (warm-up)" : ""}`, c.reasons.join("; ") || "flagged",
      c.supersededBy ? `no: superseded by ${c.supersededBy.clean ? "a clean retry" : "a later attempt"} (${c.supersededBy.at})` : c.warmup ? "no: a warm-up" : "yes: its cells are warned",
    ]),
  };
}

/** A section's cells with trials on a busy host, one line per workload and environment. */
export function contaminatedCells(section: Section): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const m of section.measures) for (const r of m.rows) {
    const k = `${r.workload}\u0000${r.environment}`;
    if (r.contaminated.length === 0 || seen.has(k)) continue;
    seen.add(k);
    out.push(`${r.workload} on ${r.environment}: ${contaminationText(r)}`);
  }
  return out;
}

/** One line for page one: how many trials ran on a busy host and what became of them; undefined when none. */
export function contaminatedSummary(model: ReportModel): string | undefined {
  const list = model.contaminated.filter((c) => !c.warmup);
  if (list.length === 0) return undefined;
  const counted = list.filter((c) => c.counted).length;
  const replaced = list.length - counted;
  return `${list.length} trial${list.length === 1 ? "" : "s"} ran on a busy host: ${counted} in the statistics (their cells are warned)${replaced ? `, ${replaced} superseded by another attempt of their trial` : ""}. The run metadata lists them and why.`;
}

export function curveTable(curve: Curve): Table {
  const xs = [...new Set(curve.lines.flatMap((l) => l.points.map((p) => p.x)))].sort((a, b) => a - b);
  const rows = xs.map((x) => [String(x), ...curve.lines.map((l) => {
    const p = l.points.find((q) => q.x === x);
    if (!p) return "gap";
    const w = p.row.warnings.filter((c) => c !== "ci-below-95").map((c) => WARNING_LABEL[c]).join("; ");
    return `${medianText(p.row)}; ${ratioShort(p.row)}${w ? ` (${w})` : ""}`;
  })]);
  return { header: [curve.xName, ...curve.lines.map((l) => l.environment)], rows };
}

export function curveTitle(curve: Curve): string {
  return `${curve.workload} ${curve.series}: ${curve.metric} (${curve.unit}, ${directionText(curve.better)}) against ${curve.xName}`;
}

export function differencesTable(section: Section): Table | null {
  if (section.differences.length === 0) return null;
  const envs = section.differences[0]!.values.map(([env]) => env);
  return { header: ["aspect", ...envs], rows: section.differences.map((d) => [d.label, ...d.values.map(([, v]) => v)]) };
}

export function crossStackTable(model: ReportModel): Table | null {
  if (model.crossStack.length === 0) return null;
  return {
    header: ["measure", "environment", ...model.stackColumns],
    rows: model.crossStack.map((x) => [measureLabel(x), x.environment, ...model.stackColumns.map((s) => {
      const r = x.cells.get(s);
      return r ? `${ratioShort(r)}${r.warnings.includes("tcg-guest") ? " (TCG)" : ""}` : "not run";
    })]),
  };
}

/** Input lines and files left out, duplicates counted once, data conflicts: one line each. */
export function inputProblems(model: ReportModel): string[] {
  return [
    ...model.skipped.map((s) => `skipped ${skippedText(s)}`),
    ...model.duplicates.map((s) => `duplicate record ${skippedText(s)}`),
    ...model.superseded,
    ...(model.retried ? [`${model.retried} failed attempt(s) of trials that were retried and then succeeded are not counted as failures`] : []),
    ...model.problems,
  ];
}

/** Failed trials of a section, for the line under its table. */
export function failuresText(model: ReportModel, section: Section): string {
  const st = model.comparison.stacks.find((s) => s.stack === section.stack && s.profile === section.profile);
  return (st?.failures.filter((f) => section.workloads.includes(f.workload)) ?? []).map((f) => `${f.workload} on ${f.environment}: ${f.count}`).join("; ");
}

export type { Row };
