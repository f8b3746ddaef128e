import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { hostname, cpus } from "node:os";

/** A stable id for the machine running trials: a hash of machine-id (or hostname) and CPU model. */
export async function hostFingerprint(): Promise<string> {
  const machineId = await readFile("/etc/machine-id", "utf8").catch(() => hostname());
  const model = cpus()[0]?.model ?? "unknown-cpu";
  return createHash("sha256").update(`${machineId.trim()}|${model}|${cpus().length}`).digest("hex").slice(0, 12);
}
