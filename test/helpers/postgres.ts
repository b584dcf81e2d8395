import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A real PostgreSQL server for a test run: initdb in a fresh temporary directory, started on
 * 127.0.0.1 on a free port (and a unix socket in the same directory), stopped and removed by stop().
 * Debian's `postgresql` package provides the binaries (scripts/ensure-postgres.sh installs it); the
 * server refuses to run as root, so as root it runs as the package's `postgres` user.
 */
export interface PostgresServer {
  url: string;
  /** A new empty database on this server (each test file or suite gets its own). */
  createDatabase(name: string): string;
  stop(): Promise<void>;
}

export function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "postgres")));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], "bin") : undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin)
    throw new Error(
      "PostgreSQL server binaries not found under /usr/lib/postgresql: run `bash scripts/ensure-postgres.sh` (apt-get install postgresql)",
    );
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "zkinfer-pg-"));
  chmodSync(dir, 0o700);
  if (root) execFileSync("chown", ["postgres:postgres", dir]);
  const as = (cmd: string, args: string[]) => {
    const full = join(bin, cmd);
    const r = root
      ? spawnSync("runuser", ["-u", "postgres", "--", full, ...args], { encoding: "utf8" })
      : spawnSync(full, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const data = join(dir, "data");
  as("initdb", ["-D", data, "-U", "zkinfer", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  as("pg_ctl", [
    "-D",
    data,
    "-l",
    join(dir, "server.log"),
    "-w",
    "-o",
    `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c max_connections=200`,
    "start",
  ]);
  const base = `postgres://zkinfer@127.0.0.1:${port}`;
  return {
    url: `${base}/postgres`,
    createDatabase(name) {
      as("createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "zkinfer", name]);
      return `${base}/${name}`;
    },
    async stop() {
      try {
        as("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

let shared: Promise<PostgresServer> | undefined;
let databases = 0;

/** One server for the whole mocha run (started on first use, stopped after the run); a fresh database per call. */
export async function sharedPostgresDatabase(): Promise<string> {
  shared ??= startPostgres();
  return (await shared).createDatabase(`zkinfer_test_${process.pid}_${++databases}`);
}

// Under mocha (the bench imports startPostgres too, without mocha's globals).
if (typeof after === "function") {
  after(async () => {
    if (shared) await (await shared).stop();
  });
}
