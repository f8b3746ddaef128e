/**
 * gVisor environments as plain data: a Docker environment's plan (stacks/docker/spec.ts: the same tools
 * image, container spec, volume, ports, target and e2e steps) whose container runs under the resolved
 * runsc runtime (`docker run --runtime`, the Pulumi docker.Container's `runtime`), and whose facts add
 * what the sandbox really is: the runtime dockerd gave the container, the platform and network mode of
 * the running sandbox (from its own command line on the host), the kernel the application sees, and
 * whether O_DIRECT reaches the host's disk.
 */
import type { EnvironmentDef, Experiment } from "../experiment.ts";
import type { EnvironmentPlan } from "../plan.ts";
import { shq } from "../../lib/shell.ts";
import { CONTAINER_DATA_DIR, containerSpec, dockerFactsScript, planDocker, type ContainerSpec } from "../docker/spec.ts";
import type { GvisorOptions } from "./options.ts";
import { resolveRuntime, type GvisorProbe, type ResolvedRuntime } from "./runtime.ts";
import { nuttcpCannotRun } from "../../workloads/nuttcp/index.ts";
import { hpccCannotRun } from "../../workloads/hpcc.ts";

export type GvisorEnvironmentPlan = EnvironmentPlan<ContainerSpec>;

function gvisorOptions(env: EnvironmentDef): GvisorOptions {
  if (env.options.kind !== "gvisor") throw new TypeError(`planGvisor: environment "${env.name}" is ${env.options.kind}, not gvisor`);
  return env.options as GvisorOptions;
}

/** The file the facts script opens with O_DIRECT inside the container (under the data directory: the I/O path under test). */
const ODIRECT_PROBE = `${CONTAINER_DATA_DIR}/.virtperf-odirect-probe`;
const URING_PROBE = `${CONTAINER_DATA_DIR}/.virtperf-uring-probe`;

/**
 * Bash (run on the host, after dockerFactsScript's own lines: `$c` is the container) that sets `extra`
 * to the gVisor facts: what was planned, what the running sandbox shows, and the direct-I/O check.
 * O_DIRECT: `dd` in the container holds a file open with it (reading a pipe from `sleep`), and the flags
 * of every host descriptor of the container's processes (runsc's sandbox and gofer) for that file are
 * read from /proc: without O_DIRECT (040000) there, the sandbox does buffered I/O on the host whatever
 * fio asks for (runsc 2022-12 does: fio's numbers then include the host's page cache).
 */
