import { accessSync, constants, existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type pg from "pg";
import { ConfigError } from "../errors.js";
import { isPostgresUrl } from "./defaults.js";

/**
 * The two SQL databases the job store runs on, behind one small async interface. Queries are written
 * once, in PostgreSQL's `$1` placeholder style, with two tokens the dialect fills in:
 *   NOW_MS       the database's clock in ms (leases compare against one clock, not each machine's);
 *   SKIP_LOCKED  `FOR UPDATE SKIP LOCKED` on PostgreSQL (concurrent claimers pass over each other's
 *                rows), nothing on SQLite (a single writer at a time already serialises claims).
 */
export type Row = Record<string, unknown>;
export interface Sql {
  query<R extends Row = Row>(sql: string, params?: unknown[]): Promise<R[]>;
}
export interface Database extends Sql {
  readonly backend: "sqlite" | "postgres";
  /** Where the store is, for messages: a file path, or the URL without its password. */
  readonly location: string;
  /** Run `fn` in one transaction: all or nothing. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A PostgreSQL URL with its password replaced, safe to log. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "<unparseable database URL>";
  }
}

export async function openDatabase(where: string): Promise<Database> {
  return isPostgresUrl(where) ? openPostgres(where) : openSqliteWhenFree(where);
}

/**
 * `openSqlite`, retried while another process holds the file's lock: SQLite answers a connection switching a file
 * to WAL (or reading it while another does) with "database is locked" at once, without its busy handler, so nodes
 * starting together on one file take turns here, for up to `SQLITE_OPEN_WAIT_MS`.
 */
async function openSqliteWhenFree(path: string): Promise<Database> {
  const end = Date.now() + SQLITE_OPEN_WAIT_MS;
  for (;;) {
    try {
      return openSqlite(path);
    } catch (e) {
      if (!(e instanceof ConfigError && SQLITE_BUSY.test(e.message)) || Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
    }
  }
}

const SQLITE_OPEN_WAIT_MS = 10_000;
const SQLITE_BUSY = /database is locked|database is busy|SQLITE_BUSY/i;

// ---------------------------------------------------------------------------------------------- SQLite

function openSqlite(path: string): Database {
  if (path !== ":memory:") {
    const dir = dirname(path);
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
    } catch (e) {
      throw new ConfigError(
        `cannot create or write the job store's directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? e}`,
        {
          hint: "choose a writable place with --db <file>, or fix the directory's permissions",
        },
      );
    }
  }
  if (path !== ":memory:" && existsSync(path)) {
    try {
      accessSync(path, constants.R_OK | constants.W_OK);
    } catch (e) {
      throw new ConfigError(
        `the job store ${path} is not readable and writable by this user: ${(e as NodeJS.ErrnoException).code ?? e}`,
        {
          hint: "fix the file's owner or mode (the service writes every job change), or point --db elsewhere",
        },
      );
    }
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
    // busy_timeout first: switching a fresh file to WAL takes a lock, and nodes starting at once on one
    // file would otherwise fail with "database is locked" instead of waiting their turn.
    db.exec("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
    // Reading the schema is the first read of the file's pages: a corrupt file fails here.
    db.prepare("SELECT count(*) FROM sqlite_master").get();
  } catch (e) {
    const message = (e as Error).message;
    throw new ConfigError(`cannot open the job store ${path}: ${message}`, {
      hint: /locked|busy/i.test(message)
        ? "another process held the file's lock for more than 10 s; find it (e.g. `fuser` on the file) or point --db elsewhere"
        : "the file is not a readable, writable SQLite database; move it aside (jobs in it are lost to this run) or point --db elsewhere",
    });
  }
  const toSqlite = (sql: string) =>
    sql
      .replace(/\$(\d+)/g, "?$1")
      .replace(/NOW_MS/g, "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)")
      .replace(/SKIP_LOCKED/g, "");
  const run = <R extends Row>(sql: string, params: unknown[] = []): R[] => {
    const stmt = db.prepare(toSqlite(sql));
    const args = params.map((p) => (p === undefined ? null : typeof p === "boolean" ? Number(p) : p)) as (
      string | number | null
    )[];
    return (/^\s*(SELECT|WITH)|RETURNING/i.test(sql) ? stmt.all(...args) : (stmt.run(...args), [])) as R[];
  };
  // One connection, used from async code: a transaction holds it until it ends (queries of other
  // tasks wait), so nothing interleaves into another task's transaction.
  let chain: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };
  const checkWritable = (e: unknown): never => {
    const msg = (e as Error).message ?? String(e);
    if (/readonly|read-only|disk I\/O|malformed|not a database/i.test(msg)) {
      throw new ConfigError(`the job store ${path} cannot be written: ${msg}`, {
        hint: "check the file's and its directory's permissions and free space",
      });
    }
    throw e;
  };
  return {
    backend: "sqlite",
    location: path,
    query: (sql, params) =>
      exclusive(async () => {
        try {
          return run(sql, params);
        } catch (e) {
          return checkWritable(e);
        }
      }),
    transaction: (fn) =>
      exclusive(async () => {
        db.exec("BEGIN IMMEDIATE");
        try {
          const r = await fn({ query: async (sql, params) => run(sql, params) });
          db.exec("COMMIT");
          return r;
        } catch (e) {
          db.exec("ROLLBACK");
          return checkWritable(e);
        }
      }),
    close: async () => {
      await chain;
      db.close();
    },
  };
}

// ------------------------------------------------------------------------------------------ PostgreSQL

async function openPostgres(url: string): Promise<Database> {
  const location = redactUrl(url);
  // Loaded only for a PostgreSQL store.
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({
    connectionString: url,
    max: 8,
    connectionTimeoutMillis: 10_000,
    // BIGINT columns (timestamps, counts) as numbers: every value the store keeps fits in 2^53.
    types: {
      getTypeParser: (oid: number, format?: string) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format as "text")),
    },
  } as pg.PoolConfig);
  // An idle client that loses its connection (the server restarted) must not crash the process.
  pool.on("error", () => undefined);
  try {
    await pool.query("SELECT 1");
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new ConfigError(`cannot connect to the job store ${location}: ${(e as Error).message}`, {
      hint: "check the host, port, database name and credentials in --db postgres://user:password@host:port/db",
    });
  }
  const toPg = (sql: string) =>
    sql
      .replace(/NOW_MS/g, "(extract(epoch from clock_timestamp()) * 1000)::bigint")
      .replace(/SKIP_LOCKED/g, "FOR UPDATE SKIP LOCKED");
  const q =
    (c: pg.Pool | pg.PoolClient) =>
    async <R extends Row>(sql: string, params: unknown[] = []): Promise<R[]> =>
      (await c.query(toPg(sql), params)).rows as R[];
  return {
    backend: "postgres",
    location,
    query: q(pool),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const r = await fn({ query: q(client) });
        await client.query("COMMIT");
        return r;
      } catch (e) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
