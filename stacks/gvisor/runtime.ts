/**
 * gVisor runtimes, decided by proof (DESIGN.md, "decide from proof"): one Docker runtime per (platform,
 * network mode), named `runsc-<platform>-<netstack>` and registered by the set-up (scripts/services.sh
 * writes them into /etc/docker/daemon.json); the pre-flight starts a throwaway container with each
 * candidate (observe.sh `gvisor_probe_env`, in auto's order of preference, stopping at the first that
 * starts) and this module turns what it printed into the environment's runtime and the reason for it.
 * Pure.
 *
 * Seen here (runsc 2022-12 on Linux 6.18): systrap is an unknown platform (gVisor added it in 2023);
 * the kvm platform's sandbox spins without starting (the probe's bound ends it); gVisor's own netstack
 * refuses to start ("cannot run with network enabled in root network namespace": that runsc tells the
 * root namespace by /proc/sys/net/core/rmem_default, which newer kernels show in every namespace), so
 * auto resolves to ptrace with host network passthrough.
 */
import { ProvisionError } from "../../lib/errors.ts";
import type { Observations } from "../preflight/check.ts";
import { GVISOR_NETSTACKS, GVISOR_PLATFORMS, type GvisorNetstack, type GvisorOptions, type GvisorPlatform } from "./options.ts";

/** Seconds a probe container gets to start and exit (ptrace starts one in about 1 s here; a hung kvm sandbox never does). */
export const GVISOR_PROBE_BOUND_S = 12;

/** The Docker runtime name of a (platform, netstack): what `docker run --runtime` names. */
export function runtimeName(platform: GvisorPlatform, netstack: GvisorNetstack): string {
  return `runsc-${platform}-${netstack}`;
}

/** runsc's flags for a (platform, netstack), as the runtime's `runtimeArgs` in daemon.json. */
export function runtimeArgs(platform: GvisorPlatform, netstack: GvisorNetstack): string[] {
  return [`--platform=${platform}`, `--network=${netstack === "gvisor" ? "sandbox" : "host"}`];
}

/** Every runtime the set-up registers (scripts/services.sh; a unit test keeps the two in step). */
export const ALL_RUNTIMES = GVISOR_PLATFORMS.flatMap((platform) => GVISOR_NETSTACKS.map((netstack) => ({
  platform, netstack, name: runtimeName(platform, netstack), args: runtimeArgs(platform, netstack),
})));

export const NETSTACK_TEXT: Record<GvisorNetstack, string> = { gvisor: "gVisor netstack", host: "host network passthrough" };

/** "runsc ptrace, host network passthrough": how reports and records label a gVisor environment. */
export function isolationLabel(platform: GvisorPlatform, netstack: GvisorNetstack): string {
  return `runsc ${platform}, ${NETSTACK_TEXT[netstack]}`;
}

/**
 * The candidates of an environment, in the order the probe tries them. With Docker's host network the
 * container is in the host's network namespace, where runsc never starts its own netstack (it would take
 * the host's interfaces): auto is host passthrough there.
 */
export function candidates(o: Pick<GvisorOptions, "platform" | "netstack" | "network">): { platforms: GvisorPlatform[]; netstacks: GvisorNetstack[] } {
  return {
    platforms: o.platform === "auto" ? [...GVISOR_PLATFORMS] : [o.platform],
    netstacks: o.netstack !== "auto" ? [o.netstack] : o.network === "host" ? ["host"] : [...GVISOR_NETSTACKS],
  };
}

/** Why auto's netstack is host passthrough for a Docker host network (said in the reason). */
const HOST_NETWORK_NOTE = "Docker host network: the container shares the host's network namespace, where runsc never starts its own netstack, so host passthrough";

export type ProbeStatus = "ok" | "fail" | "timeout" | "skipped";

export interface ProbeResult {
  readonly status: ProbeStatus;
  /** ok: the start-up time; otherwise what was seen (docker's error, trimmed), or why it was not tried. */
  readonly detail: string;
  /** ok: files the probe container looked for and did not find (observe.sh GV_PROBE_FILE). */
  readonly missing?: readonly string[];
}

/** What the pre-flight saw: the runtimes dockerd has, and each probe (key `<runtime>@<docker network>`). */
export interface GvisorProbe {
  /** Runtime name -> "<path> <args...>" as `docker info` lists it. */
  readonly registered: Readonly<Record<string, string>>;
  readonly results: Readonly<Record<string, ProbeResult>>;
}

