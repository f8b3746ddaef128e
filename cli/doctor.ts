/**
 * `virtperf doctor [--stack S] [--config F] [--environments a,b] [--workloads a,b] [--profile P] [--json]`:
 * every pre-flight check of a stack on its host (stacks/preflight/), as a table of check, result, for
 * whom and what was seen, with the fix under each one that is not ok. The same checks `npm run e2e` and
 * the Pulumi program run before anything is created. Exit 0 when none failed (warnings allowed), 1 when
 * one failed, 2 on bad input.
 */
import type { Command } from "commander";
import { parseExperiment } from "../stacks/config.ts";
import { probeHost } from "../stacks/host-probe.ts";
import { failures } from "../stacks/preflight/checks.ts";
import { preflight } from "../stacks/preflight/preflight.ts";
import { renderChecks } from "../stacks/preflight/table.ts";
import { stackConfig, type E2eOptions } from "./e2e.ts";

export interface DoctorOptions extends Pick<E2eOptions, "stack" | "config" | "environments" | "workloads" | "profile"> {
  json?: boolean;
}

export async function doctor(o: DoctorOptions): Promise<number> {
  const x = parseExperiment(stackConfig(o), o.stack, probeHost());
  const p = preflight(x);
  if (o.json) {
    console.log(JSON.stringify({ stack: x.stack, where: p.where, checks: p.checks, ...(p.proof ? { kvmProof: p.proof } : {}), ...(p.gvisor ? { gvisorProbe: p.gvisor } : {}) }, null, 2));
  } else {
    const envs = x.environments.map((e) => e.name).join(", ");
    console.log(`virtperf doctor: stack ${x.stack} on ${p.where}; environments ${envs}; profile ${x.profile}; acceleration ${x.acceleration}\n`);
    console.log(renderChecks(p.checks));
  }
  return failures(p.checks).length ? 1 : 0;
}

export function registerDoctor(program: Command, run: (code: Promise<number>) => Promise<unknown>): void {
  program
    .command("doctor")
    .description("check that this host has everything the stack needs (packages, daemons, cgroups, hugepages, disk, memory, KVM proof)")
    .option("--stack <name>", "stack name", "dev")
    .option("--config <file>", "stack file (default Pulumi.<stack>.yaml)")
    .option("--environments <list>", "environments to check, comma separated (names the stack defines, or presets)")
    .option("--workloads <list>", "workloads to check, comma separated")
    .option("--profile <name>", "profile: smoke, quick, full (default: the stack's)")
    .option("--json", "print the checks as JSON")
    .action(async (o: DoctorOptions) => {
      await run(doctor(o));
    });
}
