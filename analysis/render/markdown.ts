/**
 * report.md: the report model as Markdown, shaped like the study's tables. Syntax only: every number
 * and word comes from the model (sections.ts) and the shared cell texts (format.ts).
 */
import type { Row } from "../compare.ts";
import type { Curve, ReportModel, Section } from "../sections.ts";
import { METHOD_TEXT, SMOKE_STUDY_NOTE, measureLabel, medianText, num, rangeText, ratioShort, ratioText, referenceText, smokeText, warningsText, directionText } from "../format.ts";
import { WARNING_CODES, WARNING_LABEL, WARNING_TEXT, type WarningCode } from "../warnings.ts";

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const lines = [`| ${header.map(cell).join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const r of rows) lines.push(`| ${r.map(cell).join(" | ")} |`);
  return lines.join("\n");
}

function overview(model: ReportModel): string {
  const rows = model.comparison.stacks.map((s) => [
    s.stack, s.profile, s.hosts.join(", "), s.runs.join(", "), s.environments.join(", "), s.baseline ?? "none (no ratios)",
    String(s.trials.ok), String(s.trials.failed), String(s.trials.warmup),
  ]);
  return table(["stack", "profile", "host", "runs", "environments", "baseline", "trials ok", "failed", "warm-up (not counted)"], rows);
}

function measureTable(section: Section): string {
  const hasReference = section.measures.some((m) => m.rows.some((r) => r.reference));
  const header = ["measure", "environment", "median [95 % CI]", "n", "min..max", "vs native (ratio [95 % CI])", "warnings", ...(hasReference ? ["study"] : [])];
  const rows: string[][] = [];
  for (const m of section.measures) {
    m.rows.forEach((r, i) => {
      rows.push([i === 0 ? measureLabel(m) : "", r.environment, medianText(r), String(r.n), rangeText(r), ratioText(r), warningsText(r), ...(hasReference ? [referenceText(r)] : [])]);
    });
  }
  return table(header, rows);
}

function curveTable(curve: Curve): string {
  const xs = [...new Set(curve.lines.flatMap((l) => l.points.map((p) => p.x)))].sort((a, b) => a - b);
  const envs = curve.lines.map((l) => l.environment);
  const rows = xs.map((x) => [String(x), ...curve.lines.map((l) => {
    const p = l.points.find((q) => q.x === x);
    if (!p) return "gap";
    // The interval level is stated once under the table; other warnings stay in the cell.
    const w = p.row.warnings.filter((c) => c !== "ci-below-95").map((c) => WARNING_LABEL[c]).join("; ");
    return `${num(p.row.median!)} [${p.row.ciLow === null ? "-" : num(p.row.ciLow)}, ${p.row.ciHigh === null ? "-" : num(p.row.ciHigh)}]; ${ratioShort(p.row)}${w ? ` (${w})` : ""}`;
  })]);
  const title = `**${curve.workload} ${curve.series}: ${curve.metric} (${curve.unit}, ${directionText(curve.better)}) against ${curve.xName}**`;
  const levels = curve.lines.flatMap((l) => l.points.map((p) => p.row.ciLevel)).filter((v): v is number => v !== null && v < 0.95);
  const levelNote = levels.length ? `\n\n_Cells: median [interval of the median]; with few trials some intervals cover only ${Math.floor(Math.min(...levels) * 100)} %._` : "";
  return `${title}\n\n${table([curve.xName, ...envs], rows)}${levelNote}`;
}

function differences(section: Section): string {
  const same = section.sameEverywhere.length ? `\n\n_Same in all:_\n\n${section.sameEverywhere.map((s) => `- ${s.label}: ${s.value}`).join("\n")}` : "";
  if (section.differences.length === 0) return `_What differs between these environments:_ nothing that the run's facts and records show, beyond the environment kind.${same}`;
  const envs = section.differences[0]!.values.map(([env]) => env);
  const rows = section.differences.map((d) => [d.label, ...d.values.map(([, v]) => v)]);
  return `_What differs between these environments:_\n\n${table(["aspect", ...envs], rows)}${same}`;
}

