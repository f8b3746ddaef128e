/**
 * The gvisor kind: a Docker container from the tools image, as the docker kind makes it (same network and
 * storage options, CPU set and memory), run by gVisor's runsc: a user-space kernel between the workload
 * and the host's. The runtime (platform and network mode) is the one the pre-flight's probe proved
 * (runtime.ts), labelled everywhere the environment is shown. Its reference is the same container on
 * runc: the docker environment of the stack with the same network and storage.
 */
import type { KindModule } from "../kind.ts";
import { commandStep } from "../plan.ts";
import { docker } from "../docker/index.ts";
import { containerSteps, planDockerImage, type ContainerSpec } from "../docker/spec.ts";
import type { DockerOptions } from "../docker/options.ts";
import { allPackages } from "../../workloads/registry.ts";
import { GVISOR_PRESETS, gvisorOptionsSchema, type GvisorOptions } from "./options.ts";
import { planGvisor } from "./spec.ts";
import { gvisorPreflight } from "./preflight.ts";

export const gvisor = {
  kind: "gvisor",
  title: "a Docker container from the tools image run by gVisor's runsc (the platform and network mode the host's probe proved)",
  presets: GVISOR_PRESETS,
  // Beyond the study: in a stack only when listed (and only where runsc is registered with dockerd).
  inDefaultStack: false,
  optionsSchema: gvisorOptionsSchema,
  // The docker kind's tools image (the same ImagePlan id, built once when both kinds are in the stack).
  images: (x) => docker.images(x),
  plan: (x, def, ctx) => planGvisor(x, def, ctx.index, planDockerImage(x, allPackages()).tag, ctx.probe.gvisor),
  references: (x, def) => {
    const o = def.options as GvisorOptions;
    // The same container on runc: the stack's docker environments of the same network and storage (not A/A copies).
    return x.environments.filter((e) => e.options.kind === "docker" && !e.calibrationOf
      && (e.options as DockerOptions).network === o.network && (e.options as DockerOptions).storage === o.storage).map((e) => e.name);
  },
  steps: (plan) => [...plan.commands.map((c) => commandStep("environment", plan.def.name, c)), ...containerSteps(plan.def.name, plan.spec)],
  preflight: gvisorPreflight,
  // Docker's component: the spec carries the runtime (docker.Container `runtime`).
  component: async () => (await import("../docker/component.ts")).dockerComponent,
} satisfies KindModule<"gvisor", GvisorOptions, ContainerSpec>;
