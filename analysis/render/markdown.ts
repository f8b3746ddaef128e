/**
 * report.md: the report model as Markdown, page one first (overhead at a glance as a table), then the
 * sections. Syntax only: every table comes from tables.ts, every word from format.ts. Every piece of
 * text from the inputs is escaped: `|`, HTML (`<`, `>`, `&`) and control characters.
 */
import type { ReportModel, Section } from "../sections.ts";
import { METHOD_TEXT, SMOKE_STUDY_NOTE, familyText, isolationStatement, num, smokeText, tcgStatement } from "../format.ts";
import { WARNING_CODES, WARNING_LABEL, WARNING_TEXT, type WarningCode } from "../warnings.ts";
import { printable } from "../../model/record.ts";
import {
  againstGlanceTable, againstTable, contaminatedCells, contaminatedSummary, contaminatedTable, crossStackTable, curveTable, curveTitle, differencesTable, failuresText, glanceTable, inputProblems, measureTable,
  metaTable, stacksTable, type Table,
} from "./tables.ts";

/** Text safe in Markdown and in any HTML a viewer renders from it. */
export function mdText(text: string): string {
  return printable(text).replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

function cell(text: string): string {
  return mdText(text).replaceAll("|", "\\|").replaceAll("\n", " ");
}

function table(t: Table): string {
  const lines = [`| ${t.header.map(cell).join(" | ")} |`, `|${t.header.map(() => "---").join("|")}|`];
  for (const r of t.rows) lines.push(`| ${r.map(cell).join(" | ")} |`);
  return lines.join("\n");
}

function smokeStudyNote(section: Section): string {
  const hasReference = section.measures.some((m) => m.rows.some((r) => r.reference));
  return section.profile === "smoke" && hasReference ? `_${SMOKE_STUDY_NOTE}_` : "";
}

function warningLegend(section: Section): string {
  const used = new Set<WarningCode>(section.measures.flatMap((m) => m.rows.flatMap((r) => r.warnings)));
  const lines = WARNING_CODES.filter((c) => used.has(c)).map((c) => `- **${WARNING_LABEL[c]}**: ${mdText(WARNING_TEXT[c])}`);
  return lines.length ? `_Warnings:_\n\n${lines.join("\n")}` : "";
}

function differences(section: Section): string {
  const same = section.sameEverywhere.length ? `\n\n_Same in all:_\n\n${section.sameEverywhere.map((s) => `- ${mdText(s.label)}: ${mdText(s.value)}`).join("\n")}` : "";
  const t = differencesTable(section);
  if (!t) return `_What differs between these environments:_ nothing that the run's facts and records show, beyond the environment kind.${same}`;
  return `_What differs between these environments:_\n\n${table(t)}${same}`;
}

function sectionText(model: ReportModel, section: Section, multiStack: boolean): string {
  const parts = [`## ${mdText(`${multiStack ? `${section.stack} (${section.profile}): ` : ""}${section.title}`)}`];
  for (const t of section.tcg) parts.push(`> **Warning: ${mdText(tcgStatement(t.environment, t.reason))}.** ${mdText(WARNING_TEXT["tcg-guest"])}.`);
  for (const i of section.isolation) parts.push(`_${mdText(isolationStatement(i.environment, i.label, i.reason))}._`);
  const busy = contaminatedCells(section);
  if (busy.length) parts.push(`> **Trials on a busy host (in the statistics):** ${mdText(busy.join("; "))}. ${mdText(WARNING_TEXT.contaminated)}.`);
  const curves = model.curves.filter((c) => c.stack === section.stack && c.profile === section.profile && section.workloads.includes(c.workload));
  for (const c of curves) parts.push(`**${mdText(curveTitle(c))}**\n\n${table(curveTable(c))}`);
  if (section.measures.length) parts.push(table(measureTable(section)));
  const against = againstTable(section);
  if (against) parts.push(`_Compared with their reference environments (the same cells, their ratio to the reference by the same rule; headline ones are in the verdicts' family):_\n\n${table(against)}`);
  const smoke = smokeStudyNote(section);
  if (smoke) parts.push(smoke);
  const failures = failuresText(model, section);
  if (failures) parts.push(`_Failed trials (left out):_ ${mdText(failures)}.`);
  if (section.measures.length === 0) parts.push("_No successful trial in this section: every trial failed._");
  parts.push(differences(section));
  if (section.notes.length) parts.push(section.notes.map((n) => `_${mdText(n)}_`).join("\n\n"));
  const legend = warningLegend(section);
  if (legend) parts.push(legend);
  return parts.join("\n\n");
}

export function renderMarkdown(model: ReportModel): string {
  const multiStack = model.comparison.stacks.length > 1;
  const parts = [
    "# virtperf report: what isolation costs against bare metal",
    `Inputs: ${model.sources.map((s) => `\`${mdText(s).replaceAll("`", "'")}\``).join(", ")}; written by virtperf ${mdText(model.tool.version)} (commit ${mdText(model.tool.commit)}).`,
    table(stacksTable(model)),
    table(metaTable(model)),
    ...[contaminatedTable(model)].filter((t) => t !== null).map((t) => `_Contaminated trials: ran while the host was busy (the check before and after each trial):_\n\n${table(t)}`),
    ...[smokeText(model.comparison.stacks), contaminatedSummary(model)].filter((t) => t !== undefined).map((t) => `> **${mdText(t)}**`),
  ];
  const tcg = new Map(model.sections.flatMap((s) => s.tcg.map((t) => [`${multiStack ? `${s.stack}/` : ""}${t.environment}`, t.reason] as const)));
  for (const [env, reason] of tcg) parts.push(`> **${mdText(tcgStatement(env, reason))}.** Not KVM numbers: never judged and never set beside the study's KVM figures.`);
  const isolated = new Map(model.sections.flatMap((s) => s.isolation.map((i) => [`${multiStack ? `${s.stack}/` : ""}${i.environment}`, i] as const)));
  for (const [env, i] of isolated) parts.push(`_${mdText(isolationStatement(env, i.label, i.reason))}._`);
  for (const ov of model.overviews) {
    if (ov.rows.length === 0) continue;
    parts.push(`## ${mdText(multiStack ? `${ov.stack} (${ov.profile}): overhead at a glance` : "Overhead at a glance")}\n\n_Performance against ${mdText(ov.baseline ?? "native")} (> 1 is better, whatever the metric's direction)._\n\n${table(glanceTable(ov))}`);
    const against = againstGlanceTable(ov);
    if (against) parts.push(`### ${mdText(multiStack ? `${ov.stack}: against a reference environment` : "Against a reference environment")}\n\n_Each environment against the one its kind names as its reference (gVisor: the same container on runc), on the headline metrics; performance against the reference (> 1 is better)._\n\n${table(against)}`);
  }
  parts.push(mdText(familyText(model.comparison.family)));
  parts.push(`How to read:\n\n${METHOD_TEXT.map((t) => `- ${mdText(t)}`).join("\n")}`);
  const problems = inputProblems(model);
  if (problems.length) parts.push(`_Input problems (left out, the rest is reported):_\n\n${problems.map((p) => `- ${mdText(p)}`).join("\n")}`);
  if (model.factsProblems.length) parts.push(`_Facts files that could not be read:_\n\n${model.factsProblems.map((p) => `- ${mdText(p)}`).join("\n")}`);
  for (const section of model.sections) parts.push(sectionText(model, section, multiStack));
  const cross = crossStackTable(model);
  if (cross) parts.push(`## Across hosts: ratio to each host's own native\n\n${table(cross)}`);
  parts.push(`_Rows: ${model.comparison.rows.length}; numbers at about 4 significant digits (${num(1234.5678)}, ${num(0.012345)}); full precision in summary.json._`);
  return parts.join("\n\n") + "\n";
}
