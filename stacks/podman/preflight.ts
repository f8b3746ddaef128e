/**
 * Rootless Podman's pre-flight: its tools (and Docker's, which builds the image it loads), the user (or
 * that the bring-up will create it) with its subordinate ids, a real `podman info` as the user, the OCI
 * runtime, /dev/net/tun for slirp4netns, how the CPU set and memory limit will be applied (a warning where
 * rootless Podman cannot set them itself), and disk under the user's storage.
 */
import { readFileSync } from "node:fs";
import { shJoin, shq } from "../../lib/shell.ts";
import { allPackages } from "../../workloads/registry.ts";
import type { KindPreflight } from "../kind.ts";
import type { Experiment } from "../experiment.ts";
import { GiB, MiB, type Check, type Envs, type Observations, type ToolNeed } from "../preflight/check.ts";
import { dockerPreflight } from "../docker/preflight.ts";
import { nativePreflight } from "../native/preflight.ts";
import { planDockerImage } from "../docker/spec.ts";
import type { PodmanOptions } from "./options.ts";
import { podmanAs } from "./spec.ts";

const optionsOf = (e: Envs[number]) => e.options as PodmanOptions;
const SUB_IDS = 65536;

const TOOLS: readonly ToolNeed[] = [
  { command: "podman", package: "podman", probe: "podman --version" },
  { command: "slirp4netns", package: "slirp4netns", probe: "slirp4netns --version" },
  { command: "newuidmap", package: "uidmap" }, { command: "newgidmap", package: "uidmap" },
  { command: "runuser", package: "util-linux" }, { command: "useradd", package: "passwd" }, { command: "usermod", package: "passwd" },
];
const RUNTIME_PACKAGES: Record<PodmanOptions["runtime"], string> = { runc: "runc", crun: "crun" };

const byUser = (envs: Envs) => {
  const out = new Map<string, string[]>();
  for (const e of envs) out.set(optionsOf(e).user, [...(out.get(optionsOf(e).user) ?? []), e.name]);
  return out;
};

/** The sizes of "start:count" ranges. */
const rangeCount = (text: string | undefined) => (text ?? "").split(/\s+/).filter(Boolean).reduce((a, r) => a + Number(r.split(":")[1] ?? 0), 0);

function userChecks(user: string, forWhom: string[], o: Observations): Check[] {
  const seen = o.get(`podman.user.${user}`);
  if (seen === undefined || seen === "absent") {
    return [{ id: `podman-user:${user}`, title: `rootless Podman user ${user}`, for: forWhom, status: "ok",
      detail: `absent: the bring-up creates it (useradd --system, home /var/lib/${user}, ${SUB_IDS} subordinate uids and gids, overlay storage); podman info runs then` }];
  }
  if (/^uid 0 /.test(seen)) {
    return [{ id: `podman-user:${user}`, title: `rootless Podman user ${user}`, for: forWhom, status: "fail", detail: `${user} is uid 0`, fix: "set the environment's user to an unprivileged one (virtperf-podman)" }];
  }
  const ids = (["subuid", "subgid"] as const).map((f) => ({ f, n: rangeCount(o.get(`podman.${f}.${user}`)) }));
  const short = ids.filter((i) => i.n > 0 && i.n < SUB_IDS);
  const checks: Check[] = [{
    id: `podman-user:${user}`, title: `rootless Podman user ${user}`, for: forWhom, status: short.length ? "fail" : "ok",
    detail: `${seen}; ${ids.map((i) => (i.n ? `${i.f} ${i.n} ids${i.n < SUB_IDS ? ` (needs at least ${SUB_IDS})` : ""}` : `no ${i.f} range (the bring-up adds ${SUB_IDS})`)).join(", ")}`,
    ...(short.length ? { fix: `give ${user} at least ${SUB_IDS} subordinate ids: usermod --add-subuids/--add-subgids (the image has files of uid 65534)` } : {}),
  }];
  const down = o.get(`podman.down.${user}`);
  const info = o.get(`podman.info.${user}`);
  if (down !== undefined || !info) {
    return [...checks, { id: `podman-info:${user}`, title: `podman info as ${user}`, for: forWhom, status: "fail", detail: `podman info: ${down ?? "not observed"}`,
      fix: `run it yourself: env -i PATH=/usr/bin:/bin runuser -u ${user} -- podman info (subuid ranges, newuidmap, a stale storage: podman system migrate)` }];
  }
  const [version, rootless, driver] = info.split("|");
  const vfs = driver === "vfs";
  checks.push({
    id: `podman-info:${user}`, title: `podman info as ${user}`, for: forWhom, status: rootless !== "true" ? "fail" : vfs ? "warn" : "ok",
    detail: `Podman ${version}, rootless ${rootless}, storage ${driver}`,
    ...(rootless !== "true" ? { fix: `${user} runs Podman as root: pick an unprivileged user` } : {}),
    ...(vfs ? { fix: `vfs copies every layer and keeps trial data on a plain directory, not an overlay: driver = "overlay" in ~${user}/.config/containers/storage.conf, then podman system reset as ${user}` } : {}),
  });
  return checks;
}

