/** Docker's pre-flight: the daemon answers, enforces CPU set and memory, publishes ports through kernel NAT; image and data fit on its disk. */
import { readFileSync } from "node:fs";
import { shq } from "../../lib/shell.ts";
import { allPackages } from "../../workloads/registry.ts";
import type { KindPreflight } from "../kind.ts";
import { GiB, MiB, type Check, type Envs, type Observations } from "../preflight/check.ts";
import type { DockerOptions } from "./options.ts";
import { planDockerImage } from "./spec.ts";
import type { Experiment } from "../experiment.ts";

const optionsOf = (e: Envs[number]) => e.options as DockerOptions;

/** The host's dockerd answers (obs_docker's lines); also for kinds that only build or save the tools image there. */
export function dockerDaemonCheck(o: Observations, forWhom: string[]): Check {
  const down = o.get("docker.down");
  if (down !== undefined || !o.has("docker.server")) {
    return { id: "docker-daemon", title: "Docker daemon answers", for: forWhom, status: "fail", detail: `docker info: ${down ?? "not observed"}`, fix: "start dockerd: bash scripts/services.sh docker (systemd: systemctl start docker)" };
  }
  return { id: "docker-daemon", title: "Docker daemon answers", for: forWhom, status: "ok", detail: `Docker ${o.get("docker.server")}, ${o.get("docker.driver")}, cgroup v${o.get("docker.cgroup")}` };
}

/** The observe lines of the tools image on the host: the daemon, whether the image is there, the daemon's disk. */
export function dockerObserveCalls(x: Experiment): string[] {
  return [
    "obs_docker",
    `obs docker.image "$(docker image inspect ${shq(planDockerImage(x, allPackages()).tag)} >/dev/null 2>&1 && echo present || echo absent)"`,
    `obs_disk dockerRoot "$(docker info --format '{{.DockerRootDir}}' 2>/dev/null || echo /var/lib/docker)"`,
  ];
}

function dockerChecks(o: Observations, envs: Envs): Check[] {
  const forWhom = envs.map((e) => e.name);
  const daemon = dockerDaemonCheck(o, forWhom);
  if (daemon.status === "fail") return [daemon];
  const warnings = o.get("docker.warnings") ?? "";
  const noLimits = /No (memory|cpuset|swap) limit support|cpuset.*not supported/i.test(warnings);
  const proxy = o.get("docker.userlandProxy");
  const bridged = envs.filter((e) => optionsOf(e).network === "bridge").map((e) => e.name);
  const checks: Check[] = [
    daemon,
    {
      id: "docker-limits", title: "Docker enforces CPU set and memory", for: forWhom, status: noLimits ? "fail" : "ok",
      detail: noLimits ? warnings : "no limit warnings from docker info",
      ...(noLimits ? { fix: "enable the cpuset and memory cgroup controllers (kernel cmdline cgroup_enable=memory swapaccount=1; on cgroup v2 delegate cpuset and memory)" } : {}),
    },
  ];
  if (bridged.length) {
    checks.push({
      id: "docker-nat-path", title: "published ports through kernel NAT", for: bridged, status: proxy === "off" ? "ok" : "warn",
      detail: proxy === "off" ? "dockerd runs with --userland-proxy=false" : `userland proxy ${proxy ?? "unknown"}: clients on the host go through docker-proxy (a user-space relay), not NAT`,
      ...(proxy === "off" ? {} : { fix: "start dockerd with --userland-proxy=false, or {\"userland-proxy\": false} in /etc/docker/daemon.json and restart it" }),
    });
  }
  return checks;
}

export const dockerPreflight = {
  tools: [
    { command: "docker", package: "docker.io", probe: "docker --version" },
    { command: "mmdebstrap", package: "mmdebstrap", probe: "mmdebstrap --version" },
  ],
  library: readFileSync(new URL("./observe.sh", import.meta.url), "utf8"),
  observe: dockerObserveCalls,
  checks: (_x, o, envs) => dockerChecks(o, envs),
  disk: (_x, o, envs, data) => {
    const volume = envs.filter((e) => optionsOf(e).storage === "volume").map((e) => e.name);
    const overlay = envs.filter((e) => optionsOf(e).storage === "overlay").map((e) => e.name);
    return [
      ...(volume.length ? [{ label: "ioDir", bytes: data + 256 * MiB, for: volume, what: "trial data on volumes" }] : []),
      ...(o.get("docker.image") !== "present" ? [{ label: "dockerRoot", bytes: GiB, for: envs.map((e) => e.name), what: "tools image" }] : []),
      ...(overlay.length ? [{ label: "dockerRoot", bytes: data + 256 * MiB, for: overlay, what: "trial data in overlay" }] : []),
    ];
  },
} satisfies KindPreflight;
