/** `virtperf workloads`: the suite, each workload's cases and metrics with units and direction. */
import { Command } from "commander";
import { WORKLOADS } from "../workloads/registry.ts";
import { WORKLOAD_IDS } from "../workloads/contract.ts";

export function describeWorkloads(): string {
  const lines: string[] = [];
  for (const id of WORKLOAD_IDS) {
    const w = WORKLOADS[id];
    lines.push(`${id}  ${w.title} [${w.group}]`);
    lines.push(`  paper:    ${w.paper}`);
    lines.push(`  packages: ${w.packages.join(" ")}${w.clientPackages.length ? `  (client: ${w.clientPackages.join(" ")})` : ""}`);
    lines.push(`  cases:    ${w.cases.join(", ")}`);
    for (const m of w.metrics) lines.push(`  - ${m.name} [${m.unit}], ${m.better} is better: ${m.description}`);
    lines.push("");
  }
  return lines.join("\n");
}

export function registerWorkloads(program: Command): void {
  program
    .command("workloads")
    .description("list the workloads, their cases and metrics with units")
    .option("--json", "as JSON")
    .action((o: { json?: boolean }) => {
      if (o.json) {
        const out = WORKLOAD_IDS.map((id) => {
          const w = WORKLOADS[id];
          return { id, title: w.title, group: w.group, packages: w.packages, clientPackages: w.clientPackages, cases: w.cases, metrics: w.metrics };
        });
        console.log(JSON.stringify(out, null, 2));
      } else console.log(describeWorkloads());
    });
}