/** How the CPU set and memory limit reach the container: Podman's own flags, the host's cgroup v1 groups, or taskset alone. */
function limitsCheck(o: Observations, forWhom: string[], users: string[]): Check {
  const info = users.map((u) => o.get(`podman.info.${u}`)).find((i) => i !== undefined);
  const [, , , , version, , controllers] = (info ?? "").split("|");
  const cgroupFs = o.get("podman.cgroupFs");
  const delegated = version === "v2" && /\bcpuset\b/.test(controllers ?? "") && /\bmemory\b/.test(controllers ?? "");
  if (delegated) return { id: "podman-limits", title: "rootless Podman sets the CPU set and memory", for: forWhom, status: "ok", detail: `cgroup v2, controllers delegated: ${controllers}` };
  const v1 = version === "v1" || (version === undefined && cgroupFs !== "cgroup2fs");
  const v1Writable = o.get("cgroup.v1.cpuset") === "writable" && o.get("cgroup.v1.memory") === "writable";
  if (v1 && v1Writable) {
    return { id: "podman-limits", title: "rootless Podman sets the CPU set and memory", for: forWhom, status: "warn",
      detail: "cgroup v1: rootless Podman ignores --cpuset-cpus and --memory; its container and every podman exec join host cgroup v1 groups instead (as native), so trials get the same CPU set and memory limit (conmon, slirp4netns and rootlessport in them too); podman inspect shows none",
      fix: "for Podman's own limits: a cgroup v2 host with cpuset and memory delegated to the user (systemd: loginctl enable-linger and Delegate=cpuset memory for user@.service)" };
  }
  return { id: "podman-limits", title: "rootless Podman sets the CPU set and memory", for: forWhom, status: "warn",
    detail: `${v1 ? "cgroup v1 hierarchies not writable" : `cgroup v2 without cpuset and memory delegated to the user (${controllers || "none"})`}: CPUs pinned with taskset only, NO memory limit`,
    fix: "delegate cpuset and memory to the user (systemd: loginctl enable-linger and Delegate=cpuset memory for user@.service), or run as root on a writable cgroup v1 tree" };
}

