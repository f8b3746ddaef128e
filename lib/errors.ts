/**
 * One small error hierarchy, by phase (PKB errors.py, execa ExecaError, eks InputPropertyError).
 * Every message says what failed, the offending value, what is allowed and what to do next.
 * The CLI prints `shortMessage`; the full `message` (with detail) only under --verbose or DEBUG.
 */
export class VirtperfError extends Error {
  /** One line for the terminal. */
  readonly shortMessage: string;
  /** What the user could type or change instead. */
  readonly suggestions: readonly string[];
  constructor(shortMessage: string, opts: { detail?: string; suggestions?: readonly string[]; cause?: unknown } = {}) {
    super(opts.detail ? `${shortMessage}\n${opts.detail}` : shortMessage, { cause: opts.cause });
    this.name = new.target.name;
    this.shortMessage = shortMessage;
    this.suggestions = opts.suggestions ?? [];
  }
}

/** Bad stack configuration or CLI input; `propertyPath` names the key (e.g. "virtperf:environments[2].network"). */
export class ConfigError extends VirtperfError {
  readonly propertyPath: string;
  constructor(propertyPath: string, shortMessage: string, opts: { detail?: string; suggestions?: readonly string[]; cause?: unknown } = {}) {
    super(shortMessage, opts);
    this.propertyPath = propertyPath;
  }
}

/** An environment could not be brought up or torn down. */
export class ProvisionError extends VirtperfError {}

/** The host under test lacks what the stack needs; `table` (the pre-flight checks) is always shown. */
export class PreflightError extends ProvisionError {
  readonly table: string;
  constructor(shortMessage: string, table: string, opts: { suggestions?: readonly string[] } = {}) {
    super(shortMessage, { detail: table, ...opts });
    this.table = table;
  }
}

/** A tool the workload needs is missing on the target. */
export class InstallError extends VirtperfError {
  readonly packages: readonly string[];
  constructor(shortMessage: string, packages: readonly string[], opts: { detail?: string; cause?: unknown } = {}) {
    super(shortMessage, { ...opts, suggestions: [`apt-get install ${packages.join(" ")}`, "or rerun with --install"] });
    this.packages = packages;
  }
}

/** A workload's command failed, was killed or timed out. */
export class WorkloadRunError extends VirtperfError {
  readonly command: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly durationMs: number;
  readonly stderrTail: string;
  constructor(args: {
    command: string; exitCode: number | null; signal: string | null; timedOut: boolean;
    durationMs: number; stderrTail: string; cause?: unknown; what?: string;
  }) {
    const what = args.what ?? "workload command";
    // Cause precedence, as execa: timeout, then signal, then exit code.
    const short = args.timedOut
      ? `${what} timed out after ${(args.durationMs / 1000).toFixed(1)} s`
      : args.signal
        ? `${what} was killed by ${args.signal}`
        : `${what} failed with exit code ${args.exitCode}`;
    super(short, { detail: `command: ${args.command}\nstderr (tail):\n${args.stderrTail}`, cause: args.cause });
    this.command = args.command; this.exitCode = args.exitCode; this.signal = args.signal;
    this.timedOut = args.timedOut; this.durationMs = args.durationMs; this.stderrTail = args.stderrTail;
  }
}

/** The trial was stopped before it finished (Ctrl-C, SIGTERM, the run that started it went away). */
export class InterruptedError extends VirtperfError {}

/** The tool's output could not be read: names the tool, what was expected and a piece of what came. */
export class ParseError extends VirtperfError {
  readonly tool: string;
  constructor(tool: string, expected: string, got: string) {
    const excerpt = got.trim().slice(-300) || "(empty output)";
    super(`cannot parse ${tool} output: expected ${expected}`, { detail: `output (tail):\n${excerpt}` });
    this.tool = tool;
  }
}

/** A results file cannot be read: the message names the file and line. */
export class RecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RecordError";
  }
}

/** Last `n` lines of a text, for error messages and failed trial records. */
export function tail(text: string, n = 20): string {
  const lines = text.replace(/\s+$/, "").split("\n");
  return lines.slice(-n).join("\n");
}
