/**
 * The one Pulumi mock harness (STYLE.md 7): records every newResource's inputs by type, throws on any
 * call that is not mocked, is installed before the program is imported, and gives `promiseOf`.
 *
 * `runProgram(config)` sets the stack config, installs the mocks and imports index.ts afresh (a query
 * string makes each import a new module instance), so one test file can run the program many times.
 */
import * as pulumi from "@pulumi/pulumi";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  /** Registration order (0-based) across the whole program run. */
  readonly seq: number;
}

let recorded: RecordedResource[] = [];

export const mocks: pulumi.runtime.Mocks = {
  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
    recorded.push({ type: args.type, name: args.name, inputs: args.inputs, seq: recorded.length });
    // Commands echo their inputs and a stdout, as the provider would after running create.
    const state = args.type === "command:local:Command" || args.type === "command:remote:Command"
      ? { ...args.inputs, stdout: "", stderr: "" }
      : args.inputs;
    return { id: `${args.name}-id`, state };
  },
  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    throw new Error(`unmocked call ${args.token}(${JSON.stringify(args.inputs)}): the program must not call providers`);
  },
};

/** Resolves a Pulumi Output (or any value) for assertions. */
export function promiseOf<T>(output: pulumi.Output<T> | T): Promise<T> {
  if (!pulumi.Output.isInstance(output)) return Promise.resolve(output as T);
  return new Promise((resolve) => (output as pulumi.Output<T>).apply((v) => { resolve(v); return v; }));
}

export function resourcesOfType(type: string): RecordedResource[] {
  return recorded.filter((r) => r.type === type);
}

export function allResources(): RecordedResource[] {
  return [...recorded];
}

let runs = 0;

/**
 * Runs index.ts under mocks with the given `virtperf:` config (keys without namespace; objects are passed
 * as JSON text, as `pulumi config set --path` stores them). Returns the program's exports.
 */
export async function runProgram(config: Record<string, unknown>, stack = "dev"): Promise<Record<string, unknown>> {
  recorded = [];
  const all: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) all[`virtperf:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  pulumi.runtime.setAllConfig(all);
  await pulumi.runtime.setMocks(mocks, "virtperf", stack, false);
  runs++;
  return (await import(`../index.ts?run=${runs}`)) as Record<string, unknown>;
}
