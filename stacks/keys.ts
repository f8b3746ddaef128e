/**
 * Where virtperf keeps SSH material on the machine that runs it, outside the project: the copy of a
 * `virtperf:host.privateKey` secret the runner and ssh read, and the known_hosts files that pin the
 * host's and the client machine's keys.
 *
 * The directory is per user: `$VIRTPERF_KEYS_DIR`, else `${XDG_CACHE_HOME:-$HOME/.cache}/virtperf/keys`,
 * mode 0700 (its parent too when virtperf makes it). Not `$XDG_RUNTIME_DIR`: `pulumi destroy` does not
 * run the program, so the Docker provider's ssh still needs the key file written by the last `pulumi up`,
 * and a reboot would have emptied the runtime directory. The key file is removed by `pulumi destroy`
 * (index.ts gives it a resource whose delete removes it).
 */
import { closeSync, constants, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync, chmodSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export const KEYS_DIR_ENV = "VIRTPERF_KEYS_DIR";

export function defaultKeysDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env[KEYS_DIR_ENV]) return env[KEYS_DIR_ENV]!;
  const cache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache");
  return join(cache, "virtperf", "keys");
}

/** Makes `dir` (and a missing parent) mode 0700; refuses one that others can read or enter. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dirname(dir), { recursive: true, mode: 0o700 });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const st = statSync(dir);
  if (!st.isDirectory() || (st.mode & 0o077) !== 0) throw new Error(`${dir} is not a private directory (mode ${(st.mode & 0o777).toString(8)})`);
}

/**
 * Writes a private key: created 0600 under a fresh temporary name (O_CREAT|O_EXCL, so never through an
 * existing file or link), synced, then renamed over `file`. A reader sees the old file or the new one.
 */
export function writePrivateFile(file: string, text: string): void {
  ensurePrivateDir(dirname(file));
  const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  const fd = openSync(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | (constants.O_NOFOLLOW ?? 0), 0o600);
  try {
    writeSync(fd, text.endsWith("\n") ? text : `${text}\n`);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, file);
}