/** Docker's error wrapped around runsc's, trimmed to runsc's own words. */
export function trimDockerError(text: string): string {
  let s = text.replace(/Run 'docker run --help'.*$/s, "").replace(/\s+/g, " ").trim();
  s = s.replace(/^docker: Error response from daemon: /, "").replace(/: unknown\.?$/, "");
  for (let before = ""; before !== s;) {
    before = s;
    s = s.replace(/^(failed to create shim task|OCI runtime (create|start) failed|failed to create task for container): /, "");
  }
  return s.length > 240 ? `${s.slice(0, 237)}...` : s;
}

/** One probe's printed value: `ok <time>`, `fail <docker's error>`, `timeout <bound>`. */
function probeValue(v: string): ProbeResult {
  const m = /^(ok|fail|timeout)\s*(.*)$/.exec(v);
  if (!m) return { status: "fail", detail: v };
  if (m[1] === "ok") {
    const missing = [...m[2]!.matchAll(/\smissing=(\S+)/g)].map((x) => x[1]!);
    return { status: "ok", detail: m[2]!.replace(/\s+missing=\S+/g, ""), ...(missing.length ? { missing } : {}) };
  }
  return { status: m[1] as ProbeStatus, detail: m[1] === "fail" ? trimDockerError(m[2]!) : m[2]! };
}

/** What a result says, one phrase: "started in 0.9 s", "no container within 12 s", runsc's error. */
export function describeProbe(r: ProbeResult): string {
  switch (r.status) {
    case "ok": return `started a container in ${r.detail}`;
    case "timeout": return `no container started within ${r.detail}`;
    case "skipped": return r.detail;
    case "fail": return r.detail;
  }
}

/**
 * `gvisor.runtime.*` and `gvisor.probe.*` observation lines -> the probe; undefined when the probe did not
 * run (no `gvisor.probed` line). A candidate skipped because its platform already failed says
 * `skipped <that failure>`.
 */
export function parseGvisorProbe(o: Observations): GvisorProbe | undefined {
  if (!o.has("gvisor.probed")) return undefined;
  const registered: Record<string, string> = {};
  const results: Record<string, ProbeResult> = {};
  for (const [k, v] of o) {
    const rt = /^gvisor\.runtime\.(.+)$/.exec(k);
    if (rt) { registered[rt[1]!] = v; continue; }
    const pr = /^gvisor\.probe\.(runsc-[a-z]+-[a-z]+)\.([a-z]+)$/.exec(k);
    if (!pr) continue;
    const skipped = /^skipped\s+(.*)$/.exec(v);
    results[`${pr[1]}@${pr[2]}`] = skipped ? { status: "skipped", detail: describeProbe(probeValue(skipped[1]!)) } : probeValue(v);
  }
  return { registered, results };
}

/** A failure of the platform as a whole: every netstack would fail alike, so the probe tries no other. */
export function platformFailed(r: ProbeResult): boolean {
  return r.status === "timeout" || r.status === "skipped" || /unknown platform|\/dev\/kvm/.test(r.detail);
}

/**
 * The result for one candidate: its own probe, or, when it was not probed, the failure of its platform as
 * a whole seen in another probe (a platform unknown to this runsc fails for every netstack and network).
 */
export function resultOf(probe: GvisorProbe, p: GvisorPlatform, n: GvisorNetstack, network: string): ProbeResult | undefined {
  const own = probe.results[`${runtimeName(p, n)}@${network}`];
  if (own) return own;
  const prefix = `runsc-${p}-`;
  const whole = Object.entries(probe.results).find(([k, r]) => k.startsWith(prefix) && r.status !== "skipped" && platformFailed(r));
  return whole ? { status: "skipped", detail: describeProbe(whole[1]) } : undefined;
}

export interface ResolvedRuntime {
  readonly platform: GvisorPlatform;
  readonly netstack: GvisorNetstack;
  /** The Docker runtime name (`runsc-<platform>-<netstack>`). */
  readonly runtime: string;
  readonly args: readonly string[];
  /** "runsc ptrace, host network passthrough". */
  readonly label: string;
  /** Why this one: asked for, or the probe's story (what failed before it, how long it took to start). */
  readonly reason: string;
  /** auto fell back from gVisor's own netstack to host passthrough. */
  readonly netstackFellBack: boolean;
  /** Files the probe found missing in a sandbox of this runtime (none known without a probe). */
  readonly missing: readonly string[];
}

function resolved(platform: GvisorPlatform, netstack: GvisorNetstack, reason: string, netstackFellBack = false, missing: readonly string[] = []): ResolvedRuntime {
  return { platform, netstack, runtime: runtimeName(platform, netstack), args: runtimeArgs(platform, netstack), label: isolationLabel(platform, netstack), reason, netstackFellBack, missing };
}

