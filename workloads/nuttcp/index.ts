/**
 * nuttcp: bulk TCP throughput between the client side and a `nuttcp -S` server in the environment,
 * in both directions, one stream each, as the paper's nuttcp runs (10 s, nuttcp's default, per direction).
 *
 * Ports: ctx.ports[0] is nuttcp's control port (-P), ctx.ports[1] its data port (-p); both must be the
 * same number inside and outside the environment (Docker publishes them 1:1). The data connection is
 * opened by the client in both directions: plain transmit does so by default, and the receive run uses
 * `-r -F` (flip), because without -F the server would connect back to the client, around the
 * published port and NAT that are part of what is measured.
 */
import type { HostShape, MetricSpec, ProfileName, TrialContext, TrialSteps, Workload } from "../contract.ts";
import { shq } from "../../lib/shell.ts";
import { listeningCheck } from "../listening.ts";
import { DIRECTIONS, labelOf, parseNuttcp, type Direction } from "./parse.ts";

export type NuttcpParams = {
  /** Seconds of transfer per direction (nuttcp -T). */
  readonly durationS: number;
};

/**
 * Profiles. One TCP stream, like the paper; nothing scales with the host shape: a single stream uses one
 * CPU on each end, and bulk TCP needs no memory to speak of. `full` is the paper's 10 s per direction.
 */
function params(profile: ProfileName, _shape: HostShape): NuttcpParams {
  switch (profile) {
    case "smoke": return { durationS: 2 };
    case "quick": return { durationS: 5 };
    case "full": return { durationS: 10 };
  }
}

/** One client-side nuttcp run; its -fparse line is labelled with the direction. */
function transfer(direction: Direction, p: NuttcpParams, ctx: TrialContext, control: number, data: number): string {
  const mode = direction === "client-to-server" ? ["-t"] : ["-r", "-F"];
  return ["nuttcp", "-fparse", ...mode, "-I", labelOf(direction), "-T", p.durationS, "-P", control, "-p", data, ctx.serverHost]
    .map(shq).join(" ");
}

/**
 * nuttcp 6.1.2 (Debian's) reads /proc/sys/net/ipv4/tcp_adv_win_scale for its window report and, when the
 * file is missing, fcloses the NULL it got and dies of SIGSEGV (fixed upstream in 7.2.1), in the server on
 * its first connection. gVisor's /proc has no such file (runsc 2022-12): refuse with that, rather than a
 * "connection refused" from the server's corpse.
 */
export const WINDOW_SCALE_FILE = "/proc/sys/net/ipv4/tcp_adv_win_scale";

/** Why nuttcp cannot run where `missing` files are missing (a sandbox's probe), or undefined when it can. */
export function nuttcpCannotRun(missing: readonly string[]): string | undefined {
  return missing.includes(WINDOW_SCALE_FILE)
    ? `${WINDOW_SCALE_FILE} is missing in this sandbox (the pre-flight's probe container found none), and nuttcp 6.1.2's server dies of SIGSEGV on its first connection without it (fclose of a failed fopen, fixed in nuttcp 7.2.1)`
    : undefined;
}
const setupScript = `if [ ! -r ${WINDOW_SCALE_FILE} ]; then
  echo "nuttcp: ${WINDOW_SCALE_FILE} does not exist here (gVisor has no such file):" \
    "nuttcp 6.1.2's server dies of SIGSEGV on its first connection without it (fclose of a failed fopen, fixed in nuttcp 7.2.1), so no transfer can be measured" >&2
  exit 3
fi
`;

function steps(p: NuttcpParams, ctx: TrialContext): TrialSteps {
  const [control, data] = ctx.ports;
  if (control === undefined || data === undefined) throw new Error("nuttcp needs two ports in the trial context (workload.ports = 2)");
  return {
    setup: { on: "env", script: setupScript, timeoutS: 30 },
    server: {
      // nuttcp 6 cannot bind its server to one address (no option for it): --no3rdparty at least refuses
      // third-party transfers; it lives for this trial only, and its lifeline stops it with the trial.
      script: `exec nuttcp -S --nofork --no3rdparty -P ${shq(control)} -p ${shq(data)}\n`,
      readyCheck: listeningCheck(control, "tcp"),
      readyTimeoutS: 30,
    },
    // Each transfer takes durationS plus connection set-up; a slow guest gets 30 s of slack each.
    run: { on: "client", script: `${DIRECTIONS.map((d) => transfer(d, p, ctx, control, data)).join("\n")}\n`, timeoutS: 30 + DIRECTIONS.length * (p.durationS + 30) },
  };
}

const metrics: readonly MetricSpec[] = [
  { name: "throughput", unit: "Gbit/s", better: "higher", description: "TCP goodput of one stream (10^9 bit/s), as nuttcp reports it" },
  { name: "retransmits", unit: "segments", better: "lower", description: "TCP retransmissions during the transfer (sender side)" },
];

export const workload: Workload<NuttcpParams> = {
  name: "nuttcp",
  title: "bulk TCP throughput, both directions",
  paper: "nuttcp bulk TCP over 10 Gbit Ethernet between the system and a second machine, client to server and server to client (Mbit/s)",
  group: "network",
  packages: ["nuttcp"],
  clientPackages: ["nuttcp"],
  tool: { name: "nuttcp", versionCommand: "nuttcp -V", on: "client" },
  requires: [
    { command: "nuttcp", package: "nuttcp", on: "env" },
    { command: "nuttcp", package: "nuttcp", on: "client" },
    { command: "grep", package: "grep", on: "env" },
  ],
  ports: 2,
  warmup: false,
  metrics,
  cases: [...DIRECTIONS],
  params,
  // Network and in-memory workloads write nothing under the data directory.
  dataBytes: () => 0,
  steps,
  parse: (raw, p) => parseNuttcp(raw, p),
};
