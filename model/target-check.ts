/**
 * Checks a TargetSpec that arrived as JSON (`virtperf trial --target/--client`) before anything connects:
 * every field that reaches ssh, docker or virsh must match its grammar (lib/validate.ts), so a host
 * like `-oProxyCommand=...` or a path with `$(...)` is refused here, never run. No zod: `virtperf trial`
 * starts once per trial and loads only what it needs.
 */
import {
  hostProblem, jumpProblem, libvirtUriProblem, nameProblem, pathProblem, portProblem, userProblem,
} from "../lib/validate.ts";
import type { TargetSpec } from "./target.ts";

type Check = (v: unknown) => string | undefined;
type Fields = Record<string, { check: Check; required?: boolean }>;

const wordList: Check = (v) => Array.isArray(v) && v.every((w) => typeof w === "string" && !w.includes("\0")) ? undefined : "a list of strings (command words, passed literally)";
const flag: Check = (v) => (typeof v === "boolean" ? undefined : "true or false");
const path: Check = (v) => pathProblem(v);

const SSH: Fields = {
  host: { check: hostProblem, required: true }, user: { check: userProblem, required: true }, port: { check: portProblem },
  identityFile: { check: path }, knownHostsFile: { check: path }, jump: { check: jumpProblem }, wrap: { check: wordList },
};
const GUEST: Fields = {
  domain: { check: nameProblem, required: true }, user: { check: userProblem, required: true }, identityFile: { check: path, required: true },
  knownHostsFile: { check: path }, firstUse: { check: flag }, libvirtUri: { check: libvirtUriProblem }, via: { check: (v) => viaProblem(v, ["ssh"]) },
};
const engine: Check = (v) => (v === "docker" || v === "podman" ? undefined : "docker or podman");
const FIELDS: Record<TargetSpec["kind"], Fields> = {
  local: { wrap: { check: wordList } },
  ssh: SSH,
  docker: {
    container: { check: nameProblem, required: true }, engine: { check: engine }, user: { check: userProblem }, wrap: { check: wordList },
    via: { check: (v) => viaProblem(v, ["ssh", "guest"]) },
  },
  guest: GUEST,
};

/** A `via`: a target of one of `kinds` (an SSH host, or a guest a container lives in). */
function viaProblem(v: unknown, kinds: readonly ("ssh" | "guest")[]): string | undefined {
  const kind = (v as { kind?: unknown } | null)?.kind ?? "ssh";
  if (!kinds.includes(kind as "ssh")) return `a target of kind ${kinds.join(" or ")}`;
  return objectProblem(v, kind === "guest" ? GUEST : SSH);
}

function objectProblem(value: unknown, fields: Fields, kind?: string): string | undefined {
  if (!value || typeof value !== "object" || Array.isArray(value)) return "a JSON object";
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k === "kind") continue;
    if (!(k in fields)) return `unknown field "${k}"${kind ? ` for kind ${kind}` : ""}; fields: ${Object.keys(fields).join(", ")}`;
  }
  for (const [k, f] of Object.entries(fields)) {
    if (o[k] === undefined) {
      if (f.required) return `"${k}" is required${kind ? ` for kind ${kind}` : ""}`;
      continue;
    }
    const p = f.check(o[k]);
    if (p) return `"${k}" must be ${p}`;
  }
  return undefined;
}

/** undefined when `value` is a usable TargetSpec, else what is wrong and what is allowed (one line). */
export function targetProblem(value: unknown): string | undefined {
  const kind = (value as { kind?: unknown } | null)?.kind;
  if (typeof kind !== "string" || !(kind in FIELDS)) return `unknown target kind ${JSON.stringify(kind)}; valid values: ${Object.keys(FIELDS).join(", ")}`;
  const p = objectProblem(value, FIELDS[kind as TargetSpec["kind"]], kind);
  if (p) return p;
  return undefined;
}
