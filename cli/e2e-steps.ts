/**
 * The bring-up steps of a Plan as e2e runs them, in the Pulumi program's order: host preparation,
 * images, each environment (its commands, then for Docker the volume and `docker run` the
 * DockerEnvironment component's docker.Container stands for), then facts. Pure.
 */
import type { CommandSpec } from "../stacks/experiment.ts";
import { imageCommands, type EnvironmentPlan, type Plan } from "../stacks/plan.ts";
import type { ContainerSpec } from "../stacks/docker/spec.ts";
import { argvToBash, renderDockerRemove, renderDockerRun, renderVolumeCreate } from "../stacks/docker/spec.ts";

export interface Step {
  /** "prepare", "image", "environment", "facts": teardown and pre-clean treat them differently. */
  readonly phase: "prepare" | "image" | "environment" | "facts";
  /** "<environment or host>/<role>", for progress and errors. */
  readonly label: string;
  readonly create: string;
  readonly delete?: string;
}

function fromSpec(phase: Step["phase"], owner: string, c: CommandSpec): Step {
  return { phase, label: `${owner}/${c.role}`, create: c.create, ...(c.delete ? { delete: c.delete } : {}) };
}

/** The container step: what the Pulumi program's docker.Container (and its volume) does, as docker commands. */
export function containerStep(name: string, spec: ContainerSpec): Step {
  const create = [...(spec.volume ? [argvToBash(renderVolumeCreate(spec.volume))] : []), argvToBash(renderDockerRun(spec))].join("\n");
  const del = renderDockerRemove(spec).map((argv) => `${argvToBash(argv)} >/dev/null 2>&1 || true`).join("\n");
  return { phase: "environment", label: `${name}/container`, create, delete: del };
}

export function environmentSteps(env: EnvironmentPlan): Step[] {
  const steps = env.commands.map((c) => fromSpec("environment", env.def.name, c));
  const container = (env as EnvironmentPlan & { container?: ContainerSpec }).container;
  if (container) steps.push(containerStep(env.def.name, container));
  return steps;
}

export function bringUpSteps(p: Plan): Step[] {
  return [
    ...p.host.commands.map((c) => fromSpec("prepare", "host", c)),
    ...imageCommands(p).map((c) => fromSpec("image", "images", c)),
    ...p.environments.flatMap(environmentSteps),
    ...p.facts.map((c) => fromSpec("facts", "facts", c)),
  ];
}
