/**
 * A hand-made Experiment for unit tests of one kind's plan: stack t1 on this (local) host, two CPUs,
 * 1536 MiB, no environments, xz at smoke once. Tests override what they are about.
 */
import type { Experiment } from "../../stacks/experiment.ts";

export function experiment(over: Partial<Experiment> = {}): Experiment {
  return {
    stack: "t1",
    host: { address: { kind: "local" }, cpuset: "0-1", cpus: 2, memoryMiB: 1536, scratchDir: "/s", ioDir: "/io" },
    environments: [], client: { kind: "host" }, acceleration: "auto", workloads: ["xz"], profile: "smoke",
    repetitions: 1, seed: 1, debianSuite: "bookworm", dockerBaseImage: "debian:bookworm", resultsRoot: "results",
    ...over,
  };
}
