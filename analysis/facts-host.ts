/**
 * Aspects of the environments that run on the host's kernel, read from their facts (model/facts.ts):
 * native from facts/host.json (host CPU and kernel, and `limits` probed THROUGH the trial wrapper),
 * Docker from facts/<env>.json (`inspect`, `daemon`, `volume` and `inside`, what a process in the
 * container sees).
 */
import type { DockerFacts, NativeFacts } from "../model/facts.ts";
import type { Aspects } from "./facts.ts";
import { memoryLimitText, mib, num, str, withDetails } from "./facts-json.ts";

/** How native's limits were applied (the `mode=` the preparation wrote). */
const NATIVE_MECHANISM: Record<string, string> = {
  cgroup1: "cgroup v1 cpuset",
  cgroup2: "cgroup v2 cpuset",
  taskset: "taskset, no cgroup",
};

export function nativeAspects(host: NativeFacts): Aspects {
  const out: Aspects = { isolation: "none: processes on the host", network: "host network stack", storage: "host filesystem" };
  const mode = str(host.limits?.mode);
  const allowed = str(host.limits?.probe?.cpusAllowed);
  if (allowed) out.cpuset = withDetails(allowed, [mode ? (NATIVE_MECHANISM[mode] ?? mode) : "no limit found"]);
  else if (str(host.onlineCpus)) out.cpuset = `${str(host.onlineCpus)} (whole host: no limits probed)`;
  const limit = memoryLimitText(host.limits?.probe?.memoryLimit);
  const total = num(host.memoryMiB);
  if (!limit && total !== undefined) out.memory = `${total} MiB (whole host: no limit probed)`;
  if (limit) {
    const swapCapped = /swap capped|swap\.max=0/.test(str(host.limits?.note) ?? "");
    out.memory = limit === "unlimited" ? withDetails("unlimited", [mode === "taskset" ? "taskset sets no memory limit" : undefined]) : withDetails(limit, ["cgroup limit", swapCapped ? "no swap" : undefined]);
  }
  const kernel = str(host.kernel);
  if (kernel) out.kernel = kernel;
  const cpu = str(host.cpuModel);
  if (cpu) out.cpuModel = cpu;
  return out;
}

/** Published ports of a bridge container: "4 ports (tcp, udp) on 127.0.0.1". */
export function publishedPorts(bindings: NonNullable<DockerFacts["inspect"]>["portBindings"]): string | undefined {
  if (!bindings) return undefined;
  const ports = new Set<string>(), protos = new Set<string>(), hostIps = new Set<string>();
  for (const [key, list] of Object.entries(bindings)) {
    const [port, proto] = key.split("/");
    if (port) ports.add(port);
    if (proto) protos.add(proto);
    for (const b of list ?? []) hostIps.add(str(b.HostIp) ?? "all addresses");
  }
  if (ports.size === 0) return "no ports published";
  const on = hostIps.size ? ` on ${[...hostIps].join(", ")}` : "";
  return `${ports.size} port${ports.size === 1 ? "" : "s"} (${[...protos].sort().join("+")}) published${on}`;
}

/**
 * The path a host client's packets take to published ports: `portPath` as the facts script measures it
 * (docker-proxy running for the container, or kernel NAT), else the daemon's `userlandProxy` setting.
 */
function portPathText(facts: DockerFacts): string | undefined {
  const path = str(facts.portPath);
  if (path && /docker-proxy|userland/i.test(path)) return "via the userland proxy (docker-proxy)";
  if (path && /iptables|nat/i.test(path)) return "via kernel NAT (iptables), no userland proxy";
  if (path && path !== "host network") return `port path: ${path}`;
  const proxy = facts.daemon?.userlandProxy;
  return typeof proxy === "boolean" ? `userland proxy ${proxy ? "on" : "off"}` : undefined;
}

function dockerNetwork(facts: DockerFacts): string | undefined {
  const mode = str(facts.inspect?.networkMode);
  if (!mode) return undefined;
  const proxyText = portPathText(facts);
  if (mode === "host") return "host network stack (--net=host)";
  if (mode === "bridge" || mode === "default") {
    return ["Docker bridge with NAT", publishedPorts(facts.inspect?.portBindings), proxyText].filter((p) => !!p).join(", ");
  }
  return withDetails(`Docker network mode '${mode}'`, [proxyText]);
}

function dockerStorage(facts: DockerFacts): string | undefined {
  const fs = str(facts.inside?.dataFs);
  // "overlay overlay" (device and type of an overlay mount) says nothing the driver does not.
  const fsText = fs && !/^overlay\b/.test(fs) ? `data on ${fs}` : undefined;
  const volume = facts.volume;
  if (volume) {
    const bind = str(volume.options?.["o"]) === "bind" ? "bind of a host directory" : undefined;
    // The volume's name is in the facts file; the report keeps the line short.
    return withDetails("Docker volume", [str(volume.driver) ? `${str(volume.driver)} driver` : undefined, bind, fsText]);
  }
  const driver = str(facts.daemon?.storageDriver);
  if (volume === null || driver) return withDetails(`container filesystem (${driver ?? "unknown driver"})`, [fsText]);
  return fsText;
}

function dockerCpuset(facts: DockerFacts): string | undefined {
  const seen = str(facts.inside?.cpusAllowed);
  const configured = str(facts.inspect?.cpusetCpus);
  const hasInspect = facts.inspect !== undefined;
  if (!seen && !configured) return hasInspect ? "all host CPUs (no --cpuset-cpus)" : undefined;
  if (!configured) return withDetails(seen!, [hasInspect ? "no --cpuset-cpus" : undefined]);
  return withDetails(seen ?? configured, [seen && seen !== configured ? `docker --cpuset-cpus ${configured}` : "docker --cpuset-cpus"]);
}

function dockerMemory(facts: DockerFacts): string | undefined {
  const bytes = num(facts.inspect?.memoryBytes);
  const swap = num(facts.inspect?.memorySwapBytes);
  if (bytes === 0) return "unlimited (no --memory)";
  if (bytes !== undefined) return withDetails(mib(bytes), ["docker --memory", swap === bytes ? "no swap" : undefined]);
  const inside = memoryLimitText(facts.inside?.memoryLimit);
  return inside ? withDetails(inside, ["cgroup limit seen inside"]) : undefined;
}

/** A container shares the host's kernel and CPU: those come from the daemon or host.json. */
export function dockerAspects(facts: DockerFacts, host: NativeFacts | undefined): Aspects {
  const out: Aspects = {};
  const set = (key: keyof Aspects, v: string | undefined) => { if (v) out[key] = v; };
  const runtime = str(facts.inspect?.runtime);
  set("isolation", runtime === "runc" ? "runc: Linux namespaces and cgroups, the host's kernel" : runtime ? `Docker runtime ${runtime}` : undefined);
  set("cpuset", dockerCpuset(facts));
  set("memory", dockerMemory(facts));
  set("network", dockerNetwork(facts));
  set("storage", dockerStorage(facts));
  set("kernel", str(facts.daemon?.kernel) ?? str(host?.kernel));
  set("cpuModel", str(host?.cpuModel));
  return out;
}