const comboText = (p: GvisorPlatform, n: GvisorNetstack) => `${p} + ${NETSTACK_TEXT[n]}`;

/** What each tried candidate did, in order, up to (not including) `upTo`, or all; a failed platform once. */
function story(o: Pick<GvisorOptions, "platform" | "netstack" | "network">, probe: GvisorProbe, upTo?: string): string[] {
  const { platforms, netstacks } = candidates(o);
  const out: string[] = [];
  for (const p of platforms) {
    for (const n of netstacks) {
      const name = runtimeName(p, n);
      if (name === upTo) return out;
      const r = resultOf(probe, p, n, o.network);
      if (!r) { out.push(`${comboText(p, n)}: not probed`); continue; }
      if (platformFailed(r)) { out.push(`${p}: ${describeProbe(r)}`); break; }
      out.push(`${comboText(p, n)}: ${describeProbe(r)}`);
    }
  }
  return out;
}

/**
 * The runtime of one environment: explicit options as asked (checked against the probe), "auto" the
 * first candidate the probe started. Without a probe (a preview that could not reach the host, tests):
 * the explicit values, and for auto the most portable choice, said so. Throws ProvisionError when nothing
 * asked for starts.
 */
export function resolveRuntime(o: Pick<GvisorOptions, "platform" | "netstack" | "network">, probe: GvisorProbe | undefined): ResolvedRuntime {
  if (!probe) {
    const platform = o.platform === "auto" ? "ptrace" : o.platform;
    const netstack = o.netstack === "auto" ? "host" : o.netstack;
    return resolved(platform, netstack, `not probed (no pre-flight ran): ${o.platform === "auto" || o.netstack === "auto" ? "auto taken as the most portable choice, " : ""}${comboText(platform, netstack)}`);
  }
  const { platforms, netstacks } = candidates(o);
  for (const p of platforms) {
    for (const n of netstacks) {
      const r = probe.results[`${runtimeName(p, n)}@${o.network}`];
      if (r?.status !== "ok") continue;
      const asked = o.platform !== "auto" && o.netstack !== "auto";
      const before = story(o, probe, runtimeName(p, n));
      const how = `${runtimeName(p, n)} ${describeProbe(r)}`;
      const note = o.netstack === "auto" && o.network === "host" ? `; ${HOST_NETWORK_NOTE}` : "";
      const reason = asked ? `requested (platform ${p}, netstack ${n}); ${how}` : `probed: ${[...before, `${comboText(p, n)}: ${how}`].join("; ")}${note}`;
      return resolved(p, n, reason, o.netstack === "auto" && n !== netstacks[0], r.missing ?? []);
    }
  }
  const tried = story(o, probe);
  throw new ProvisionError(`no gVisor runtime starts a container here with Docker network ${o.network} (platform ${o.platform}, netstack ${o.netstack}): ${tried.join("; ")}`, {
    suggestions: fixesFor(o, probe),
  });
}

/** What to do about the probe's failures, most useful first. */
export function fixesFor(o: Pick<GvisorOptions, "platform" | "netstack" | "network">, probe: GvisorProbe): string[] {
  const { platforms, netstacks } = candidates(o);
  const results = platforms.flatMap((p) => netstacks.map((n) => ({ p, n, name: runtimeName(p, n), r: resultOf(probe, p, n, o.network) })));
  const out: string[] = [];
  if (results.some(({ name, r }) => !(name in probe.registered) || /unknown or invalid runtime/.test(r?.detail ?? ""))) {
    out.push("register the runsc runtimes with dockerd: bash scripts/services.sh docker (writes them into /etc/docker/daemon.json and reloads dockerd)");
  }
  if (results.some(({ r }) => /root network namespace/.test(r?.detail ?? ""))) {
    out.push(o.network === "host" ? "with network: host the container is in the host's network namespace, where gVisor's netstack never starts: set netstack: host (or auto)" : "gVisor's netstack cannot start on this host: set netstack: host (or auto) for the environment");
  }
  if (results.some(({ r }) => /unknown platform/.test(r?.detail ?? ""))) out.push("this runsc predates the platform: set platform: ptrace (or auto), or install a newer runsc");
  if (results.some(({ p, r }) => p === "kvm" && r && r.status !== "ok")) out.push("the kvm platform needs a working /dev/kvm (see `virtperf doctor` for a kvm environment's KVM proof): set platform: ptrace or auto");
  if (out.length === 0) out.push("run the failing runtime by hand: docker run --rm --runtime <runtime> virtperf/tools:<tag> true, and read dockerd's log");
  return out;
}
