/**
 * Shared by the fault tests (test/integration/faults-*.test.ts): a stack file of one's own, `npm run e2e`
 * started and watched, and the processes of a run found by their working directory (the runner names
 * every trial's directories: `<work root>/<suffix>` on the environment's side, `/tmp/virtperf-client-<suffix>`
 * on the client's), so "nothing of the run is left" can be checked without touching anyone else's.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { stringify } from "yaml";

export const ROOT = resolve(import.meta.dirname, "../..");

/** Writes `Pulumi.<stack>.yaml` into `dir` with these `virtperf:` keys; returns its path. */
export function stackFile(dir: string, stack: string, config: Record<string, unknown>): string {
  const file = join(dir, `Pulumi.${stack}.yaml`);
  writeFileSync(file, stringify({ config: Object.fromEntries(Object.entries(config).map(([k, v]) => [`virtperf:${k}`, v])) }));
  return file;
}

export interface Finished { readonly code: number | null; readonly signal: string | null; readonly output: string }

export interface E2eRun {
  readonly child: ChildProcess;
  output(): string;
  readonly done: Promise<Finished>;
  /** Resolves once the output matches `re` (rejects after `timeoutMs`, or when the run ends first). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** `npm run e2e` with these arguments, in its own process group (as a terminal would run it). */
export function startE2e(args: readonly string[], env: NodeJS.ProcessEnv = {}): E2eRun {
  const child = spawn("bin/node22", ["--import", "tsx", "cli/e2e.ts", ...args], {
    cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env },
  });
  let output = "";
  let ended = false;
  const waiters: (() => void)[] = [];
  const onData = (b: Buffer) => { output += b.toString(); for (const w of [...waiters]) w(); };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const done = new Promise<Finished>((r) => child.on("close", (code, signal) => { ended = true; for (const w of [...waiters]) w(); r({ code, signal, output }); }));
  return {
    child, done, output: () => output,
    waitFor: (re, timeoutMs = 600_000) => new Promise((res, rej) => {
      const check = () => {
        const m = output.match(re);
        if (m) { stop(); res(m); } else if (ended) { stop(); rej(new Error(`the run ended before ${re}:\n${output}`)); }
      };
      const timer = setTimeout(() => { stop(); rej(new Error(`no ${re} within ${timeoutMs} ms:\n${output}`)); }, timeoutMs);
      const stop = () => { clearTimeout(timer); waiters.splice(waiters.indexOf(check), 1); };
      waiters.push(check);
      check();
    }),
  };
}

export interface Proc { readonly pid: number; readonly comm: string; readonly cwd: string }

/** Live (not zombie) processes whose working directory is under one of `dirs`. */
export function processesUnder(dirs: readonly string[]): Proc[] {
  const out: Proc[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cwd = readlinkSync(`/proc/${d}/cwd`);
      if (!dirs.some((x) => cwd === x || cwd.startsWith(`${x}/`))) continue;
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      out.push({ pid: Number(d), comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), cwd });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

/** The trial directories under a work root (names `NNN-<env>-<workload>-rN[-warmup]-<6 hex>`). */
export function trialDirs(workRoot: string): string[] {
  return existsSync(workRoot) ? readdirSync(workRoot).filter((n) => /^\d{3}-.+-r\d+(-warmup)?-[0-9a-f]{6}$/.test(n)) : [];
}

/** Both sides' directories of these trials: the environment's under `workRoot`, the client's under /tmp. */
export function trialSides(workRoot: string, names: readonly string[]): string[] {
  return names.flatMap((n) => [join(workRoot, n), `/tmp/virtperf-client-${n}`]);
}

/** Polls `f` every `stepMs` until it is truthy; its last value. */
export async function until<T>(f: () => T, timeoutMs: number, stepMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  let v = f();
  while (!v && Date.now() < end) {
    await new Promise((r) => setTimeout(r, stepMs));
    v = f();
  }
  return v;
}
