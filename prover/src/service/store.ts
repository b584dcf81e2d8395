import { randomUUID } from "node:crypto";
import { termsFromJson, termsToJson, type LockState, type Terms } from "../sdk/terms.js";
import { openDatabase, type Database, type Sql } from "./db.js";

/**
 * The durable job store, shared by every node of a fleet: SQLite (node:sqlite, the embedded default,
 * one machine) or PostgreSQL (several `zkinfer serve` processes on several machines). Every state
 * change is one statement or one transaction, so a process killed at any point leaves a consistent store.
 *
 * Chain jobs:     queued -> proving -> proved -> submitting -> fulfilled | failed
 * Off-chain jobs: queued -> proving -> done | failed
 *
 * A claimed job carries a lease (owner, until), renewed by the prover's heartbeat. A job whose lease
 * lapsed (its node died or hung) is claimable again by any node, and a result written by a node that
 * lost its lease is discarded. Lease times are the database's clock, never a node's.
 */
export type JobKind = "chain" | "offchain";
export type JobState = "queued" | "proving" | "proved" | "submitting" | "fulfilled" | "done" | "failed";
export const JOB_STATES: JobState[] = ["queued", "proving", "proved", "submitting", "fulfilled", "done", "failed"];

/** Why a job failed, when the failure may be undone later (e.g. a restart that serves the model). */
export type FailCode = "not_served" | "unservable" | "expired" | "rejected" | "prove" | "send";

export interface JobResult {
  outputsFixed: string[];
  outputsFloat: number[];
  proof: `0x${string}`;
  instances: string[];
  proveMs: number;
  /** Set when the job was proved in a batch: the batch, its circuit's size, this job's block and every block's request. */
  batch?: BatchInfo;
}

/** One batch proof of several chain requests of one (model, version): request `requestIds[i]` is block i. */
export interface BatchInfo {
  id: string;
  /** The batch size of the circuit proved (a registered variant of the version). */
  size: number;
  /** This job's block. */
  index: number;
  /** Every claimed block's request, in block order (ascending ids, as fulfillBatch takes them). */
  requestIds: string[];
}

export interface Job {
  id: string;
  kind: JobKind;
  requestId: string | null;
  model: string;
  modelId: string | null;
  version: number | null;
  /** The input as fixed-point integers (decimal strings), as it is on-chain. */
  inputFixed: string[];
  deadline: number | null;
  fee: string | null;
  state: JobState;
  /** Proof attempts (claims) so far. */
  attempts: number;
  /** Fulfilment attempts that failed without a verdict (RPC trouble) so far. */
  sendAttempts: number;
  error: string | null;
  failCode: FailCode | null;
  result: JobResult | null;
  txHash: string | null;
  txNonce: number | null;
  blockNumber: number | null;
  /** Who submitted an off-chain job (the API's client key); null for chain jobs. */
  client: string | null;
  leaseOwner: string | null;
  leaseUntil: number | null;
  /** Not claimable (or sendable) before this time (ms): a retry's backoff. */
  notBefore: number;
  createdAt: number;
  updatedAt: number;
  provedAt: number | null;
  finishedAt: number | null;
  /** The batch this job was (last) proved in, or null: proved alone (or not yet). */
  batchId: string | null;
  /** A chain job's request terms, as `InferenceRequested` logged them (every call on the request takes them back). */
  terms: Terms | null;
  /** The last lock on the request this service saw (its own, from its lock transaction's `RequestLocked`, or another
   *  prover's read from the chain); null: none seen. Checked against the request's state before it is used. */
  held: LockState | null;
}

