/**
 * A server's readiness seen from the kernel: is a socket bound to the port in /proc/net/{tcp,udp}{,6}?
 * Used as `readyCheck` by servers that must not be probed by connecting (a `nuttcp -S --nofork`
 * server would take a probe connection as a client; sockperf's UDP side cannot be connected to).
 * Reading /proc needs nothing installed in the environment (no ss, no netcat) and sees only the
 * environment's own network namespace, which is where the server is.
 */
import { shq } from "../lib/shell.ts";

/** Kernel socket states in /proc/net/*: TCP_LISTEN is 0A; an unconnected bound UDP socket is 07 (TCP_CLOSE). */
const STATE = { tcp: "0A", udp: "07" } as const;

/** A bash line that exits 0 when something is bound to `port` (TCP: listening) on any address, IPv4 or IPv6. */
export function listeningCheck(port: number, proto: "tcp" | "udp"): string {
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new RangeError(`listeningCheck: bad port ${port}`);
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  // A row: "  sl  local_address rem_address st ...", addresses as HEXADDR:HEXPORT.
  const row = `^ *[0-9]+: [0-9A-F]+:${hex} [0-9A-F]+:[0-9A-F]+ ${STATE[proto]} `;
  // -s: /proc/net/*6 is absent when IPv6 is off; grep -q still exits 0 on a match in the other file.
  return `grep -qsE ${shq(row)} /proc/net/${proto} /proc/net/${proto}6`;
}
