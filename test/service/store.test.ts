import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Terms } from "../../prover/src/sdk/terms.js";
import { JobStore, type NewJob } from "../../prover/src/service/store.js";
import { projectRoot } from "../../prover/src/util/paths.js";
import { runCommand } from "../helpers/cli.js";
import { sharedPostgresDatabase } from "../helpers/postgres.js";

const chainJob = (requestId: number, deadline = 4_000_000_000): NewJob => ({
  kind: "chain",
  requestId: String(requestId),
  model: "m",
  inputFixed: ["1", "2"],
  deadline,
  fee: "10",
});
const offchainJob = (client = "c1"): NewJob => ({ kind: "offchain", model: "m", inputFixed: ["3"], client });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The same behaviour on both backends: the embedded SQLite file and a real PostgreSQL server. */
for (const backend of ["sqlite", "postgres"] as const) {
  describe(`job store on ${backend}`, function () {
    let dir: string;
    let where: string;
    let a: JobStore;
    let b: JobStore;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "zkinfer-store-"));
    });
    beforeEach(async () => {
      where = backend === "sqlite" ? join(dir, `jobs-${Date.now()}-${Math.random()}.sqlite`) : await sharedPostgresDatabase();
      // Two handles on one store, as two nodes of a fleet have (two connections / two pools).
      a = await JobStore.open(where);
      b = await JobStore.open(where);
    });
    afterEach(async () => {
      await a?.close();
      await b?.close();
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("inserts a chain request once, however many nodes see it", async () => {
      const [x, y] = await Promise.all([a.insert(chainJob(1)), b.insert(chainJob(1))]);
      expect([x.created, y.created].sort()).to.deep.equal([false, true]);
      expect(x.job.id).to.equal(y.job.id);
      expect((await a.list()).length).to.equal(1);
    });

    it("claims chain jobs before off-chain jobs, soonest deadline first", async () => {
      await a.insert(offchainJob());
      await a.insert(chainJob(2, 4_000_000_500));
      await a.insert(chainJob(3, 4_000_000_100));
      const order = [];
      for (let i = 0; i < 3; i++) order.push((await a.claimNext("n1", 10_000, ["m"]))!);
      expect(order.map((j) => j.requestId ?? j.kind)).to.deep.equal(["3", "2", "offchain"]);
      expect(await a.claimNext("n1", 10_000, ["m"])).to.equal(undefined);
      expect(await a.claimNext("n1", 10_000, ["other-model"])).to.equal(undefined);
    });

    it("gives each of 40 jobs to exactly one of two nodes claiming at once", async () => {
      for (let i = 0; i < 40; i++) await a.insert(chainJob(100 + i));
      const take = async (s: JobStore, owner: string) => {
        const got: string[] = [];
        for (let j; (j = await s.claimNext(owner, 10_000, ["m"]));) got.push(j.id);
        return got;
      };
      const [x, y] = await Promise.all([take(a, "n1"), take(b, "n2")]);
      expect(x.length + y.length).to.equal(40);
      expect(new Set([...x, ...y]).size).to.equal(40);
    });

    it("returns a job to the queue when its lease lapses; the late owner's result is discarded", async () => {
      const { job } = await a.insert(chainJob(5));
      await a.claimNext("dead", 300, ["m"]);
      expect(await b.claimNext("n2", 10_000, ["m"])).to.equal(undefined);
      await sleep(400);
      const again = (await b.claimNext("n2", 10_000, ["m"]))!;
      expect(again.id).to.equal(job.id);
      expect(again.attempts).to.equal(2);
      const result = { outputsFixed: [], outputsFloat: [], proof: "0x00" as const, instances: [], proveMs: 1 };
      expect(await a.heartbeat(job.id, "dead", 10_000)).to.equal(false);
      expect(await a.proved(job.id, "dead", result, "proved")).to.equal(false);
      expect(await b.proved(job.id, "n2", result, "proved")).to.equal(true);
      expect((await a.get(job.id))!.state).to.equal("proved");
    });

    it("keeps a job leased while its owner's heartbeat renews the lease", async () => {
      await a.insert(chainJob(6));
      const job = (await a.claimNext("n1", 300, ["m"]))!;
      for (let i = 0; i < 4; i++) {
        await sleep(150);
        expect(await a.heartbeat(job.id, "n1", 300)).to.equal(true);
      }
      expect(await b.claimNext("n2", 10_000, ["m"])).to.equal(undefined);
    });

    it("holds back a requeued job for its backoff, and lets the jobs behind it go first", async () => {
      const { job } = await a.insert(chainJob(7, 4_000_000_000));
      await a.insert(chainJob(8, 4_000_000_900));
      await a.claimNext("n1", 10_000, ["m"]);
      expect(await a.requeue(job.id, "n1", "EZKL died", 400)).to.equal(true);
      expect((await a.claimNext("n1", 10_000, ["m"]))!.requestId).to.equal("8");
      expect(await a.claimNext("n1", 10_000, ["m"])).to.equal(undefined);
      await sleep(450);
      expect((await a.claimNext("n1", 10_000, ["m"]))!.requestId).to.equal("7");
    });

    it("passes the leader lease to one node at a time, and to another once it lapses", async () => {
      const [x, y] = await Promise.all([a.acquireLease("leader", "n1", 400), b.acquireLease("leader", "n2", 400)]);
      expect([x, y].filter(Boolean)).to.have.length(1);
      const [holder, other, otherStore] = x ? ["n1", "n2", b] : ["n2", "n1", a];
      expect(await otherStore.acquireLease("leader", other, 400)).to.equal(false);
      expect((await a.leaseHolder("leader"))!.owner).to.equal(holder);
      await sleep(450);
      expect(await otherStore.acquireLease("leader", other, 400)).to.equal(true);
      expect((await a.leaseHolder("leader"))!.owner).to.equal(other);
      await otherStore.releaseLease("leader", other);
      expect(await a.leaseHolder("leader")).to.equal(undefined);
    });

    it("counts pending off-chain jobs per client, and revives a job failed as not served", async () => {
      await a.insert(offchainJob("c1"));
      await a.insert(offchainJob("c1"));
      await a.insert(offchainJob("c2"));
      expect(await a.pendingOffchain("c1")).to.deep.equal({ total: 3, client: 2 });
      const { job } = await a.insert({ ...chainJob(9), failedReason: "not served here", failCode: "not_served" });
      expect((await a.list({ state: "failed", failCode: "not_served" })).map((j) => j.id)).to.deep.equal([job.id]);
      await a.revive(job.id, "m2");
      const revived = (await a.get(job.id))!;
      expect([revived.state, revived.model, revived.failCode]).to.deep.equal(["queued", "m2", null]);
    });

    it("records the watcher's jobs and its last block in one transaction", async () => {
      expect(await a.insertAll([chainJob(10), chainJob(11)], ["watcher.lastBlock", "42"])).to.equal(2);
      expect(await b.insertAll([chainJob(11), chainJob(12)], ["watcher.lastBlock", "43"])).to.equal(1);
      expect(await a.getKv("watcher.lastBlock")).to.equal("43");
      const failed = await a
        .insertAll([chainJob(13), { ...chainJob(14), inputFixed: undefined as never }], ["watcher.lastBlock", "44"])
        .then(
          () => undefined,
          (e: Error) => e,
        );
      expect(failed?.message).to.match(/NOT NULL|not-null/i);
      expect(await a.getKv("watcher.lastBlock")).to.equal("43");
      expect(await a.byRequestId("13")).to.equal(undefined);
    });

    it("keeps a chain job's terms and its lock exactly (integers past 2^53 included), seen from every node", async () => {
      const id = (1n << 255n) + 12345n; // request ids are hashes now
      const terms: Terms = {
        requester: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
        modelId: `0x${"ab".repeat(32)}`,
        version: 3,
        inputCommitment: `0x${"cd".repeat(32)}`,
        maxPrice: (1n << 87n) + 1n,
        minPrice: 10n ** 15n,
        requestedAt: 1_800_000_000n,
        rampPeriod: 60,
        lockDeadline: 1_800_000_300n,
        lockCollateral: 2n * 10n ** 15n + 1n,
        callbackGasLimit: 500_000,
        deadline: 1_800_001_200n,
      };
      const { job } = await a.insert({ ...chainJob(0), requestId: String(id), terms });
      expect(job.terms).to.deep.equal(terms);
      expect(job.held).to.equal(null);
      expect((await a.insert(chainJob(1))).job.terms, "a job stored without terms").to.equal(null);
      const held = { locker: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as const, lockedAt: 77n, price: (1n << 80n) + 3n };
      await b.setHeld(String(id), held);
      const seen = (await a.byRequestId(String(id)))!;
      expect([seen.terms, seen.held]).to.deep.equal([terms, held]);
      // The watcher's way: a request and its lock seen in one range are stored together.
      const other = { ...held, locker: "0x90F79bf6EB2c4f870365E785982E1f101E93b906" as const };
      expect(await a.insertAll([chainJob(20)], ["watcher.lastBlock", "9"], [["20", other]])).to.equal(1);
      expect((await b.byRequestId("20"))!.held).to.deep.equal(other);
    });
  });
}