type DbRow = Record<string, unknown>;
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const toJob = (r: DbRow): Job => ({
  id: r.id as string,
  kind: r.kind as JobKind,
  requestId: (r.request_id as string | null) ?? null,
  model: r.model as string,
  modelId: (r.model_id as string | null) ?? null,
  version: num(r.version),
  inputFixed: JSON.parse(r.input_fixed as string) as string[],
  deadline: num(r.deadline),
  fee: (r.fee as string | null) ?? null,
  state: r.state as JobState,
  attempts: Number(r.attempts),
  sendAttempts: Number(r.send_attempts ?? 0),
  error: (r.error as string | null) ?? null,
  failCode: (r.fail_code as FailCode | null) ?? null,
  result: r.result ? (JSON.parse(r.result as string) as JobResult) : null,
  txHash: (r.tx_hash as string | null) ?? null,
  txNonce: num(r.tx_nonce),
  blockNumber: num(r.block_number),
  client: (r.client as string | null) ?? null,
  leaseOwner: (r.lease_owner as string | null) ?? null,
  leaseUntil: num(r.lease_until),
  notBefore: Number(r.not_before ?? 0),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  provedAt: num(r.proved_at),
  finishedAt: num(r.finished_at),
  batchId: (r.batch_id as string | null) ?? null,
  terms: r.terms ? termsFromJson(JSON.parse(r.terms as string) as Record<string, string | number>) : null,
  held: r.held ? lockFromJson(r.held as string) : null,
});

const lockToJson = (l: LockState) => JSON.stringify({ locker: l.locker, lockedAt: String(l.lockedAt), price: String(l.price) });
function lockFromJson(s: string): LockState {
  const j = JSON.parse(s) as { locker: `0x${string}`; lockedAt: string; price: string };
  return { locker: j.locker, lockedAt: BigInt(j.lockedAt), price: BigInt(j.price) };
}

export interface NewJob {
  kind: JobKind;
  requestId?: string | null;
  model: string;
  modelId?: string | null;
  version?: number | null;
  inputFixed: string[];
  deadline?: number | null;
  fee?: string | null;
  blockNumber?: number | null;
  client?: string | null;
  /** A chain job's request terms. */
  terms?: Terms | null;
  /** Create the job already failed (a request the service cannot serve), with this reason. */
  failedReason?: string;
  failCode?: FailCode;
  /** Create the job already fulfilled (the chain says so), with this note. */
  fulfilledNote?: string;
}

const COLUMNS = `
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  request_id TEXT UNIQUE,
  model TEXT NOT NULL,
  model_id TEXT,
  version INTEGER,
  input_fixed TEXT NOT NULL,
  deadline BIGINT,
  fee TEXT,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  result TEXT,
  tx_hash TEXT,
  tx_nonce INTEGER,
  block_number BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  proved_at BIGINT,
  finished_at BIGINT`;
/** Columns added after the first release: added to an older store in place. */
const ADDED_COLUMNS: [string, string][] = [
  ["send_attempts", "INTEGER NOT NULL DEFAULT 0"],
  ["fail_code", "TEXT"],
  ["client", "TEXT"],
  ["lease_owner", "TEXT"],
  ["lease_until", "BIGINT"],
  ["not_before", "BIGINT NOT NULL DEFAULT 0"],
  ["batch_id", "TEXT"],
  ["terms", "TEXT"],
  ["held", "TEXT"],
];

/** Queued (or lease-lapsed) jobs in the order they are proved: paid chain jobs first, soonest deadline first. */
const CLAIMABLE = `((state = 'queued' AND not_before <= NOW_MS) OR (state = 'proving' AND lease_until < NOW_MS))`;
const CLAIM_ORDER = `CASE kind WHEN 'chain' THEN 0 ELSE 1 END, COALESCE(deadline, 9223372036854), created_at`;

export class JobStore {
  private constructor(readonly db: Database) {}

  get backend() {
    return this.db.backend;
  }
  get location() {
    return this.db.location;
  }

