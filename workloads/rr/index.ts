/**
 * rr: request-response round-trip latency over TCP and UDP, the paper's netperf TCP_RR / UDP_RR.
 * netperf is not in Debian main, so this runs sockperf (Debian main): one `sockperf server` in the
 * environment serving TCP and UDP on the same port number ctx.ports[0] (two protocols, two sockets), and
 * `sockperf ping-pong` on the client side, one request in flight at a time, as netperf's RR tests.
 *
 * Message size: sockperf echoes the request, so request and response have one size. The paper sent
 * 100-byte requests and got 200-byte responses; we send 100 bytes both ways. At these sizes a round
 * trip is dominated by per-packet costs (system calls, interrupts, virtual NICs, NAT), which is what
 * the comparison is about, not by the 100 bytes the response lacks.
 */
import type { HostShape, MetricSpec, ProfileName, TrialContext, TrialSteps, Workload } from "../contract.ts";
import { shq } from "../../lib/shell.ts";
import { listeningCheck } from "../listening.ts";
import { PROTOCOLS, marker, parseSockperf, type Protocol } from "./parse.ts";

export type RrParams = {
  /** Bytes of each request and of each (echoed) response. */
  readonly messageBytes: number;
  /** Seconds of ping-pong per case (sockperf -t), after sockperf's own warm-up. */
  readonly durationS: number;
};

const MESSAGE_BYTES = 100;

/**
 * Profiles. Both cases (tcp, then udp) run in every profile. One request in flight, as the paper: nothing scales with the host shape (one thread at each
 * end, no memory to speak of). `full` is the paper's 60 s per case.
 */
function params(profile: ProfileName, _shape: HostShape): RrParams {
  const durationS = { smoke: 2, quick: 20, full: 60 }[profile];
  return { messageBytes: MESSAGE_BYTES, durationS };
}

/** The server's list of sockets (sockperf -f): TCP and UDP on one port number, on the address its client uses. */
const FEED_FILE = "sockperf-servers.txt";
/** The server's output, kept for the ready check too; and what sockperf prints once every socket is set up. */
const SERVER_LOG = "sockperf-server.log";
const SERVER_READY_LINE = "to block on socket(s)";

/**
 * --uc-reuseaddr (SO_REUSEADDR): with fixed ports (Docker, guests) the trial before may have left
 * connections on this port in TIME_WAIT, and sockperf, unlike nuttcp and redis, does not set the option
 * by default: its bind failed with "Address already in use" right after a nuttcp trial (checked in Docker).
 */
function serverScript(port: number, bindHost: string): string {
  return `printf '%s\\n' ${shq(`T:${bindHost}:${port}`)} ${shq(`U:${bindHost}:${port}`)} > ${FEED_FILE}
exec > >(tee ${SERVER_LOG}) 2>&1
exec sockperf server -f ${FEED_FILE} --uc-reuseaddr
`;
}

/**
 * Ready: TCP listening, and UDP bound: seen in /proc/net/udp, or, where /proc/net shows no UDP sockets
 * (gVisor passing sockets through to the host kernel lists none there), sockperf's own word that it
 * has set up every socket of its feed file and waits on them.
 */
function readyCheck(port: number): string {
  return `${listeningCheck(port, "tcp")} && { ${listeningCheck(port, "udp")} || grep -qsF ${shq(SERVER_READY_LINE)} ${SERVER_LOG}; }`;
}

function pingPong(protocol: Protocol, p: RrParams, ctx: TrialContext, port: number): string {
  const words = ["sockperf", "ping-pong", "-i", ctx.serverHost, "-p", port, ...(protocol === "tcp" ? ["--tcp"] : []),
    "-m", p.messageBytes, "-t", p.durationS, "--full-rtt"];
  return `echo ${shq(marker(protocol))}\n${words.map(shq).join(" ")}`;
}

function steps(p: RrParams, ctx: TrialContext): TrialSteps {
  const port = ctx.ports[0];
  if (port === undefined) throw new Error("rr needs one port in the trial context (workload.ports = 1)");
  return {
    server: {
      script: serverScript(port, ctx.bindHost),
      readyCheck: readyCheck(port),
      readyTimeoutS: 30,
    },
    // Each case: sockperf's 0.4 s warm-up, the measured time, and 30 s of slack for a slow guest.
    run: { on: "client", script: `${PROTOCOLS.map((pr) => pingPong(pr, p, ctx, port)).join("\n")}\n`, timeoutS: 30 + PROTOCOLS.length * (p.durationS + 30) },
  };
}

const metrics: readonly MetricSpec[] = [
  { name: "rtt_avg", unit: "us", better: "lower", description: "mean round trip, the paper's measure (10^6 / transactions per s)" },
  { name: "rtt_p50", unit: "us", better: "lower", description: "median round trip" },
  { name: "rtt_p99", unit: "us", better: "lower", description: "99th percentile round trip" },
  { name: "transactions", unit: "transactions/s", better: "higher", description: "request-response pairs per second, one in flight" },
];

export const workload: Workload<RrParams> = {
  name: "rr",
  title: "request-response round-trip latency, TCP and UDP",
  paper: "netperf TCP_RR and UDP_RR, 100-byte request / 200-byte response, 60 s, from a second machine (round-trip us)",
  group: "network",
  packages: ["sockperf"],
  clientPackages: ["sockperf"],
  tool: { name: "sockperf", versionCommand: "sockperf --version", on: "client" },
  requires: [
    { command: "sockperf", package: "sockperf", on: "env" },
    { command: "sockperf", package: "sockperf", on: "client" },
    { command: "grep", package: "grep", on: "env" },
  ],
  ports: 1,
  warmup: false,
  metrics,
  cases: [...PROTOCOLS],
  params,
  // Network and in-memory workloads write nothing under the data directory.
  dataBytes: () => 0,
  steps,
  parse: (raw, p) => parseSockperf(raw, p),
};
