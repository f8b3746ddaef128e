/**
 * `virtperf report [PATH...] [--stack NAME] --out DIR`: reads result folders, trials.jsonl files or
 * saved `pulumi stack output --json`, and writes summary.json, report.md, results.csv and report.html.
 *
 * Bad input never hangs and never prints a stack trace: input types are checked before opening (a FIFO
 * blocks), the output folder is created one level at a time (Node's recursive mkdir spins on /proc),
 * outputs are opened non-blocking and never through a FIFO or device, and every message has its
 * control characters made visible. One bad input among several is reported and the others are used.
 */
import { execFileSync } from "node:child_process";
import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { ConfigError } from "../lib/errors.ts";
import { printable } from "../model/record.ts";
import { loadInputs, skippedText } from "../analysis/load.ts";
import { resolveMargins } from "../analysis/groups.ts";
import { buildReport, type ReportModel, type ReportOptionsModel } from "../analysis/sections.ts";
import { renderSummary } from "../analysis/render/summary.ts";
import { renderMarkdown } from "../analysis/render/markdown.ts";
import { renderCsv } from "../analysis/render/csv.ts";
import { renderHtml } from "../analysis/render/html.ts";

export interface ReportOptions extends ReportOptionsModel {
  /** Output folder (created if missing). */
  readonly out: string;
  /** Keep only these stacks; all when empty or absent. */
  readonly stacks?: readonly string[];
}

export interface ReportResult {
  readonly files: { readonly summary: string; readonly markdown: string; readonly csv: string; readonly html: string };
  readonly model: ReportModel;
  /** One line per input line or file left out, and per duplicate record (for the terminal). */
  readonly warnings: readonly string[];
}

const outError = (out: string, what: string) =>
  new ConfigError("report.out", `--out ${printable(out)}: ${what}`, { suggestions: ["--out report/ (a folder you can write, created if missing)"] });

/** mkdir -p one level at a time, checking each existing level is a folder. */
function ensureFolder(out: string): void {
  const abs = resolve(out);
  const missing: string[] = [];
  let at = abs;
  while (!existsSync(at)) {
    missing.unshift(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  if (existsSync(at) && !statSync(at).isDirectory()) throw outError(out, `${printable(at)} is not a folder`);
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (e) {
      throw outError(out, `cannot create ${printable(dir)} (${(e as NodeJS.ErrnoException).code ?? printable((e as Error).message)})`);
    }
  }
}

/** Opens an output file for writing: never a FIFO, device or folder, never blocking. */
function openOutput(out: string, path: string): number {
  if (existsSync(path) && !statSync(path).isFile()) throw outError(out, `${printable(path)} exists and is not a regular file; not overwritten`);
  try {
    return openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NONBLOCK | constants.O_NOFOLLOW, 0o644);
  } catch (e) {
    throw outError(out, `cannot write ${printable(path)} (${(e as NodeJS.ErrnoException).code ?? printable((e as Error).message)})`);
  }
}

function writeOutput(out: string, path: string, fill: (sink: (chunk: string) => void) => void): void {
  const fd = openOutput(out, path);
  try {
    fill((chunk) => writeSync(fd, chunk));
  } finally {
    closeSync(fd);
  }
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
let toolInfo: { version: string; commit: string } | undefined;

/** virtperf's version (package.json) and git commit; "unknown" outside a checkout. Never blocks: 2 s at most. */
export function readToolInfo(): { version: string; commit: string } {
  if (toolInfo) return toolInfo;
  let version = "unknown", commit = "unknown";
  try { version = String((JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version?: unknown }).version ?? "unknown"); } catch { /* stays unknown */ }
  try {
    commit = execFileSync("git", ["-C", ROOT, "rev-parse", "--short=12", "HEAD"], { encoding: "utf8", timeout: 2000, stdio: ["ignore", "pipe", "ignore"] }).trim() || "unknown";
    const dirty = execFileSync("git", ["-C", ROOT, "status", "--porcelain", "--untracked-files=no"], { encoding: "utf8", timeout: 2000, stdio: ["ignore", "pipe", "ignore"] }).trim();
    if (dirty) commit += " (with local changes)";
  } catch { /* not a git checkout */ }
  return (toolInfo = { version, commit });
}

