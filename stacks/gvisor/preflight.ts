/**
 * gVisor's pre-flight: Docker's (daemon, limits, NAT path, disk: a gVisor environment is a Docker
 * container), runsc installed and answering, the runsc-* runtimes registered in dockerd with their
 * flags, and the probe (observe.sh): for each environment, the runtime a throwaway container really
 * starts with, which the planner then uses (runtime.ts resolveRuntime). Fails naming the environment
 * when none of its candidates starts, with the fix.
 */
import { readFileSync } from "node:fs";
import { shq } from "../../lib/shell.ts";
import type { KindPreflight } from "../kind.ts";
import type { Check, Envs, Observations } from "../preflight/check.ts";
import type { Experiment } from "../experiment.ts";
import { dockerPreflight } from "../docker/preflight.ts";
import type { GvisorOptions } from "./options.ts";
import { GVISOR_PROBE_BOUND_S, candidates, parseGvisorProbe, resolveRuntime, runtimeArgs, runtimeName, type GvisorProbe } from "./runtime.ts";
import { ProvisionError } from "../../lib/errors.ts";

const optionsOf = (e: Envs[number]) => e.options as GvisorOptions;

/** The probe calls: one per distinct (network, candidates), in stack order; then the probe image is removed. */
export function probeCalls(envs: Envs): string[] {
  const calls = new Set<string>();
  for (const e of envs) {
    const o = optionsOf(e);
    const { platforms, netstacks } = candidates(o);
    calls.add(`gvisor_probe_env ${shq(o.network)} ${shq(platforms.join(" "))} ${shq(netstacks.join(" "))}`);
  }
  return [`gvisor_probe_image || obs gvisor.probe.image "the probe image could not be made (docker import)"`, ...calls, "gvisor_probe_end"];
}

/** The runtimes each environment may use, registered in dockerd with runsc's flags. */
function registrationChecks(probe: GvisorProbe, envs: Envs): Check[] {
  const rows = envs.map((e) => {
    const { platforms, netstacks } = candidates(optionsOf(e));
    const names = platforms.flatMap((p) => netstacks.map((n) => ({ name: runtimeName(p, n), args: runtimeArgs(p, n) })));
    const missing = names.filter((r) => !(r.name in probe.registered)).map((r) => r.name);
    const other = names.filter((r) => {
      const v = probe.registered[r.name];
      return v !== undefined && !(/(^|\/)runsc$/.test(v.split(" ")[0]!) && v.endsWith(r.args.join(" ")));
    }).map((r) => `${r.name} (${probe.registered[r.name]})`);
    return { env: e.name, names, missing, other };
  });
  const fix = "bash scripts/services.sh docker (registers every runsc-<platform>-<netstack> runtime in /etc/docker/daemon.json and reloads dockerd)";
  return rows.map(({ env, names, missing, other }) => {
    const none = missing.length === names.length;
    const status = none ? "fail" as const : missing.length || other.length ? "warn" as const : "ok" as const;
    const detail = status === "ok" ? `${names.map((r) => r.name).join(", ")} registered`
      : [missing.length ? `not registered: ${missing.join(", ")}` : "", other.length ? `registered with other flags: ${other.join("; ")}` : ""].filter(Boolean).join("; ");
    return { id: `gvisor-runtimes:${env}`, title: "runsc runtimes registered in dockerd", for: [env], status, detail, ...(status === "ok" ? {} : { fix }) };
  });
}

/** The runtime each environment gets, from the probe: the planner's own decision, shown before anything is made. */
function runtimeChecks(probe: GvisorProbe | undefined, envs: Envs): Check[] {
  return envs.map((e) => {
    const base = { id: `gvisor-runtime:${e.name}`, title: "a gVisor container starts (probe)", for: [e.name] };
    if (!probe) return { ...base, status: "fail", detail: "the probe did not run (no gvisor.probed observation)", fix: "run `virtperf doctor --stack <stack>` on the host and read its output" };
    try {
      const r = resolveRuntime(optionsOf(e), probe);
      // Host passthrough instead of gVisor's own netstack measures another network path: said, like TCG.
      return { ...base, status: r.netstackFellBack ? "warn" : "ok", detail: `${r.runtime} (${r.label}): ${r.reason}`,
        ...(r.netstackFellBack ? { fix: "to measure gVisor's own netstack, run on a host where it starts (a runsc that tells network namespaces apart on this kernel)" } : {}) };
    } catch (err) {
      if (!(err instanceof ProvisionError)) throw err;
      return { ...base, status: "fail", detail: err.message, fix: err.suggestions.join("; ") };
    }
  });
}

export const gvisorPreflight = {
  tools: [...dockerPreflight.tools, { command: "runsc", package: "runsc", probe: "runsc --version" }],
  library: [dockerPreflight.library, readFileSync(new URL("./observe.sh", import.meta.url), "utf8")].join("\n"),
  observe: (x: Experiment, envs: Envs) => [...dockerPreflight.observe(x), "obs_gvisor_runtimes", `VIRTPERF_GVISOR_BOUND_S=${GVISOR_PROBE_BOUND_S}`, ...probeCalls(envs)],
  checks: (x: Experiment, o: Observations, envs: Envs) => {
    const probe = parseGvisorProbe(o);
    return [...dockerPreflight.checks(x, o, envs), ...(probe ? registrationChecks(probe, envs) : []), ...runtimeChecks(probe, envs)];
  },
  disk: dockerPreflight.disk,
} satisfies KindPreflight;
