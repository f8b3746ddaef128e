/**
 * Reading the report's inputs: result folders (`results/<stack>/<run>/` with trials.jsonl and facts/),
 * folders that hold such run folders, `trials.jsonl` files, and the JSON of `pulumi stack output --json`
 * (an object whose `records` is the array of trial records, beside runId, resultsDir, seed, counts, ok,
 * failed, pending; the older `trials` key is read too).
 *
 * Every trials file goes through the one reader beside the schema (workloads/record.ts): a bad line is
 * skipped and listed, never fatal; a bad input (missing, a FIFO, a device, a directory named
 * trials.jsonl, unreadable JSON) is listed and the others are read; only when nothing usable is left is
 * it an error. File types are checked before anything is opened: a FIFO would block.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ConfigError } from "../lib/errors.ts";
import {
  dedupeTrials, notARegularFile, parseTrialsText, printable, readTrialsFile,
  type LocatedRecord, type SkippedLine,
} from "../model/record.ts";

export type { LocatedRecord, SkippedLine } from "../model/record.ts";

/** Environment facts of one run folder: facts/host.json and facts/<environment>.json, as found. */
export interface RunFacts {
  readonly dir: string;
  readonly host: unknown;
  readonly environments: ReadonlyMap<string, unknown>;
  /** Facts files that could not be read, with the reason (shown in the report, never fatal). */
  readonly unreadable: readonly string[];
  /** experiment.json's `experiment` (the validated stack config), when the folder has it. */
  readonly experiment?: unknown;
  /** experiment.json's `notMeasured`: pairs the planner left out of the schedule, with why (as found; read defensively). */
  readonly notMeasured?: unknown;
}

export interface LoadedInputs {
  /** One record per trial (see dedupeTrials), in input order. */
  readonly records: readonly LocatedRecord[];
  /** Facts per run id (several run folders of one run would be merged; the last one wins per file). */
  readonly facts: ReadonlyMap<string, RunFacts>;
  readonly sources: readonly string[];
  /** Lines and whole inputs (line 0) left out, with the reason. */
  readonly skipped: readonly SkippedLine[];
  /** Records of a trial already counted (a resumed run appended it twice): counted once. */
  readonly duplicates: readonly SkippedLine[];
  /** Ok records of a trial replaced by another attempt of it (a clean retry of a flagged one, a later one): not counted. */
  readonly superseded: readonly { readonly record: LocatedRecord; readonly by: LocatedRecord }[];
  /** Failed attempts of trials that were retried and then succeeded. */
  readonly retried: number;
}

const TRIALS_FILE = "trials.jsonl";
const MAX_SEARCH_DEPTH = 4;

/** Reads a small JSON file beside the trials, or undefined (never throws; never opens a non-file). */
function readJsonFile(path: string): { json?: unknown; error?: string } {
  if (!existsSync(path)) return {};
  const why = notARegularFile(path);
  if (why) return { error: `${path}: ${why}` };
  try {
    return { json: JSON.parse(readFileSync(path, "utf8")) };
  } catch (e) {
    return { error: `${path}: ${printable((e as Error).message, 200)}` };
  }
}

/** Reads facts/*.json and experiment.json beside a trials file, defensively: unreadable files are listed. */
export function readRunFacts(runDir: string): RunFacts | null {
  const factsDir = join(runDir, "facts");
  const experiment = readJsonFile(join(runDir, "experiment.json")).json;
  const exp = experiment && typeof experiment === "object"
    ? { experiment: (experiment as { experiment?: unknown }).experiment, notMeasured: (experiment as { notMeasured?: unknown }).notMeasured } : {};
  if (!existsSync(factsDir) || !statSync(factsDir).isDirectory()) return experiment ? { dir: runDir, host: null, environments: new Map(), unreadable: [], ...exp } : null;
  const environments = new Map<string, unknown>();
  const unreadable: string[] = [];
  let host: unknown = null;
  for (const name of readdirSync(factsDir).sort()) {
    if (!name.endsWith(".json")) continue;
    const r = readJsonFile(join(factsDir, name));
    if (r.error) unreadable.push(printable(r.error));
    else if (name === "host.json") host = r.json;
    else environments.set(basename(name, ".json"), r.json);
  }
  return { dir: runDir, host, environments, unreadable, ...exp };
}

interface OneSource {
  records: LocatedRecord[];
  skipped: SkippedLine[];
  runDirs: string[];
}

const whole = (file: string, reason: string): SkippedLine => ({ file, line: 0, reason });

