/**
 * The bring-up steps of a Plan as e2e runs them, in the Pulumi program's order: host preparation,
 * images, each environment's steps (its kind's module says what its component does, as commands),
 * then facts. Pure.
 */
import { commandStep, type Plan, type Step } from "../stacks/plan.ts";
import { kindModule } from "../stacks/kinds.ts";

export type { Step } from "../stacks/plan.ts";

export function bringUpSteps(p: Plan): Step[] {
  return [
    ...p.host.commands.map((c) => commandStep("prepare", "host", c)),
    ...p.images.flatMap((i) => i.commands.map((c) => commandStep("image", "images", c))),
    ...p.environments.flatMap((env) => kindModule(env.kind).steps(env)),
    ...p.facts.map((c) => commandStep("facts", "facts", c)),
  ];
}
