/**
 * The docker kind: one container per environment from the tools image, in the study's four
 * configurations (bridge/NAT or host network, overlay or volume storage), with the stack's CPU set and
 * memory. spec.ts plans it; e2e runs `docker run` from the spec, the Pulumi program a docker.Container.
 */
import type { KindModule } from "../kind.ts";
import { commandStep } from "../plan.ts";
import { allPackages } from "../../workloads/registry.ts";
import { DOCKER_PRESETS, dockerOptionsSchema, type DockerOptions } from "./options.ts";
import { containerSteps, planDocker, planDockerImage, type ContainerSpec } from "./spec.ts";
import { dockerPreflight } from "./preflight.ts";

/** The ImagePlan id of the tools image (the same image for every kind that runs it). */
export const TOOLS_IMAGE = "docker-tools";

export const docker = {
  kind: "docker",
  title: "a Docker container from the tools image, the stack's CPU set and memory",
  presets: DOCKER_PRESETS,
  inDefaultStack: true,
  optionsSchema: dockerOptionsSchema,
  images: (x) => {
    const image = planDockerImage(x, allPackages());
    return [{ id: TOOLS_IMAGE, commands: image.commands, resource: "docker-image", name: "docker-image", tag: image.tag }];
  },
  plan: (x, def, ctx) => planDocker(x, def, ctx.index, planDockerImage(x, allPackages()).tag),
  steps: (plan) => [...plan.commands.map((c) => commandStep("environment", plan.def.name, c)), ...containerSteps(plan.def.name, plan.spec)],
  preflight: dockerPreflight,
  component: async () => (await import("./component.ts")).dockerComponent,
} satisfies KindModule<"docker", DockerOptions, ContainerSpec>;
