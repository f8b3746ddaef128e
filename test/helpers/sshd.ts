/**
 * Our own sshd on 127.0.0.1 for the SSH tests (a test's "remote host"): a free port, and sshd started
 * in the foreground with a config of the test's folder (its host key, the client's key as the only
 * authorized one, no passwords, no PAM), resolved once it says it listens.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

export const SSHD = "/usr/sbin/sshd";
/** Root (sshd runs as root here) and an sshd binary: the SSH tests skip otherwise. */
export const sshdUsable = process.getuid?.() === 0 && existsSync(SSHD);

export function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

/** sshd on 127.0.0.1:port with `dir`'s host_key and client_key.pub (the test makes both). */
export function startSshd(dir: string, port: number): Promise<ChildProcess> {
  writeFileSync(join(dir, "sshd_config"), [
    `Port ${port}`, "ListenAddress 127.0.0.1", `HostKey ${dir}/host_key`, `PidFile ${dir}/sshd.pid`,
    `AuthorizedKeysFile ${dir}/client_key.pub`, "StrictModes no", "PermitRootLogin prohibit-password",
    "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
  ].join("\n") + "\n");
  // sshd insists on its privilege separation directory (made by the system service we do not run).
  mkdirSync("/run/sshd", { recursive: true });
  const child = spawn(SSHD, ["-f", join(dir, "sshd_config"), "-D", "-e"], { stdio: ["ignore", "ignore", "pipe"] });
  return new Promise((done, fail) => {
    let err = "";
    child.stderr!.on("data", (d) => {
      err += String(d);
      if (err.includes("Server listening")) done(child);
    });
    child.once("exit", (code) => fail(new Error(`sshd exited ${code}: ${err}`)));
  });
}