export function gvisorFactsExtension(r: ResolvedRuntime): string {
  const planned = JSON.stringify({ runtime: r.runtime, platform: r.platform, netstack: r.netstack, args: r.args, label: r.label, reason: r.reason });
  return `id=$(docker inspect --format '{{.Id}}' "$c")
runtime=$(docker inspect --format '{{.HostConfig.Runtime}}' "$c")
registered=$(docker info --format ${shq(`{{with index .Runtimes ${JSON.stringify(r.runtime)}}}{{json .}}{{else}}null{{end}}`)} 2>/dev/null || echo null)
runscVersion=$(runsc --version 2>/dev/null | sed -n 1p) || true
pid=$(docker inspect --format '{{.State.Pid}}' "$c")
sandboxArgs=$(tr '\\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || true
sandboxFlags=\${sandboxArgs%% boot *}
# runsc passes the flags that differ from its defaults (platform ptrace, network sandbox) to its sandbox.
platformSeen=$(sed -n 's/.*--platform=\\([a-z]*\\).*/\\1/p' <<<"$sandboxFlags"); platformSeen=\${platformSeen:-ptrace}
networkSeen=$(sed -n 's/.*--network=\\([a-z]*\\).*/\\1/p' <<<"$sandboxFlags")
case \${networkSeen:-sandbox} in sandbox) netstackSeen=gvisor ;; host) netstackSeen=host ;; *) netstackSeen=$networkSeen ;; esac
sandboxKernel=$(docker exec "$c" uname -r 2>/dev/null) || true
sandboxDmesg=$(docker exec "$c" dmesg 2>/dev/null | sed -n 1p) || true
docker exec -d "$c" bash -c ${shq(`sleep 3 | dd of=${ODIRECT_PROBE} oflag=direct bs=4096 status=none; rm -f ${ODIRECT_PROBE}`)} 2>/dev/null || true
sleep 1
fdFlags=""
for p in $(pgrep -f -- "$id"); do
  for fd in /proc/$p/fd/*; do
    case $(readlink "$fd" 2>/dev/null) in *${ODIRECT_PROBE.split("/").pop()}*) fdFlags+="$(sed -n 's/^flags:[[:space:]]*//p' "/proc/$p/fdinfo/\${fd##*/}" 2>/dev/null || true) " ;; esac
  done
done
fdFlags=\${fdFlags% }
oDirect=null
if [ -n "$fdFlags" ]; then oDirect=false; for f in $fdFlags; do if (( 8#$f & 8#40000 )); then oDirect=true; fi; done; fi
# io_uring: a 64 KiB fio write with the io_uring engine in the container (runsc 2022-12: fio dies; MariaDB's
# InnoDB then runs with simulated AIO, workloads/mysql/scripts.ts).
uringExit=$(docker exec "$c" bash -c ${shq(`fio --name=uring --ioengine=io_uring --rw=write --size=64k --bs=4k --filename=${URING_PROBE} >/dev/null 2>&1; echo $?; rm -f ${URING_PROBE}`)} 2>/dev/null) || true
case $uringExit in 0) uring=true ;; [0-9]*) uring=false ;; *) uring=null; uringExit=null ;; esac
extra=$(printf '{"planned":%s,"seen":{"runtime":%s,"registered":%s,"runscVersion":%s,"platform":%s,"netstack":%s,"sandboxFlags":%s,"kernel":%s,"dmesg":%s},"directIo":{"hostFdFlags":%s,"oDirectOnHost":%s},"ioUring":{"works":%s,"fioExit":%s}}' \\
  ${shq(planned)} "$(js "$runtime")" "$registered" "$(js "$runscVersion")" "$(js "$platformSeen")" "$(js "$netstackSeen")" "$(js "$sandboxFlags")" "$(js "$sandboxKernel")" "$(js "$sandboxDmesg")" "$(js "$fdFlags")" "$oDirect" "$uring" "$uringExit")`;
}

/**
 * sockperf on gVisor's host network passthrough, seen here with runsc 2022-12 (bridge and host network
 * alike): its server's recvfrom() on a TCP socket fails with EINVAL at the first message, so no round
 * trip is ever measured. Not probed (the probe container has no sockperf): known, and said so.
 */
const SOCKPERF_ON_HOSTINET = "sockperf cannot run on gVisor's host network passthrough: its recvfrom() on a TCP socket fails with EINVAL (errno 22) at the first message, seen with runsc 2022-12, so no round trip can be measured; gVisor's own netstack would not pass through, but it does not start on this host (see the isolation reason)";

/**
 * EnvironmentPlan of one gVisor environment: Docker's plan of the same network and storage, its
 * container run by the runtime the probe proved (resolveRuntime; throws when none starts), labelled.
 */
export function planGvisor(x: Experiment, env: EnvironmentDef, index: number, imageTag: string, probe: GvisorProbe | undefined): GvisorEnvironmentPlan {
  const o = gvisorOptions(env);
  const r = resolveRuntime(o, probe);
  const container: ContainerSpec = { ...containerSpec(x, env, index, imageTag, o), runtime: r.runtime };
  const docker = planDocker(x, env, index, imageTag, container);
  const nuttcp = nuttcpCannotRun(r.missing), hpcc = hpccCannotRun(r.missing);
  const notRun = {
    ...(nuttcp ? { nuttcp } : {}), ...(hpcc ? { linpack: hpcc, stream: hpcc, randomaccess: hpcc } : {}),
    ...(r.netstack === "host" ? { rr: SOCKPERF_ON_HOSTINET } : {}),
  };
  return {
    ...docker, kind: "gvisor", isolation: r.label, isolationReason: r.reason, ...(Object.keys(notRun).length ? { notRun } : {}),
    facts: dockerFactsScript(container, { kind: "gvisor", field: "gvisor", script: gvisorFactsExtension(r) }),
  };
}
