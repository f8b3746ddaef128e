/**
 * Aspects of a gVisor environment, read from its facts (model/facts.ts gvisorFactsSchema): Docker's
 * (it is a Docker container), with what the sandbox changes: the runtime, platform and network mode
 * that really ran (the sandbox's own flags), the kernel the application sees (gVisor's, not the
 * host's), sockets through gVisor's netstack or passed through to the host's, files through its gofer,
 * and whether O_DIRECT reaches the host's disk.
 */
import type { GvisorFacts, NativeFacts } from "../model/facts.ts";
import type { Aspects } from "./facts.ts";
import { dockerAspects } from "./facts-host.ts";
import { str, withDetails } from "./facts-json.ts";

const NETSTACK: Record<string, string> = { gvisor: "sockets in gVisor's netstack (user-space TCP/IP)", host: "sockets passed through to the host kernel's TCP/IP (runsc --network=host)" };

export function gvisorAspects(facts: GvisorFacts, host: NativeFacts | undefined): Aspects {
  const { kind: _k, gvisor: g, ...docker } = facts;
  const out = dockerAspects({ ...docker, kind: "docker" }, host);
  const seen = g?.seen, planned = g?.planned;
  const platform = str(seen?.platform) ?? str(planned?.platform);
  const netstack = str(seen?.netstack) ?? str(planned?.netstack);
  const runtime = str(seen?.runtime) ?? str(facts.inspect?.runtime) ?? str(planned?.runtime);
  if (runtime || platform) {
    const what = [str(seen?.runscVersion)?.replace(/^runsc version /, "runsc "), platform ? `${platform} platform` : undefined].filter(Boolean).join(", ");
    out.isolation = withDetails(`gVisor${what ? `: ${what}` : ""}`, [runtime ? `Docker runtime ${runtime}` : undefined, seen ? undefined : "as planned, not seen running"]);
  }
  if (netstack && out.network) out.network = `${out.network}; ${NETSTACK[netstack] ?? `runsc network ${netstack}`}`;
  const oDirect = g?.directIo?.oDirectOnHost;
  if (out.storage) {
    const io = oDirect === false ? "O_DIRECT not passed to the host: buffered in the host's page cache" : oDirect === true ? "O_DIRECT reaches the host" : undefined;
    const uring = g?.ioUring?.works === false
      ? `io_uring fails in the sandbox (fio exits ${g.ioUring.fioExit ?? "abnormally"}): MariaDB's InnoDB runs with simulated AIO (innodb_use_native_aio=0) here`
      : undefined;
    out.storage = withDetails(`${out.storage}, through gVisor's gofer`, [io, uring]);
  }
  const kernel = str(seen?.kernel);
  if (kernel) out.kernel = `gVisor's own (reports ${kernel})${out.kernel ? `, on host kernel ${out.kernel}` : ""}`;
  return out;
}