/** Records from the JSON of `pulumi stack output --json` (`records`, or the older `trials`). */
function parseStackOutput(json: unknown, file: string): OneSource {
  const o = (json ?? {}) as { records?: unknown; trials?: unknown; resultsDir?: unknown };
  const raw = o.records ?? o.trials;
  const list = typeof raw === "string" ? safeJson(raw) : raw;
  const runDirs = typeof o.resultsDir === "string" ? [resolve(dirname(file), o.resultsDir)] : [];
  if (!Array.isArray(list)) {
    return { records: [], skipped: [whole(file, `a stack output must have a "records" array of trial records (got ${raw === undefined ? "no records" : typeof raw})`)], runDirs: [] };
  }
  const where = `${file}#records`;
  const text = list.map((item) => JSON.stringify(item)).join("\n");
  return { ...parseTrialsText(text, where), runDirs };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Every trials.jsonl under `dir` (the folder itself first), a few levels deep; bad entries listed. */
function findTrialsFiles(dir: string, skipped: SkippedLine[], depth = 0): string[] {
  const own = join(dir, TRIALS_FILE);
  if (existsSync(own)) {
    const why = notARegularFile(own);
    if (!why) return [own];
    skipped.push(whole(own, why));
    if (!statSync(own).isDirectory()) return [];
  }
  if (depth >= MAX_SEARCH_DEPTH) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isDirectory() && !entry.name.startsWith(".") && entry.name !== "raw" && entry.name !== "facts" && entry.name !== TRIALS_FILE) {
      found.push(...findTrialsFiles(join(dir, entry.name), skipped, depth + 1));
    }
  }
  return found;
}

/** A stack output saved to a file: named *.json, or JSON text with a records/trials key. */
function looksLikeStackOutput(path: string, text: string): boolean {
  if (path.endsWith(".json")) return true;
  return !path.endsWith(".jsonl") && /^\s*\{[\s\S]*"(records|trials)"/.test(text.slice(0, 4096)) && safeJson(text) !== undefined;
}

function loadPath(path: string): OneSource {
  if (!existsSync(path)) return { records: [], skipped: [whole(path, "no such file or folder")], runDirs: [] };
  if (statSync(path).isDirectory()) {
    const skipped: SkippedLine[] = [];
    const files = findTrialsFiles(path, skipped);
    if (files.length === 0 && skipped.length === 0) skipped.push(whole(path, `no ${TRIALS_FILE} in this folder or the ${MAX_SEARCH_DEPTH} levels below it`));
    const reads = files.map(readTrialsFile);
    return { records: reads.flatMap((r) => r.records), skipped: [...skipped, ...reads.flatMap((r) => r.skipped)], runDirs: files.map((f) => dirname(f)) };
  }
  const why = notARegularFile(path);
  if (why) return { records: [], skipped: [whole(path, why)], runDirs: [] };
  const text = readFileSync(path, "utf8");
  if (looksLikeStackOutput(path, text)) {
    const json = safeJson(text);
    if (json === undefined) return { records: [], skipped: [whole(path, "not valid JSON (expected the output of `pulumi stack output --json`)")], runDirs: [] };
    return parseStackOutput(json, path);
  }
  return { ...parseTrialsText(text, path), runDirs: [dirname(path)] };
}

/** loadPath, with anything unexpected (an unreadable folder, a file gone meanwhile) listed, not thrown. */
function loadPathSafely(path: string): OneSource {
  try {
    return loadPath(path);
  } catch (e) {
    return { records: [], skipped: [whole(path, `cannot read it (${printable((e as Error).message, 200)})`)], runDirs: [] };
  }
}

/** "file:line: reason" (or "file: reason" for a whole input), control characters made visible. */
export function skippedText(s: SkippedLine): string {
  return `${printable(s.file)}${s.line > 0 ? `:${s.line}` : ""}: ${printable(s.reason)}`;
}

/**
 * Loads every input; `stacks` (if non-empty) keeps only those stacks. Bad lines and bad inputs are
 * listed in `skipped`; throws ConfigError only when no usable record is left.
 */
export function loadInputs(paths: readonly string[], stacks: readonly string[] = []): LoadedInputs {
  if (paths.length === 0) throw new ConfigError("report.inputs", "no input given", { suggestions: ["virtperf report results/<stack>/<run> --out report/"] });
  const all: LocatedRecord[] = [];
  const skipped: SkippedLine[] = [];
  const facts = new Map<string, RunFacts>();
  for (const path of paths) {
    const one = loadPathSafely(path);
    for (const r of one.records) all.push(r);
    skipped.push(...one.skipped);
    const runIds = new Set(one.records.map((r) => r.record.run));
    for (const dir of one.runDirs) {
      const f = readRunFacts(dir);
      // A run folder belongs to the run id of its records; a stack output's resultsDir to all its runs.
      if (f) for (const run of runIds) facts.set(run, f);
    }
  }
  const kept = stacks.length === 0 ? all : all.filter((r) => stacks.includes(r.record.stack));
  if (kept.length === 0) {
    const have = [...new Set(all.map((r) => r.record.stack))].sort();
    const why = skipped.slice(0, 3).map(skippedText).join("; ");
    throw new ConfigError(stacks.length ? "report.stack" : "report.inputs", stacks.length && have.length
      ? `no trial records of stack ${stacks.map((s) => printable(s)).join(", ")} (found: ${have.map((s) => printable(s)).join(", ")})`
      : `no usable trial records in ${paths.map((p) => printable(p)).join(", ")}${why ? ` (${why}${skipped.length > 3 ? `; ${skipped.length - 3} more` : ""})` : ""}`,
    { suggestions: ["pass a results/<stack>/<run> folder, a trials.jsonl file or `pulumi stack output --json` saved to a file"] });
  }
  const d = dedupeTrials(kept);
  return { records: d.records, facts, sources: [...paths], skipped, duplicates: d.duplicates, superseded: d.superseded, retried: d.retried };
}
