/**
 * `virtperf report [PATH...] [--stack NAME] --out DIR`: reads result folders, trials.jsonl files or
 * saved `pulumi stack output --json`, and writes summary.json, report.md, results.csv and report.html.
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { ConfigError } from "../lib/errors.ts";
import { loadInputs } from "../analysis/load.ts";
import { buildReport, type ReportModel } from "../analysis/sections.ts";
import { renderSummary } from "../analysis/render/summary.ts";
import { renderMarkdown } from "../analysis/render/markdown.ts";
import { renderCsv } from "../analysis/render/csv.ts";
import { renderHtml } from "../analysis/render/html.ts";

export interface ReportOptions {
  /** Output folder (created if missing). */
  readonly out: string;
  /** Keep only these stacks; all when empty or absent. */
  readonly stacks?: readonly string[];
}

export interface ReportResult {
  readonly files: { readonly summary: string; readonly markdown: string; readonly csv: string; readonly html: string };
  readonly model: ReportModel;
}

/** Reads the inputs and writes the four report files. Throws ConfigError or RecordError (file:line) on bad input. */
export function writeReport(inputs: readonly string[], options: ReportOptions): ReportResult {
  if (!options.out) throw new ConfigError("report.out", "no output folder given", { suggestions: ["--out report/"] });
  const loaded = loadInputs(inputs, options.stacks ?? []);
  const model = buildReport(loaded);
  mkdirSync(options.out, { recursive: true });
  const files = {
    summary: join(options.out, "summary.json"),
    markdown: join(options.out, "report.md"),
    csv: join(options.out, "results.csv"),
    html: join(options.out, "report.html"),
  };
  writeFileSync(files.summary, renderSummary(model));
  writeFileSync(files.markdown, renderMarkdown(model));
  const fd = openSync(files.csv, "w");
  try {
    renderCsv(loaded.records, (chunk) => writeSync(fd, chunk));
  } finally {
    closeSync(fd);
  }
  writeFileSync(files.html, renderHtml(model));
  return { files, model };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Adds the `report` verb to the CLI. */
export function registerReport(program: Command): void {
  program
    .command("report")
    .description("compare environments against native: summary.json, report.md, results.csv, report.html")
    .argument("[paths...]", "results/<stack>/<run> folders, folders holding them, trials.jsonl files, or saved `pulumi stack output --json`", ["results"])
    .option("--stack <name>", "only this stack (repeatable)", collect, [] as string[])
    .requiredOption("--out <dir>", "folder to write the report into")
    // Errors (ConfigError, RecordError with file:line) propagate to main.ts, which prints one line.
    .action((paths: string[], opts: { stack: string[]; out: string }) => {
      const { files, model } = writeReport(paths, { out: opts.out, stacks: opts.stack });
      const rows = model.comparison.rows;
      const gaps = rows.filter((r) => r.median === null).length;
      process.stdout.write(`${rows.length} cells (${gaps} gaps) from ${model.comparison.stacks.length} stack(s)\n${Object.values(files).join("\n")}\n`);
    });
}