  /** Open (and create or upgrade) the store: a SQLite file path or a postgres:// URL. */
  static async open(where: string): Promise<JobStore> {
    const db = await openDatabase(where);
    try {
      await db.transaction(async (tx) => {
        // Several nodes may start at once on a fresh PostgreSQL database: one creates the schema.
        if (db.backend === "postgres") await tx.query("SELECT pg_advisory_xact_lock(7230151)");
        await tx.query(`CREATE TABLE IF NOT EXISTS jobs (${COLUMNS})`);
        const have =
          db.backend === "postgres"
            ? (
                await tx.query<{ name: string }>(
                  "SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'jobs' AND table_schema = current_schema()",
                )
              ).map((r) => r.name)
            : (await tx.query<{ name: string }>("SELECT name FROM pragma_table_info('jobs')")).map((r) => r.name);
        for (const [name, type] of ADDED_COLUMNS)
          if (!have.includes(name)) await tx.query(`ALTER TABLE jobs ADD COLUMN ${name} ${type}`);
        await tx.query("CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, created_at)");
        await tx.query("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
        await tx.query("CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, until BIGINT NOT NULL)");
      });
    } catch (e) {
      await db.close();
      throw e;
    }
    return new JobStore(db);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /** Insert a job; a chain job whose request is already known is not inserted twice. */
  async insert(job: NewJob, sql: Sql = this.db): Promise<{ job: Job; created: boolean }> {
    const id = randomUUID();
    const state: JobState = job.failedReason ? "failed" : job.fulfilledNote ? "fulfilled" : "queued";
    const rows = await sql.query(
      `INSERT INTO jobs (id, kind, request_id, model, model_id, version, input_fixed, deadline, fee, state, error, fail_code,
                         block_number, client, terms, created_at, updated_at, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, NOW_MS, NOW_MS, CASE WHEN $10 = 'queued' THEN NULL ELSE NOW_MS END)
       ON CONFLICT (request_id) DO NOTHING RETURNING *`,
      [
        id,
        job.kind,
        job.requestId ?? null,
        job.model,
        job.modelId ?? null,
        job.version ?? null,
        JSON.stringify(job.inputFixed),
        job.deadline ?? null,
        job.fee ?? null,
        state,
        job.failedReason ?? job.fulfilledNote ?? null,
        job.failedReason ? (job.failCode ?? "unservable") : null,
        job.blockNumber ?? null,
        job.client ?? null,
        job.terms ? JSON.stringify(termsToJson(job.terms)) : null,
      ],
    );
    if (rows[0]) return { job: toJob(rows[0]), created: true };
    return { job: (await this.byRequestId(job.requestId!, sql))!, created: false };
  }

  /**
   * Insert a batch of jobs, record the locks seen on their requests (request id, lock; after the jobs, so a request
   * locked in the same range has its job) and a key (the watcher's last block), in one transaction; returns how many
   * jobs were new.
   */
  async insertAll(jobs: NewJob[], kv: [string, string], locks: readonly [string, LockState][] = []): Promise<number> {
    return this.db.transaction(async (tx) => {
      let n = 0;
      for (const j of jobs) if ((await this.insert(j, tx)).created) n += 1;
      for (const [requestId, held] of locks) await this.setHeld(requestId, held, tx);
      await this.setKv(kv[0], kv[1], tx);
      return n;
    });
  }

  async get(id: string): Promise<Job | undefined> {
    const [r] = await this.db.query("SELECT * FROM jobs WHERE id = $1", [id]);
    return r ? toJob(r) : undefined;
  }

  async byRequestId(requestId: string, sql: Sql = this.db): Promise<Job | undefined> {
    const [r] = await sql.query("SELECT * FROM jobs WHERE request_id = $1", [requestId]);
    return r ? toJob(r) : undefined;
  }

  async list(opts: { state?: JobState; kind?: JobKind; failCode?: FailCode; limit?: number } = {}): Promise<Job[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (col: string, v: unknown) => (args.push(v), where.push(`${col} = $${args.length}`));
    if (opts.state) add("state", opts.state);
    if (opts.kind) add("kind", opts.kind);
    if (opts.failCode) add("fail_code", opts.failCode);
    args.push(opts.limit ?? 100);
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at DESC LIMIT $${args.length}`;
    return (await this.db.query(sql, args)).map(toJob);
  }

  async countsByState(): Promise<Record<JobState, number>> {
    const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    for (const r of await this.db.query<{ state: JobState; n: unknown }>("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state"))
      counts[r.state] = Number(r.n);
    return counts;
  }

  /** Off-chain jobs not finished yet (queued or proving), in all and for one client. */
  async pendingOffchain(client: string): Promise<{ total: number; client: number }> {
    const [r] = await this.db.query<{ total: unknown; mine: unknown }>(
      `SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN client = $1 THEN 1 ELSE 0 END), 0) AS mine
       FROM jobs WHERE kind = 'offchain' AND state IN ('queued', 'proving')`,
      [client],
    );
    return { total: Number(r?.total ?? 0), client: Number(r?.mine ?? 0) };
  }

  /**
   * Atomically take the next claimable job for one of `models` and lease it to `owner` for `leaseMs`:
   * a queued job past its backoff, or a proving job whose lease lapsed. Chain jobs come first.
   */
  async claimNext(owner: string, leaseMs: number, models: string[]): Promise<Job | undefined> {
    if (!models.length) return undefined;
    const list = models.map((_, i) => `$${i + 3}`).join(",");
    const [r] = await this.db.query(
      `UPDATE jobs SET state = 'proving', attempts = attempts + 1, lease_owner = $1, lease_until = NOW_MS + $2, updated_at = NOW_MS
       WHERE id = (SELECT id FROM jobs WHERE ${CLAIMABLE} AND model IN (${list}) ORDER BY ${CLAIM_ORDER} LIMIT 1 SKIP_LOCKED)
         AND ${CLAIMABLE}
       RETURNING *`,
      [owner, leaseMs, ...models],
    );
    return r ? toJob(r) : undefined;
  }

  /**
   * The job claimNext would take now (without taking it), how many claimable chain jobs share its (model, version),
   * and how long ago (ms, on the database's clock) the group's first one was queued: the worker's batching window.
   */
  async peekNext(models: string[]): Promise<{ job: Job; group: number; ageMs: number } | undefined> {
    if (!models.length) return undefined;
    const list = models.map((_, i) => `$${i + 1}`).join(",");
    const [r] = await this.db.query(
      `SELECT *, NOW_MS - created_at AS age_ms FROM jobs WHERE ${CLAIMABLE} AND model IN (${list}) ORDER BY ${CLAIM_ORDER} LIMIT 1`,
      models,
    );
    if (!r) return undefined;
    const job = toJob(r);
    if (job.kind !== "chain" || job.modelId === null || job.version === null) return { job, group: 1, ageMs: Number(r.age_ms) };
    const [g] = await this.db.query<{ n: unknown; age: unknown }>(
      `SELECT COUNT(*) AS n, MAX(NOW_MS - created_at) AS age FROM jobs
       WHERE ${CLAIMABLE} AND kind = 'chain' AND model = $1 AND model_id = $2 AND version = $3`,
      [job.model, job.modelId, job.version],
    );
    return { job, group: Number(g?.n ?? 1), ageMs: Number(g?.age ?? r.age_ms) };
  }

  /**
   * Atomically take up to `max` claimable chain jobs of `like`'s (model, version), in claim order (soonest
   * deadline first), and lease them to `owner`: a batch's claim. Jobs other claimers hold are passed over.
   */
  async claimGroup(
    owner: string,
    leaseMs: number,
    like: Pick<Job, "model" | "modelId" | "version">,
    max: number,
  ): Promise<Job[]> {
    const rows = await this.db.query(
      `UPDATE jobs SET state = 'proving', attempts = attempts + 1, lease_owner = $1, lease_until = NOW_MS + $2, updated_at = NOW_MS
       WHERE id IN (SELECT id FROM jobs WHERE ${CLAIMABLE} AND kind = 'chain' AND model = $3 AND model_id = $4 AND version = $5
                    ORDER BY ${CLAIM_ORDER} LIMIT $6 SKIP_LOCKED)
         AND ${CLAIMABLE}
       RETURNING *`,
      [owner, leaseMs, like.model, like.modelId, like.version, max],
    );
    return rows.map(toJob).sort((a, b) => (a.deadline ?? Infinity) - (b.deadline ?? Infinity) || a.createdAt - b.createdAt);
  }

  /** Renew a proving job's lease; false when `owner` no longer holds it (it lapsed and another node took it). */
  async heartbeat(id: string, owner: string, leaseMs: number): Promise<boolean> {
    const rows = await this.db.query(
      "UPDATE jobs SET lease_until = NOW_MS + $3 WHERE id = $1 AND state = 'proving' AND lease_owner = $2 RETURNING id",
      [id, owner, leaseMs],
    );
    return rows.length === 1;
  }

  /**
   * Put a leased job back in the queue, claimable again after `delayMs`; `uncount`: the claim was not
   * an attempt at proving (the job was deferred before any work), so it does not count towards maxAttempts.
   */
  async requeue(id: string, owner: string, error: string, delayMs = 0, opts: { uncount?: boolean } = {}): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE jobs SET state = 'queued', error = $3, lease_owner = NULL, lease_until = NULL, not_before = NOW_MS + $4, updated_at = NOW_MS${opts.uncount ? ", attempts = attempts - 1" : ""}
       WHERE id = $1 AND state = 'proving' AND lease_owner = $2 RETURNING id`,
      [id, owner, error, delayMs],
    );
    return rows.length === 1;
  }

  /** Store a proof; false (and nothing written) when `owner` lost the job's lease meanwhile. */
  async proved(
    id: string,
    owner: string,
    result: JobResult,
    finalState: "proved" | "done",
    sql: Sql = this.db,
  ): Promise<boolean> {
    const rows = await sql.query(
      `UPDATE jobs SET state = $3, result = $4, error = NULL, lease_owner = NULL, lease_until = NULL, not_before = 0,
              proved_at = NOW_MS, updated_at = NOW_MS, finished_at = CASE WHEN $3 = 'done' THEN NOW_MS ELSE NULL END,
              batch_id = $5
       WHERE id = $1 AND state = 'proving' AND lease_owner = $2 RETURNING id`,
      [id, owner, finalState, JSON.stringify(result), result.batch?.id ?? null],
    );
    return rows.length === 1;
  }

  /**
   * Store one batch proof's results, each job's with its block: all or nothing. False (and nothing written) when
   * `owner` lost the lease of any of them meanwhile (another node may be proving that one: the batch is void).
   */
  async provedBatch(owner: string, results: { id: string; result: JobResult }[]): Promise<boolean> {
    class LeaseLost extends Error {}
    try {
      return await this.db.transaction(async (tx) => {
        for (const r of results) if (!(await this.proved(r.id, owner, r.result, "proved", tx))) throw new LeaseLost();
        return true;
      });
    } catch (e) {
      if (e instanceof LeaseLost) return false;
      throw e;
    }
  }

  /** The jobs of one batch, in block order. */
  async byBatch(batchId: string): Promise<Job[]> {
    const jobs = (await this.db.query("SELECT * FROM jobs WHERE batch_id = $1", [batchId])).map(toJob);
    return jobs.sort((a, b) => (a.result?.batch?.index ?? 0) - (b.result?.batch?.index ?? 0));
  }

  /**
   * A proved job whose batch cannot be sent as proved (another block's request dropped out of it): back to the
   * queue to be proved again, after `delayMs`, without its proof; the dropped claim does not count as an attempt.
   */
  async reprove(id: string, note: string, delayMs = 0): Promise<void> {
    await this.db.query(
      `UPDATE jobs SET state = 'queued', error = $2, result = NULL, batch_id = NULL, tx_hash = NULL, tx_nonce = NULL,
              attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, not_before = NOW_MS + $3, proved_at = NULL,
              updated_at = NOW_MS WHERE id = $1 AND state = 'proved'`,
      [id, note, delayMs],
    );
  }

  /** Record the lock on a request (see `Job.held`), for every node of the fleet. */
  async setHeld(requestId: string, held: LockState, sql: Sql = this.db): Promise<void> {
    await sql.query("UPDATE jobs SET held = $2 WHERE request_id = $1", [requestId, lockToJson(held)]);
  }

  /** Record a chain job's terms (a job stored before the store kept them). */
  async setTerms(id: string, terms: Terms): Promise<void> {
    await this.db.query("UPDATE jobs SET terms = $2 WHERE id = $1", [id, JSON.stringify(termsToJson(terms))]);
  }

  /** Record a signed fulfilment transaction before it is broadcast, so a restart (or a new leader) knows about it. */
  async submitting(id: string, txHash: string, nonce: number): Promise<void> {
    await this.db.query("UPDATE jobs SET state = 'submitting', tx_hash = $2, tx_nonce = $3, updated_at = NOW_MS WHERE id = $1", [
      id,
      txHash,
      nonce,
    ]);
  }

  async fulfilled(id: string, txHash: string | null, note?: string): Promise<void> {
    await this.db.query(
      `UPDATE jobs SET state = 'fulfilled', tx_hash = COALESCE($2, tx_hash), error = $3, fail_code = NULL, lease_owner = NULL,
              lease_until = NULL, updated_at = NOW_MS, finished_at = NOW_MS WHERE id = $1`,
      [id, txHash, note ?? null],
    );
  }

  /** A fulfilment that did not land: back to 'proved' so the sender judges it again (after `delayMs`). */
  async requeueProved(id: string, note: string, opts: { delayMs?: number; countAttempt?: boolean } = {}): Promise<void> {
    await this.db.query(
      `UPDATE jobs SET state = 'proved', error = $2, tx_hash = NULL, tx_nonce = NULL, not_before = NOW_MS + $3,
              send_attempts = send_attempts + $4, updated_at = NOW_MS WHERE id = $1`,
      [id, note, opts.delayMs ?? 0, opts.countAttempt ? 1 : 0],
    );
  }

  /** The proved chain job to fulfil next: soonest deadline first, skipping jobs in their retry backoff. */
  async nextProvedChainJob(): Promise<Job | undefined> {
    const [r] = await this.db.query(
      `SELECT * FROM jobs WHERE state = 'proved' AND kind = 'chain' AND not_before <= NOW_MS
       ORDER BY COALESCE(deadline, 9223372036854), created_at LIMIT 1`,
    );
    return r ? toJob(r) : undefined;
  }

  async fail(id: string, reason: string, code: FailCode): Promise<void> {
    await this.db.query(
      `UPDATE jobs SET state = 'failed', error = $2, fail_code = $3, lease_owner = NULL, lease_until = NULL,
              updated_at = NOW_MS, finished_at = NOW_MS WHERE id = $1`,
      [id, reason, code],
    );
  }

  /** Put a failed job back in the queue (its failure no longer holds), as `model`. */
  async revive(id: string, model: string): Promise<void> {
    await this.db.query(
      `UPDATE jobs SET state = 'queued', model = $2, error = NULL, fail_code = NULL, attempts = 0, not_before = 0,
              finished_at = NULL, updated_at = NOW_MS WHERE id = $1 AND state = 'failed'`,
      [id, model],
    );
  }

  /** Delete finished jobs older than `ageMs` (their proofs with them); returns how many. */
  async prune(ageMs: number): Promise<number> {
    const rows = await this.db.query(
      `DELETE FROM jobs WHERE state IN ('fulfilled', 'done', 'failed') AND finished_at < NOW_MS - $1 RETURNING id`,
      [ageMs],
    );
    return rows.length;
  }

  async getKv(key: string): Promise<string | undefined> {
    const [r] = await this.db.query<{ value: string }>("SELECT value FROM kv WHERE key = $1", [key]);
    return r?.value;
  }

  async setKv(key: string, value: string, sql: Sql = this.db): Promise<void> {
    await sql.query("INSERT INTO kv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [
      key,
      value,
    ]);
  }

  /**
   * Take or renew the named lease (e.g. the fleet's leader) for `ms`: true when `owner` holds it now.
   * It passes to another owner only once it lapsed.
   */
  async acquireLease(name: string, owner: string, ms: number): Promise<boolean> {
    const rows = await this.db.query(
      `INSERT INTO leases (name, owner, until) VALUES ($1, $2, NOW_MS + $3)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
       WHERE leases.owner = excluded.owner OR leases.until < NOW_MS
       RETURNING owner`,
      [name, owner, ms],
    );
    return rows.length === 1;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.db.query("DELETE FROM leases WHERE name = $1 AND owner = $2", [name, owner]);
  }

  /** Who holds the named lease, and for how many more ms (negative: lapsed). */
  async leaseHolder(name: string): Promise<{ owner: string; remainingMs: number } | undefined> {
    const [r] = await this.db.query<{ owner: string; remaining: unknown }>(
      "SELECT owner, until - NOW_MS AS remaining FROM leases WHERE name = $1",
      [name],
    );
    return r ? { owner: r.owner, remainingMs: Number(r.remaining) } : undefined;
  }
}