/** Reads the inputs and writes the four report files. Throws ConfigError when nothing usable is given. */
export function writeReport(inputs: readonly string[], options: ReportOptions): ReportResult {
  if (!options.out) throw new ConfigError("report.out", "no output folder given", { suggestions: ["--out report/"] });
  try {
    resolveMargins(options.margins);
  } catch (e) {
    throw new ConfigError("report.margin", `--margin: ${(e as Error).message}`, { suggestions: ["--margin cpu=2 --margin io=5"] });
  }
  const loaded = loadInputs(inputs, options.stacks ?? []);
  const model = buildReport(loaded, { tool: readToolInfo(), ...options });
  ensureFolder(options.out);
  const files = {
    summary: join(options.out, "summary.json"),
    markdown: join(options.out, "report.md"),
    csv: join(options.out, "results.csv"),
    html: join(options.out, "report.html"),
  };
  writeOutput(options.out, files.summary, (w) => w(renderSummary(model)));
  writeOutput(options.out, files.markdown, (w) => w(renderMarkdown(model)));
  writeOutput(options.out, files.csv, (w) => renderCsv(loaded.records, w));
  writeOutput(options.out, files.html, (w) => w(renderHtml(model)));
  const warnings = [
    ...loaded.skipped.map((s) => `skipped ${skippedText(s)}`),
    ...loaded.duplicates.map((s) => `duplicate ${skippedText(s)}`),
    ...model.superseded,
    ...model.contaminated.map((c) => `trial #${c.order} (${c.environment} ${c.workload} rep ${c.rep}, ${c.at}) ran on a busy host: ${printable(c.reasons.join("; ") || "flagged")}; ${c.supersededBy ? `superseded by ${c.supersededBy.at}, not counted` : c.counted ? "in the statistics, its cells warned" : "a warm-up, not counted"}`),
    ...model.problems.map((p) => printable(p)),
  ];
  return { files, model, warnings };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** At most this many warnings go to the terminal; the report lists them all. */
const MAX_WARNINGS = 20;

/** Adds the `report` verb to the CLI. */
export function registerReport(program: Command): void {
  program
    .command("report")
    .description("compare environments against native: summary.json, report.md, results.csv, report.html")
    .argument("[paths...]", "results/<stack>/<run> folders, folders holding them, trials.jsonl files, or saved `pulumi stack output --json`", ["results"])
    .option("--stack <name>", "only this stack (repeatable)", collect, [] as string[])
    .option("--margin <group=percent>", "equivalence margin of a metric group, e.g. cpu=2 or io=5 (repeatable)", collect, [] as string[])
    .requiredOption("--out <dir>", "folder to write the report into")
    // Errors (ConfigError) propagate to main.ts, which prints one line and exits 2.
    .action((paths: string[], opts: { stack: string[]; out: string; margin: string[] }) => {
      const { files, model, warnings } = writeReport(paths, { out: opts.out, stacks: opts.stack, margins: parseMargins(opts.margin) });
      for (const w of warnings.slice(0, MAX_WARNINGS)) process.stderr.write(`virtperf: warning: ${w}\n`);
      if (warnings.length > MAX_WARNINGS) process.stderr.write(`virtperf: warning: ${warnings.length - MAX_WARNINGS} more; all are listed in report.md\n`);
      const rows = model.comparison.rows;
      const gaps = rows.filter((r) => r.median === null).length;
      process.stdout.write(`${rows.length} cells (${gaps} gaps) from ${model.comparison.stacks.length} stack(s)\n${Object.values(files).map((f) => printable(f)).join("\n")}\n`);
    });
}

/** `--margin cpu=2` -> { cpu: 0.02 }; a bad value is a ConfigError naming the flag and what is allowed. */
export function parseMargins(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) {
    const m = /^([a-z]+)=(\d+(?:\.\d+)?)%?$/.exec(v.trim());
    const pct = m ? Number(m[2]) : NaN;
    if (!m || !(pct > 0 && pct < 100)) throw new ConfigError("report.margin", `--margin ${printable(JSON.stringify(v))}: expected <group>=<percent> with 0 < percent < 100, e.g. cpu=2`);
    out[m[1]!] = pct / 100;
  }
  return out;
}