/** A stack's smoke-profile note where its section shows the study's figures. */
function smokeStudyNote(section: Section): string {
  const hasReference = section.measures.some((m) => m.rows.some((r) => r.reference));
  return section.profile === "smoke" && hasReference ? `_${SMOKE_STUDY_NOTE}_` : "";
}

function warningLegend(rows: readonly Row[]): string {
  const used = new Set<WarningCode>(rows.flatMap((r) => r.warnings));
  const lines = WARNING_CODES.filter((c) => used.has(c)).map((c) => `- **${WARNING_LABEL[c]}**: ${WARNING_TEXT[c]}`);
  return lines.length ? `_Warnings:_\n\n${lines.join("\n")}` : "";
}

function sectionText(model: ReportModel, section: Section, multiStack: boolean): string {
  const parts = [`## ${multiStack ? `${section.stack} (${section.profile}): ` : ""}${section.title}`];
  if (section.tcgEnvironments.length) {
    parts.push(`> **Warning: ${section.tcgEnvironments.join(", ")} ran under QEMU TCG, without KVM.** ${WARNING_TEXT["tcg-guest"]}.`);
  }
  const curves = model.curves.filter((c) => c.stack === section.stack && c.profile === section.profile && section.measures.some((m) => m.workload === c.workload));
  if (curves.length) parts.push(...curves.map(curveTable));
  else if (section.measures.length) parts.push(measureTable(section));
  const smoke = smokeStudyNote(section);
  if (smoke) parts.push(smoke);
  const st = model.comparison.stacks.find((s) => s.stack === section.stack && s.profile === section.profile);
  const relevant = st?.failures.filter((f) => section.workloads.includes(f.workload)) ?? [];
  if (relevant.length) parts.push(`_Failed trials (left out):_ ${relevant.map((f) => `${f.workload} on ${f.environment}: ${f.count}`).join("; ")}.`);
  if (section.measures.length === 0) parts.push("_No successful trial in this section: every trial failed._");
  parts.push(differences(section));
  if (section.notes.length) parts.push(section.notes.map((n) => `_${n}_`).join("\n\n"));
  const legend = warningLegend(section.measures.flatMap((m) => m.rows));
  if (legend) parts.push(legend);
  return parts.join("\n\n");
}

function crossStack(model: ReportModel): string {
  if (model.crossStack.length === 0) return "";
  const rows = model.crossStack.map((x) => [
    measureLabel(x), x.environment,
    ...model.stackColumns.map((s) => {
      const r = x.cells.get(s);
      return r ? `${ratioShort(r)}${r.warnings.includes("tcg-guest") ? " (TCG)" : ""}` : "not run";
    }),
  ]);
  return `## Across hosts: ratio to each host's own native\n\n${table(["measure", "environment", ...model.stackColumns], rows)}`;
}

export function renderMarkdown(model: ReportModel): string {
  const multiStack = model.comparison.stacks.length > 1;
  const parts = [
    "# virtperf report: what isolation costs against bare metal",
    `Inputs: ${model.sources.map((s) => `\`${s}\``).join(", ")}`,
    overview(model),
    ...[smokeText(model.comparison.stacks)].filter((t) => t !== undefined).map((t) => `> **${t}**`),
    `How to read:\n\n${METHOD_TEXT.map((t) => `- ${t}`).join("\n")}`,
  ];
  if (model.factsProblems.length) parts.push(`_Facts files that could not be read:_\n\n${model.factsProblems.map((p) => `- ${p}`).join("\n")}`);
  for (const section of model.sections) parts.push(sectionText(model, section, multiStack));
  const cross = crossStack(model);
  if (cross) parts.push(cross);
  parts.push(`_Rows: ${model.comparison.rows.length}; numbers at about 4 significant digits (${num(1234.5678)}, ${num(0.012345)}); full precision in summary.json._`);
  return parts.join("\n\n") + "\n";
}
