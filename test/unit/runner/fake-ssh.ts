/**
 * A stand-in `ssh` (and `virsh`) for unit tests: the fake ssh logs its argv, drops ssh's options and the
 * destination, and runs the remote command line with `bash -c` here, as sshd's login shell would on
 * the far side. So the exact bytes the runner sends over SSH run for real, without a remote machine.
 * Hosts listed in $FAKE_SSH_REFUSE fail as a wrong host key does (exit 255).
 */
import { mkdir, mkdtemp, readdir, readFile, writeFile, chmod, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shq } from "../../../lib/shell.ts";

const FAKE_SSH = `#!/bin/bash
printf '%s\\0' "$@" > "$FAKE_SSH_LOG/$(printf %04d "$(ls "$FAKE_SSH_LOG" | wc -l)")"
while [ $# -gt 0 ]; do case $1 in -o|-i|-p|-J) shift 2;; --) shift; break;; -*) shift;; *) break;; esac; done
# FAKE_SSH_REFUSE: hosts whose host key "does not match" the pinned one.
for h in \${FAKE_SSH_REFUSE:-}; do [ "\${1#*@}" = "$h" ] && { echo "Host key verification failed." >&2; exit 255; }; done
shift
# The far side's own PATH (the trial shell's env -i sets it) holds the fakes too, as a real host has its
# own ssh and virsh; the log directory is passed the same way.
cmd="$*"
cmd=\${cmd//"env -i PATH=/usr/local/sbin"/"env -i FAKE_SSH_LOG=$FAKE_SSH_LOG PATH=$FAKE_BIN_DIR:/usr/local/sbin"}
exec bash -c "$cmd"
`;

export interface FakeBin {
  readonly dir: string;
  /** Each ssh call's argv, oldest first. */
  sshCalls(): Promise<string[][]>;
  /** Puts the fakes first on PATH (for execa and child shells); returns the undo. */
  activate(): () => void;
  remove(): Promise<void>;
}

/** `virsh`: prints `outputs[source]` for `domifaddr ... --source <source>`. */
function fakeVirsh(outputs: Record<string, string>): string {
  const cases = Object.entries(outputs).map(([source, text]) => `  ${source}) printf '%s\\n' ${shq(text)};;`).join("\n");
  return `#!/bin/bash\nsource=\${@: -1}\ncase $source in\n${cases}\nesac\n`;
}

export async function fakeBin(virsh: Record<string, string> = {}): Promise<FakeBin> {
  const dir = await mkdtemp(join(tmpdir(), "virtperf-fake-ssh-"));
  const log = join(dir, "ssh-calls");
  await mkdir(log);
  for (const [name, text] of [["ssh", FAKE_SSH], ["virsh", fakeVirsh(virsh)]] as const) {
    await writeFile(join(dir, name), text);
    await chmod(join(dir, name), 0o755);
  }
  return {
    dir,
    async sshCalls() {
      const files = (await readdir(log)).sort();
      return Promise.all(files.map(async (f) => (await readFile(join(log, f), "utf8")).split("\0").slice(0, -1)));
    },
    activate() {
      const saved = { PATH: process.env.PATH, FAKE_SSH_LOG: process.env.FAKE_SSH_LOG, FAKE_BIN_DIR: process.env.FAKE_BIN_DIR };
      process.env.PATH = `${dir}:${process.env.PATH}`;
      process.env.FAKE_SSH_LOG = log;
      process.env.FAKE_BIN_DIR = dir;
      return () => {
        for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
      };
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