function hostChecks(o: Observations, envs: Envs): Check[] {
  const forWhom = envs.map((e) => e.name);
  const tun = o.get("podman.tun");
  const checks: Check[] = [{
    id: "podman-tun", title: "/dev/net/tun for slirp4netns", for: forWhom, status: tun === "absent" ? "fail" : "ok",
    detail: tun === "absent" ? "no /dev/net/tun" : tun === "666" || tun === undefined ? `mode ${tun ?? "unknown"}` : `mode ${tun}: the bring-up makes it 0666 (Debian's default) so slirp4netns can open it as the user`,
    ...(tun === "absent" ? { fix: "modprobe tun (slirp4netns, Podman's rootless network, needs it)" } : {}),
  }];
  if (o.get("podman.catatonit") === "absent") {
    checks.push({ id: "podman-init", title: "catatonit for the container's init (--init)", for: forWhom, status: "fail",
      detail: "/usr/libexec/podman/catatonit is absent: podman run --init fails", fix: "apt-get install catatonit" });
  }
  const crun = envs.filter((e) => optionsOf(e).runtime === "crun").map((e) => e.name);
  const unified = o.get("podman.unifiedControllers") ?? "";
  if (crun.length && o.get("podman.cgroupFs") !== "cgroup2fs" && unified) {
    checks.push({ id: "podman-crun-hybrid", title: "crun on this cgroup layout", for: crun, status: "fail",
      detail: `hybrid cgroups with controllers in the cgroup2 hierarchy (${unified}): crun refuses to start containers ("cgroups in hybrid mode not supported")`,
      fix: "use runtime runc (the podman-rootless preset's)" });
  }
  for (const [runtime, names] of byRuntime(envs)) {
    const seen = o.get(`tool.${runtime}`) ?? "not observed";
    const ok = seen.startsWith("ok");
    checks.push({ id: `podman-runtime:${runtime}`, title: `OCI runtime ${runtime}`, for: names, status: ok ? "ok" : "fail", detail: `${runtime}: ${seen}`,
      ...(ok ? {} : { fix: `apt-get install ${RUNTIME_PACKAGES[runtime]}` }) });
  }
  const down = o.get("docker.down");
  if (down !== undefined || !o.has("docker.server")) {
    checks.push({ id: "podman-image-source", title: "Docker daemon answers (it builds the tools image Podman loads)", for: forWhom, status: "fail",
      detail: `docker info: ${down ?? "not observed"}`, fix: "start dockerd: bash scripts/services.sh docker (systemd: systemctl start docker)" });
  }
  return checks;
}

function byRuntime(envs: Envs): Map<PodmanOptions["runtime"], string[]> {
  const out = new Map<PodmanOptions["runtime"], string[]>();
  for (const e of envs) out.set(optionsOf(e).runtime, [...(out.get(optionsOf(e).runtime) ?? []), e.name]);
  return out;
}

const sourceTag = (x: Experiment) => planDockerImage(x, allPackages()).tag;

export const podmanPreflight = {
  tools: [...TOOLS, ...dockerPreflight.tools],
  library: [nativePreflight.library, dockerPreflight.library, readFileSync(new URL("./observe.sh", import.meta.url), "utf8")].join("\n"),
  observe: (x: Experiment, envs: Envs) => [
    "obs_cgroups", ...dockerPreflight.observe(x),
    ...[...byRuntime(envs).keys()].map((r) => `obs_tool ${r} ${shq(`${r} --version`)}`),
    ...[...byUser(envs).keys()].map((u) => `obs_podman ${shJoin([u, `localhost/${sourceTag(x)}`, ...podmanAs(u)])}`),
  ],
  checks: (_x, o, envs) => [
    ...[...byUser(envs)].flatMap(([user, names]) => userChecks(user, names, o)),
    limitsCheck(o, envs.map((e) => e.name), [...byUser(envs).keys()]),
    ...hostChecks(o, envs),
  ],
  disk: (x, o, envs, data) => {
    const users = [...byUser(envs)];
    // Docker's own environments count the Docker image already.
    const dockerImage = o.get("docker.image") !== "present" && !x.environments.some((e) => e.options.kind === "docker");
    return [
      ...users.filter(([u]) => o.get(`podman.image.${u}`) !== "present").map(([u, names]) => ({ label: "podmanRoot", bytes: GiB, for: names, what: `tools image in ${u}'s storage` })),
      ...(dockerImage ? [{ label: "dockerRoot", bytes: GiB, for: envs.map((e) => e.name), what: "tools image (Docker builds it)" }] : []),
      { label: "podmanRoot", bytes: data + 256 * MiB, for: envs.map((e) => e.name), what: "trial data in the container's storage" },
    ];
  },
} satisfies KindPreflight;
