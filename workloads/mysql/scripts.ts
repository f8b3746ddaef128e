/**
 * The bash scripts of a mysql trial: MariaDB in the environment, sysbench on the client side.
 *
 * Access over NAT: the client's connection reaches the server from a bridge or NAT address, never from
 * localhost, so the server gets a real account `virtperf`@`%` (created by `--init-file` at start-up)
 * with rights on the benchmark database only. We chose that over `--skip-grant-tables` because the
 * paper's MySQL checked privileges on every statement, as any real server does, and an unauthenticated
 * server listening on 0.0.0.0 is not something to leave on a host. The password is not a secret: the
 * server lives for one trial, on a private port, and its datadir is removed afterwards.
 */
import { shq } from "../../lib/shell.ts";
import type { TrialContext } from "../contract.ts";

export const DB_USER = "virtperf";
export const DB_PASSWORD = "virtperf";
export const DB_NAME = "sbtest";

export interface ServerOptions {
  readonly bufferPoolMiB: number;
  readonly maxConnections: number;
}

export interface Paths {
  readonly datadir: string;
  readonly socket: string;
  readonly pidFile: string;
  readonly initFile: string;
}

export function pathsOf(ctx: TrialContext): Paths {
  const work = ctx.workDir.replace(/\/+$/, "");
  return {
    // Under dataDir: the datadir is the I/O path under test.
    datadir: `${ctx.dataDir.replace(/\/+$/, "")}/mariadb`,
    socket: `${work}/mysqld.sock`,
    // Not server.pid: the runner keeps its own pid file of the server step under that name.
    pidFile: `${work}/mysqld.pid`,
    initFile: `${work}/init.sql`,
  };
}

/** Env side, before the server: a fresh system database, and the account the client will use. */
export function setupScript(p: Paths): string {
  return `rm -rf ${shq(p.datadir)}
mkdir -p ${shq(p.datadir)}
# --no-defaults: nothing from /etc/mysql (Debian's socket, datadir, bind address) may leak in.
if ! mariadb-install-db --no-defaults --datadir=${shq(p.datadir)} --user="$(id -un)" \\
    --auth-root-authentication-method=socket --skip-test-db --skip-name-resolve > install-db.log 2>&1; then
  cat install-db.log >&2
  exit 1
fi
cat > ${shq(p.initFile)} <<'VIRTPERF_INIT_SQL'
CREATE USER IF NOT EXISTS '${DB_USER}'@'%' IDENTIFIED BY '${DB_PASSWORD}';
GRANT ALL PRIVILEGES ON ${DB_NAME}.* TO '${DB_USER}'@'%';
VIRTPERF_INIT_SQL
`;
}

/** Env side, in the foreground. `--user` must name the running user (root here needs `--user=root`). */
export function serverScript(p: Paths, port: number, o: ServerOptions): string {
  return `exec mariadbd --no-defaults --user="$(id -un)" --datadir=${shq(p.datadir)} \\
  --port=${shq(port)} --bind-address=0.0.0.0 --socket=${shq(p.socket)} --pid-file=${shq(p.pidFile)} \\
  --init-file=${shq(p.initFile)} --skip-name-resolve --max-connections=${shq(o.maxConnections)} \\
  --innodb-buffer-pool-size=${shq(`${o.bufferPoolMiB}M`)} \\
  --innodb-buffer-pool-dump-at-shutdown=OFF --innodb-buffer-pool-load-at-startup=OFF
`;
}

/**
 * Env side. Really queries the server, over TCP, as the benchmark account, and checks the answer comes
 * from OUR datadir: a process that merely started (or another MariaDB, e.g. one socket-activated by
 * systemd's mariadb.socket) does not pass.
 */
export function readyCheck(p: Paths, port: number): string {
  // Bounded: a port held by something that accepts but never answers would hang the client for minutes.
  return `test "$(timeout 10 mariadb --no-defaults --connect-timeout=5 --protocol=TCP -h 127.0.0.1 -P ${shq(port)} \\
  -u ${shq(DB_USER)} -p${shq(DB_PASSWORD)} -N -B -e 'SELECT @@datadir')" = ${shq(`${p.datadir}/`)}`;
}

/** sysbench's connection and table options, shared by prepare and run. */
function sysbenchCommon(ctx: TrialContext, tableSize: number, tables: number): string {
  return [
    "oltp_read_only", "--db-driver=mysql", `--mysql-host=${shq(ctx.serverHost)}`, `--mysql-port=${shq(ctx.ports[0]!)}`,
    `--mysql-user=${shq(DB_USER)}`, `--mysql-password=${shq(DB_PASSWORD)}`, `--mysql-db=${shq(DB_NAME)}`,
    `--tables=${shq(tables)}`, `--table-size=${shq(tableSize)}`,
  ].join(" ");
}

/** Client side: the database, then the table load (untimed). */
export function prepareScript(ctx: TrialContext, tableSize: number, tables: number): string {
  return `mariadb --no-defaults --connect-timeout=30 --protocol=TCP -h ${shq(ctx.serverHost)} -P ${shq(ctx.ports[0]!)} -u ${shq(DB_USER)} -p${shq(DB_PASSWORD)} \\
  -e ${shq(`DROP DATABASE IF EXISTS ${DB_NAME}; CREATE DATABASE ${DB_NAME}`)}
sysbench ${sysbenchCommon(ctx, tableSize, tables)} prepare
`;
}

/** Client side, timed: one sysbench report per thread count, in order, on stdout. */
export function runScript(ctx: TrialContext, tableSize: number, tables: number, threads: readonly number[], durationS: number): string {
  return `for threads in ${threads.map(shq).join(" ")}; do
  sysbench ${sysbenchCommon(ctx, tableSize, tables)} \\
    --threads="$threads" --time=${shq(durationS)} --percentile=95 --report-interval=0 run
done
`;
}

/**
 * Env side, always. The runner has stopped the server's process group by now; if it could not, stop
 * the one mariadbd this trial started (by its pid file, checked to be a mariadbd) before removing its datadir.
 */
export function cleanupScript(p: Paths): string {
  return `if [ -f ${shq(p.pidFile)} ]; then
  pid=$(cat ${shq(p.pidFile)})
  if [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = mariadbd ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
fi
rm -rf ${shq(p.datadir)}
rm -f ${shq(p.initFile)} ${shq(p.pidFile)}
`;
}