describe("job store upgrade", function () {
  it("adds the terms and lock columns to a store made before them, in place, keeping its jobs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zkinfer-store-upgrade-"));
    try {
      const file = join(dir, "old.sqlite");
      const { DatabaseSync } = await import("node:sqlite");
      const old = new DatabaseSync(file);
      // The first release's table (no send_attempts ... terms, held) with one job in it.
      old.exec(`CREATE TABLE jobs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, request_id TEXT UNIQUE, model TEXT NOT NULL,
        model_id TEXT, version INTEGER, input_fixed TEXT NOT NULL, deadline BIGINT, fee TEXT, state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, error TEXT, result TEXT, tx_hash TEXT, tx_nonce INTEGER, block_number BIGINT,
        created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, proved_at BIGINT, finished_at BIGINT)`);
      old.exec(`INSERT INTO jobs (id, kind, request_id, model, input_fixed, state, created_at, updated_at)
        VALUES ('j1', 'chain', '7', 'm', '["1"]', 'queued', 1, 1)`);
      old.close();
      const store = await JobStore.open(file);
      try {
        const job = (await store.byRequestId("7"))!;
        expect([job.id, job.state, job.terms, job.held]).to.deep.equal(["j1", "queued", null, null]);
        await store.setHeld("7", { locker: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", lockedAt: 5n, price: 9n });
        expect((await store.byRequestId("7"))!.held!.price).to.equal(9n);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("job store on sqlite: nodes starting at once", function () {
  it("opens one fresh file from 8 processes at the same moment, each waiting its turn for the file's lock", async function () {
    this.timeout(120_000);
    const dir = mkdtempSync(join(tmpdir(), "zkinfer-store-race-"));
    try {
      // A node starting on the store: it waits until the given time, so that all of them open it at once.
      // Inline, not a file under test/, which mocha would load as a test file.
      const script = `
        import { JobStore } from ${JSON.stringify(`file://${projectRoot}/prover/src/service/store.ts`)};
        const [where, startAt] = process.argv.slice(1);
        await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
        const store = await JobStore.open(where);
        await store.close();
        console.log("opened");`;
      const node = [
        "--disable-warning=ExperimentalWarning",
        "--import",
        `file://${projectRoot}/node_modules/tsx/dist/esm/index.mjs`,
        "--input-type=module",
        "-e",
        script,
      ];
      // Three rounds on three fresh files, each round's processes opening at one instant after their start-up.
      for (let round = 0; round < 3; round++) {
        const store = join(dir, `jobs-${round}.sqlite`);
        const startAt = String(Date.now() + 4_000);
        const runs = await Promise.all(
          Array.from({ length: 8 }, () => runCommand(process.execPath, [...node, store, startAt], process.env, 60_000)),
        );
        for (const r of runs) {
          expect(r.stderr, r.stderr).not.to.match(/locked|error/i);
          expect(r.stdout.trim(), r.stderr).to.equal("opened");
          expect(r.status).to.equal(0);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
