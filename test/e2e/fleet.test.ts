import { expect } from "chai";
import { privateKeyToAccount } from "viem/accounts";
import { inferenceCoordinatorAbi } from "../../prover/src/chain/abis.js";
import { JobStore, type Job } from "../../prover/src/service/store.js";
import { DEV_KEYS } from "../helpers/chain.js";
import { builtExample } from "../helpers/models.js";
import { sharedPostgresDatabase } from "../helpers/postgres.js";
import { startServiceChain, type ServiceChain } from "../helpers/service-chain.js";
import { startServiceProcess, type ServiceProcess } from "../helpers/service-process.js";
import { waitFor } from "../helpers/wait.js";

const LEASE_MS = 10_000;
/** Proofs take ~2.5 s each on an idle 2-core machine, but a minute and more when it is shared: generous waits. */
const WAIT_MS = 1_200_000;

/**
 * A fleet: three `zkinfer serve` processes on one PostgreSQL job store and one chain, sharing one
 * signing key. Every request is fulfilled exactly once and proved once; a node killed mid-proof loses
 * its job to another node after its lease; the leader killed, another takes over watching and sending.
 */
describe("zkinfer serve fleet: three processes on one PostgreSQL store (hardhat node + real EZKL)", function () {
  this.timeout(WAIT_MS + 120_000);
  let chain: ServiceChain;
  let db: string;
  let store: JobStore;
  const procs: ServiceProcess[] = [];
  const prover = privateKeyToAccount(DEV_KEYS[1]!);
  const requests: bigint[] = [];
  const stats: Record<string, unknown> = {};

  before(async () => {
    chain = await startServiceChain(["diabetes-mlp"]);
    db = await sharedPostgresDatabase();
    const args = [
      "-m",
      (await builtExample("diabetes-mlp")).dir,
      "--db",
      db,
      "--confirmations",
      "0",
      "--poll-ms",
      "200",
      "--replace-after-ms",
      "5000",
      "--lease-ms",
      String(LEASE_MS),
    ];
    const env = { ZKINFER_RPC_URL: chain.node.url, ZKINFER_PRIVATE_KEY: DEV_KEYS[1]!, ZKINFER_COORDINATOR: chain.coordinator };
    procs.push(...(await Promise.all([0, 1, 2].map(() => startServiceProcess(args, env)))));
    store = await JobStore.open(db);
  });
  after(async () => {
    for (const p of procs) await p.stop();
    await store?.close();
    await chain?.stop();
    if (Object.keys(stats).length) console.log("      fleet figures:", JSON.stringify(stats));
  });

  const logs = () => procs.map((p, i) => `--- node ${i} (pid ${p.pid}) ---\n${p.log().slice(-2500)}`).join("\n");
  const byPid = (owner: string | null | undefined) => procs.find((p) => owner && owner.split(":")[1] === String(p.pid));
  const leader = async () => byPid((await store.leaseHolder("leader"))?.owner);
  const burst = async (n: number, offset: number) => {
    const hashes: `0x${string}`[] = [];
    for (let i = 0; i < n; i++)
      hashes.push(await chain.send("diabetes-mlp", await chain.heldoutInput("diabetes-mlp", offset + i)));
    const ids = await Promise.all(hashes.map((h) => chain.mined(h)));
    requests.push(...ids);
    return ids;
  };
  const allFulfilled = (ids: bigint[], what: string) =>
    waitFor(what, async () => (await Promise.all(ids.map(chain.fulfilments))).every((f) => f.length === 1), WAIT_MS, logs);

  it("elects one leader; a node killed with SIGKILL mid-proof loses its job to another node within the lease", async () => {
    const first = await waitFor("a leader", leader, 60_000, logs);
    const ids = await burst(10, 0);
    // A job a follower has just claimed (so it is surely still proving when the node dies).
    const victim = await waitFor(
      "a follower to be proving",
      async () => {
        const proving = await store.list({ state: "proving", kind: "chain" });
        return proving.find((j) => byPid(j.leaseOwner) && byPid(j.leaseOwner) !== first && j.attempts === 1);
      },
      WAIT_MS,
      logs,
    );
    const killed = byPid(victim.leaseOwner)!;
    await killed.kill();
    const killedAt = Date.now();
    // The job is claimable again once the lease the dead node last renewed lapses: within one lease.
    const { leaseUntil } = (await store.get(victim.id))!;
    expect(leaseUntil! - killedAt).to.be.at.most(LEASE_MS);
    // Another node takes it as soon as one of its workers is free (they are busy with the burst).
    const reclaimed = await waitFor(
      "another node to claim the dead node's job",
      async () => {
        const j = (await store.get(victim.id))!;
        return j.attempts >= 2 ? j : undefined;
      },
      WAIT_MS,
      logs,
    );
    stats.leaseLeftAtKillMs = leaseUntil! - killedAt;
    stats.reclaimAfterKillMs = Date.now() - killedAt;
    expect(reclaimed.attempts).to.equal(2);
    expect(byPid(reclaimed.leaseOwner)).to.not.equal(killed);
    await allFulfilled(ids, "the first 10 fulfilments");
    // The chain is ahead of the store: the sender records a job fulfilled after its receipt, so wait for that.
    const settled = await waitFor(
      "the dead node's job to be recorded as fulfilled",
      async () => {
        const j = (await store.get(victim.id))!;
        return j.state === "fulfilled" || j.state === "failed" ? j : undefined;
      },
      WAIT_MS,
      logs,
    );
    expect(settled.state).to.equal("fulfilled");
  });

  it("the leader killed, another node takes over watching and sending; requests sent meanwhile are not missed", async () => {
    const old = (await leader())!;
    await old.kill();
    const killedAt = Date.now();
    const ids = await burst(10, 10); // sent while no node leads
    const next = await waitFor(
      "a new leader",
      async () => {
        const l = await leader();
        return l && l !== old ? l : undefined;
      },
      LEASE_MS * 6,
      logs,
    );
    stats.takeoverMs = Date.now() - killedAt;
    expect(procs.filter((p) => p !== old)).to.include(next);
    await allFulfilled(ids, "the 10 fulfilments after the takeover");
    await allFulfilled(await burst(10, 20), "the last 10 fulfilments");
  });

  it("fulfilled each of the 30 requests exactly once from one key, with 30 proofs in total", async () => {
    expect(requests).to.have.length(30);
    for (const id of requests) expect(await chain.fulfilments(id)).to.have.length(1);
    const jobs = (await store.list({ kind: "chain", limit: 1000 })) as Job[];
    expect(jobs.filter((j) => j.state === "fulfilled")).to.have.length(30);
    // One transaction per fulfilment plus the leader's lock transactions (several requests each) and commitments
    // (a request still unlocked past its lock window is an open fill): no nonce was wasted or raced across nodes.
    const lockTxs = new Set(
      (
        await chain.client.getContractEvents({
          address: chain.coordinator,
          abi: inferenceCoordinatorAbi,
          eventName: "RequestLocked",
          args: { locker: prover.address },
          fromBlock: 0n,
          strict: true,
        })
      ).map((e) => e.transactionHash),
    ).size;
    stats.lockTxs = lockTxs;
    const commits = await chain.client.getContractEvents({
      address: chain.coordinator,
      abi: inferenceCoordinatorAbi,
      eventName: "FillCommitted",
      fromBlock: 0n,
    });
    stats.commits = commits.length;
    expect(lockTxs).to.be.within(1, 30);
    expect(await chain.client.getTransactionCount({ address: prover.address })).to.equal(30 + lockTxs + commits.length);
    const proofs = procs.reduce((n, p) => n + (p.log().match(/"msg":"proved"/g)?.length ?? 0), 0);
    stats.proofsPerNode = procs.map((p) => p.log().match(/"msg":"proved"/g)?.length ?? 0);
    expect(proofs).to.equal(30);
  });
});
