/**
 * Reading the report's inputs: result folders (`results/<stack>/<run>/` with trials.jsonl and facts/),
 * folders that hold such run folders, `trials.jsonl` files, and the JSON of `pulumi stack output --json`
 * (an object with a `trials` array, `stack`, `runId`, `resultsDir`). Every record goes through
 * `parseRecord`, so a bad line is an error naming its file and line.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ConfigError } from "../lib/errors.ts";
import { parseRecord, RecordError, type TrialRecord } from "../workloads/record.ts";

/** A record and where it came from (for error messages). */
export interface LocatedRecord {
  readonly record: TrialRecord;
  readonly file: string;
  readonly line: number;
}

/** Environment facts of one run folder: facts/host.json and facts/<environment>.json, as found. */
export interface RunFacts {
  readonly dir: string;
  readonly host: unknown;
  readonly environments: ReadonlyMap<string, unknown>;
  /** Facts files that could not be read, with the reason (shown in the report, never fatal). */
  readonly unreadable: readonly string[];
}

export interface LoadedInputs {
  readonly records: readonly LocatedRecord[];
  /** Facts per run id (several run folders of one run would be merged; the last one wins per file). */
  readonly facts: ReadonlyMap<string, RunFacts>;
  readonly sources: readonly string[];
}

const TRIALS_FILE = "trials.jsonl";
const MAX_SEARCH_DEPTH = 4;

/** Parses the lines of a trials.jsonl text; blank lines are skipped. */
export function parseTrialsText(text: string, file: string): LocatedRecord[] {
  const out: LocatedRecord[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") continue;
    out.push({ record: parseRecord(line, { file, line: i + 1 }), file, line: i + 1 });
  }
  return out;
}

/** Reads facts/*.json beside a trials file, defensively: unreadable files are listed, not thrown. */
export function readRunFacts(runDir: string): RunFacts | null {
  const factsDir = join(runDir, "facts");
  if (!existsSync(factsDir) || !statSync(factsDir).isDirectory()) return null;
  const environments = new Map<string, unknown>();
  const unreadable: string[] = [];
  let host: unknown = null;
  for (const name of readdirSync(factsDir).sort()) {
    if (!name.endsWith(".json")) continue;
    const path = join(factsDir, name);
    try {
      const json: unknown = JSON.parse(readFileSync(path, "utf8"));
      if (name === "host.json") host = json;
      else environments.set(basename(name, ".json"), json);
    } catch (e) {
      unreadable.push(`${path}: ${(e as Error).message}`);
    }
  }
  return { dir: runDir, host, environments, unreadable };
}

/** Records from the JSON of `pulumi stack output --json`. */
function parseStackOutput(json: unknown, file: string): LocatedRecord[] {
  const trials = (json as { trials?: unknown } | null)?.trials;
  const parsed = typeof trials === "string" ? safeJson(trials) : trials;
  if (!Array.isArray(parsed)) {
    throw new RecordError(`${file}:1: a stack output must have a "trials" array of trial records (got ${typeof trials})`);
  }
  const where = `${file}#trials`;
  return parsed.map((item, i) => ({ record: parseRecord(JSON.stringify(item), { file: where, line: i + 1 }), file: where, line: i + 1 }));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Every trials.jsonl under `dir` (the folder itself first), a few levels deep. */
function findTrialsFiles(dir: string, depth = 0): string[] {
  const own = join(dir, TRIALS_FILE);
  if (existsSync(own)) return [own];
  if (depth >= MAX_SEARCH_DEPTH) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isDirectory() && !entry.name.startsWith(".") && entry.name !== "raw" && entry.name !== "facts") {
      found.push(...findTrialsFiles(join(dir, entry.name), depth + 1));
    }
  }
  return found;
}

interface OneSource {
  records: LocatedRecord[];
  runDirs: string[];
}

function loadPath(path: string): OneSource {
  if (!existsSync(path)) {
    throw new ConfigError("report.inputs", `no such file or folder: ${path}`, { suggestions: ["pass a results/<stack>/<run> folder, a trials.jsonl file or `pulumi stack output --json` saved to a file"] });
  }
  if (statSync(path).isDirectory()) {
    const files = findTrialsFiles(path);
    const records = files.flatMap((f) => parseTrialsText(readFileSync(f, "utf8"), f));
    return { records, runDirs: files.map((f) => dirname(f)) };
  }
  const text = readFileSync(path, "utf8");
  if (path.endsWith(".json") || (!path.endsWith(".jsonl") && /^\s*\{[\s\S]*"trials"/.test(text.slice(0, 4096)) && safeJson(text) !== undefined)) {
    const json = safeJson(text);
    if (json === undefined) throw new RecordError(`${path}:1: not valid JSON (expected the output of \`pulumi stack output --json\`)`);
    const resultsDir = (json as { resultsDir?: unknown }).resultsDir;
    const runDirs = typeof resultsDir === "string" ? [resolve(dirname(path), resultsDir)] : [];
    return { records: parseStackOutput(json, path), runDirs };
  }
  return { records: parseTrialsText(text, path), runDirs: [dirname(path)] };
}

/**
 * Loads every input; `stacks` (if non-empty) keeps only those stacks.
 * Throws ConfigError when nothing is left to report on.
 */
export function loadInputs(paths: readonly string[], stacks: readonly string[] = []): LoadedInputs {
  if (paths.length === 0) throw new ConfigError("report.inputs", "no input given", { suggestions: ["virtperf report results/<stack>/<run> --out report/"] });
  const records: LocatedRecord[] = [];
  const facts = new Map<string, RunFacts>();
  for (const path of paths) {
    const one = loadPath(path);
    for (const r of one.records) records.push(r);
    const runIds = new Set(one.records.map((r) => r.record.run));
    for (const dir of one.runDirs) {
      const f = readRunFacts(dir);
      // A run folder belongs to the run id of its records; a stack output's resultsDir to all its runs.
      if (f) for (const run of runIds) facts.set(run, f);
    }
  }
  const kept = stacks.length === 0 ? records : records.filter((r) => stacks.includes(r.record.stack));
  if (kept.length === 0) {
    const have = [...new Set(records.map((r) => r.record.stack))].sort();
    throw new ConfigError("report.stack", stacks.length && have.length ? `no trial records of stack ${stacks.join(", ")} (found: ${have.join(", ")})` : `no trial records found in ${paths.join(", ")}`);
  }
  return { records: kept, facts, sources: [...paths] };
}
