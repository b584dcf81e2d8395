import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEther, type Abi, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { inferenceCoordinatorAbi } from "../../prover/src/chain/abis.js";
import { claimOf, fulfil } from "../../prover/src/chain/fulfil.js";
import { fillCommitment, fulfilledOutputs } from "../../prover/src/sdk/terms.js";
import { feltToInt, floatToFixed } from "../../prover/src/engine/felt.js";
import { proveInference } from "../../prover/src/models/inference.js";
import { parseInput } from "../../prover/src/models/input.js";
import { readJson, type Heldout } from "../../prover/src/models/source.js";
import type { LoadedModel } from "../../prover/src/models/store.js";
import { batchGas, chooseBatch, estimateProveMs, UNMEASURED_PROVE_MS } from "../../prover/src/service/batching.js";
import { JobStore, type BatchInfo, type JobResult, type NewJob } from "../../prover/src/service/store.js";
import { artifactAbi, DEV_KEYS, deployFromArtifact } from "../helpers/chain.js";
import { zkinfer } from "../helpers/cli.js";
import { builtExampleBatches, exampleSource, sharedEngine } from "../helpers/models.js";
import { sharedPostgresDatabase } from "../helpers/postgres.js";
import { startServiceChain, type ServiceChain } from "../helpers/service-chain.js";
import { startServiceProcess, type ServiceProcess } from "../helpers/service-process.js";
import { waitFor } from "../helpers/wait.js";

const REQUESTS = 16;
/** The third test's requests, one of which another party fulfils while their batch is proved. */
const EXTRA = 4;
const WAIT_MS = 150_000;

/**
 * Batching in the service (issue 14): digits-mlp registered with its batch-4 and batch-8 variants, 16 requests
 * from 16 consumer contracts arriving together, `zkinfer serve --batch-window-ms` as its own process on a
 * `hardhat node` with real EZKL proofs. The requests are settled by at most two `fulfillBatch` transactions, each
 * exactly once, and every consumer's callback receives the outputs of its own input (what batch 1 computes for it).
 */
describe("zkinfer serve: batched fulfilments (hardhat node + real EZKL)", function () {
  this.timeout(WAIT_MS + 240_000);
  let chain: ServiceChain;
  let model: LoadedModel;
  let dir: string;
  let svc: ServiceProcess;
  let consumerAbi: Abi;
  const consumers: Address[] = [];
  const inputs: bigint[][] = [];
  const expected: bigint[][] = [];
  const prover = privateKeyToAccount(DEV_KEYS[1]!);
  const stats: Record<string, unknown> = {};
  let ids: bigint[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "zkinfer-batch-e2e-"));
    model = await builtExampleBatches("digits-mlp");
    chain = await startServiceChain(["digits-mlp"], { batches: ["digits-mlp"] });
    consumerAbi = artifactAbi("test/MockConsumers.sol/RecordingConsumer");
    for (let i = 0; i < REQUESTS + EXTRA; i++)
      consumers.push(
        await deployFromArtifact(chain.admin.walletClient, chain.client, "test/MockConsumers.sol/RecordingConsumer", [
          chain.coordinator,
        ]),
      );
    // What each input gives at batch 1, computed apart from the service: the outputs its consumer must receive.
    const heldout = await readJson<Heldout>((await exampleSource("digits-mlp")).heldout!, "heldout.json");
    const rows = heldout.inputs.slice(0, REQUESTS + EXTRA);
    for (const row of rows) inputs.push(row.map((v) => floatToFixed(v, model.manifest.circuit.inputScale)));
    const witnesses = await sharedEngine().witnessBatch({
      inputs: rows,
      compiled: model.file("circuit"),
      scratch: join(dir, "witness"),
    });
    for (const w of witnesses) expected.push(w.outputs.flat().map(feltToInt));
    // Distinct inputs with distinct outputs, so that a request handed another's block cannot pass.
    expect(new Set(expected.map((e) => e.join(","))).size).to.equal(REQUESTS + EXTRA);
    svc = await startServiceProcess(
      [
        "-m",
        model.dir,
        "--db",
        join(dir, "jobs.sqlite"),
        "--confirmations",
        "0",
        "--poll-ms",
        "200",
        "--batch-window-ms",
        "5000",
      ],
      { ZKINFER_RPC_URL: chain.node.url, ZKINFER_PRIVATE_KEY: DEV_KEYS[1]!, ZKINFER_COORDINATOR: chain.coordinator },
    );
  });

  after(async () => {
    await svc?.stop();
    await chain?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (Object.keys(stats).length) console.log("      batch figures:", JSON.stringify(stats));
  });

  const events = <E extends "BatchFulfilled" | "InferenceFulfilled" | "RequestLocked">(eventName: E) =>
    chain.client.getContractEvents({
      address: chain.coordinator,
      abi: inferenceCoordinatorAbi,
      eventName,
      fromBlock: 0n,
      strict: true,
    });
  const batchProofs = async (size: number) =>
    Number(
      new RegExp(`^zkinfer_proofs_total\\{model="digits-mlp@batch-${size}"\\} (\\d+)$`, "m").exec(
        await (await fetch(`${svc.url}/metrics`)).text(),
      )?.[1] ?? 0,
    );
  const jobOf = async (requestId: bigint) =>
    (
      (await (await fetch(`${svc.url}/jobs?kind=chain&limit=1000`)).json()) as {
        requestId: string;
        state: string;
        error: string | null;
      }[]
    ).find((j) => j.requestId === String(requestId));
  const read = (address: Address, functionName: string) => chain.client.readContract({ address, abi: consumerAbi, functionName });

  it("fulfils 16 requests arriving together in at most 2 batched transactions, each consumer with exactly its own outputs", async () => {
    const t0 = Date.now();
    const deadline = (await chain.client.getBlock()).timestamp + 900n;
    const hashes: Hex[] = [];
    for (const [i, consumer] of consumers.slice(0, REQUESTS).entries())
      hashes.push(
        await chain.admin.walletClient.writeContract({
          address: consumer,
          abi: consumerAbi,
          functionName: "request",
          args: [chain.ids["digits-mlp"]!, 1, inputs[i]!, 500_000, deadline],
          value: parseEther("0.005"),
        }),
      );
    ids = [];
    for (const hash of hashes) {
      const receipt = await chain.client.waitForTransactionReceipt({ hash });
      expect(receipt.status).to.equal("success");
      const log = receipt.logs.find((l) => l.address.toLowerCase() === chain.coordinator.toLowerCase())!;
      ids.push(BigInt(log.topics[1]!));
    }
    await waitFor(
      "every consumer's callback",
      async () => (await Promise.all(consumers.slice(0, REQUESTS).map((c) => read(c, "calls")))).every((n) => n === 1n),
      WAIT_MS,
      svc.log,
    );
    stats.requestsToLastCallbackMs = Date.now() - t0;

    // Each consumer: called once, for its own request, with its own input's outputs.
    for (const [i, consumer] of consumers.slice(0, REQUESTS).entries()) {
      expect(await read(consumer, "calls"), `consumer ${i} calls`).to.equal(1n);
      expect(await read(consumer, "lastRequestId"), `consumer ${i} request`).to.equal(ids[i]);
      expect(await read(consumer, "lastOutputs"), `consumer ${i} outputs`).to.deep.equal(expected[i]);
    }

    // Each request fulfilled exactly once, by this prover, with its receipt; at most two batched transactions.
    const fulfilled = (await events("InferenceFulfilled")).filter((e) => ids.includes(e.args.requestId));
    expect(fulfilled).to.have.length(REQUESTS);
    expect(new Set(fulfilled.map((e) => e.args.requestId)).size).to.equal(REQUESTS);
    for (const [i, id] of ids.entries()) {
      const e = fulfilled.find((f) => f.args.requestId === id)!;
      expect(e.args.fulfiller).to.equal(prover.address);
      expect(fulfilledOutputs(e.args), `request ${id} event outputs`).to.deep.equal(expected[i]);
      expect(await chain.receipt(id), `request ${id} receipt`).to.deep.equal({
        fulfiller: prover.address,
        callback: "succeeded",
      });
    }
    const txs = [...new Set(fulfilled.map((e) => e.transactionHash))];
    const batches = (await events("BatchFulfilled")).filter((b) => b.args.requestIds.some((id) => ids.includes(id)));
    expect(txs.length, "fulfilment transactions").to.be.at.most(2);
    expect(batches.length, "BatchFulfilled events").to.equal(txs.length);
    expect(new Set(batches.map((b) => b.transactionHash))).to.deep.equal(new Set(txs));
    // The batches partition the requests, each in ascending id order (ids are hashes: not the order of the
    // requests), each on a registered variant.
    const ascending = (xs: readonly bigint[]) => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const batched = batches.flatMap((b) => [...b.args.requestIds]);
    expect(ascending(batched)).to.deep.equal(ascending(ids));
    for (const b of batches) {
      expect([4, 8]).to.include(b.args.batchSize);
      expect([...b.args.requestIds]).to.deep.equal(ascending(b.args.requestIds));
    }
    // Every request was locked by this prover before it was fulfilled.
    const locks = (await events("RequestLocked")).filter((e) => ids.includes(e.args.requestId));
    expect(new Set(locks.map((e) => e.args.requestId)).size).to.equal(REQUESTS);
    for (const l of locks) expect(l.args.locker).to.equal(prover.address);

    const gas = await Promise.all(txs.map(async (hash) => Number((await chain.client.getTransactionReceipt({ hash })).gasUsed)));
    stats.transactions = txs.length;
    stats.batchSizes = batches.map((b) => `${b.args.requestIds.length}/${b.args.batchSize}`);
    stats.gasPerTx = gas;
    stats.gasPerRequest = Math.round(gas.reduce((a, b) => a + b, 0) / REQUESTS);
  });

  it("shows each job's batch in /jobs and counts the batches in /metrics", async () => {
    const jobs = (await (await fetch(`${svc.url}/jobs?kind=chain&state=fulfilled`)).json()) as {
      requestId: string;
      batchId: string | null;
      txHash: string;
      result: { batch?: { id: string; size: number; index: number; requestIds: string[] } };
    }[];
    const ours = jobs.filter((j) => ids.includes(BigInt(j.requestId)));
    expect(ours).to.have.length(REQUESTS);
    for (const j of ours) {
      expect(j.batchId, `request ${j.requestId}`).to.be.a("string");
      const b = j.result.batch!;
      expect(b.id).to.equal(j.batchId);
      expect(b.requestIds[b.index]).to.equal(j.requestId);
    }
    // Jobs of one batch share its transaction.
    const byBatch = new Map<string, Set<string>>();
    for (const j of ours) byBatch.set(j.batchId!, (byBatch.get(j.batchId!) ?? new Set()).add(j.txHash));
    for (const hashes of byBatch.values()) expect(hashes.size).to.equal(1);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    const counted = [...metrics.matchAll(/^zkinfer_batches_total\{[^}]*\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
    expect(counted).to.equal(byBatch.size);
    expect(metrics).to.match(/^zkinfer_batch_requests_count\{model="digits-mlp"\} \d+$/m);
  });

  it("drops a request fulfilled by someone else while its batch is proved, and fulfils the rest in a new batch", async () => {
    const heldout = await readJson<Heldout>((await exampleSource("digits-mlp")).heldout!, "heldout.json");
    // The other party's proof of each of the four (which one drops out is known once their ids are).
    const own: Awaited<ReturnType<typeof proveInference>>[] = [];
    for (let i = REQUESTS; i < REQUESTS + EXTRA; i++)
      own.push(
        await proveInference(sharedEngine(), model, parseInput(heldout.inputs[i]!, model.manifest), {
          out: join(dir, `other-${i}.proof.json`),
        }),
      );
    const proofsBefore = await batchProofs(4);
    const deadline = (await chain.client.getBlock()).timestamp + 900n;
    const extra: bigint[] = [];
    for (let i = REQUESTS; i < REQUESTS + EXTRA; i++) {
      const hash = await chain.admin.walletClient.writeContract({
        address: consumers[i]!,
        abi: consumerAbi,
        functionName: "request",
        args: [chain.ids["digits-mlp"]!, 1, inputs[i]!, 500_000, deadline],
        value: parseEther("0.005"),
      });
      const receipt = await chain.client.waitForTransactionReceipt({ hash });
      extra.push(BigInt(receipt.logs.find((l) => l.address.toLowerCase() === chain.coordinator.toLowerCase())!.topics[1]!));
    }
    // Block 1 of the four (blocks go in ascending id order) drops out: the rest are not the proof's first blocks, so
    // they are proved again.
    const order = [...extra].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const dropped = extra.indexOf(order[1]!);
    // Once the service has chosen the batch (the four locked, their verdicts taken, the proof about to start),
    // another party fulfils one of them (within the service's lock: the service is paid, as the market rules say).
    await waitFor(
      "the batch of the four chosen",
      async () =>
        svc
          .log()
          .split("\n")
          .some((line) => {
            if (!line.includes('"batch chosen"')) return false;
            const entry = JSON.parse(line) as { requests?: string[] };
            return extra.every((id) => entry.requests?.includes(String(id)));
          }),
      WAIT_MS,
      svc.log,
    );
    // Within the service's lock, passed back as RequestLocked logged it.
    const claim = await claimOf(chain.client, chain.coordinator, extra[dropped]!);
    expect([claim.status, claim.held.locker]).to.deep.equal(["locked", prover.address]);
    const byOther = await fulfil(
      chain.admin.walletClient,
      chain.client,
      chain.coordinator,
      claim,
      own[dropped]!.proof,
      own[dropped]!.instances,
    );
    await waitFor(
      "the four callbacks",
      async () =>
        (await Promise.all(consumers.slice(REQUESTS).map((c) => read(c, "calls")))).every((n) => n === 1n) &&
        (await Promise.all(extra.map((id) => jobOf(id)))).every((j) => j?.state === "fulfilled"),
      WAIT_MS,
      svc.log,
    );
    for (let i = 0; i < EXTRA; i++) {
      const consumer = consumers[REQUESTS + i]!;
      expect(await read(consumer, "calls")).to.equal(1n);
      expect(await read(consumer, "lastRequestId")).to.equal(extra[i]);
      expect(await read(consumer, "lastOutputs"), `consumer ${REQUESTS + i} outputs`).to.deep.equal(expected[REQUESTS + i]);
    }
    const fulfilled = (await events("InferenceFulfilled")).filter((e) => extra.includes(e.args.requestId));
    expect(fulfilled).to.have.length(EXTRA);
    const locks = (await events("RequestLocked")).filter((e) => extra.includes(e.args.requestId));
    expect(locks.map((l) => l.args.locker)).to.deep.equal(new Array(EXTRA).fill(prover.address));
    expect(fulfilled.find((e) => e.args.requestId === extra[dropped])!.transactionHash).to.equal(byOther.transactionHash);
    // The other three: one batch proved again without the dropped request, one fulfillBatch.
    const rest = extra.filter((_, i) => i !== dropped);
    const batches = (await events("BatchFulfilled")).filter((b) => b.args.requestIds.some((id) => extra.includes(id)));
    expect(batches).to.have.length(1);
    expect([...batches[0]!.args.requestIds]).to.deep.equal(order.filter((id) => id !== extra[dropped]));
    expect(batches[0]!.args.batchSize).to.equal(4);
    for (const id of rest)
      expect(fulfilled.find((e) => e.args.requestId === id)!.transactionHash).to.equal(batches[0]!.transactionHash);
    expect(await batchProofs(4), "batch-4 proofs: the first, and the rest's").to.equal(proofsBefore + 2);
    const job = (await jobOf(extra[dropped]!))!;
    expect(job.error).to.equal("already fulfilled on-chain");
    stats.dropTest = {
      batchGas: Number((await chain.client.getTransactionReceipt({ hash: batches[0]!.transactionHash })).gasUsed),
    };
  });

  it("fulfils a batch nobody could lock as one open fill: one commitment to the whole batch, a block ahead", async () => {
    // A one-second lock window: past before the batch window closes, so the service proves them for an open fill.
    const hashes: Hex[] = [];
    for (let i = 0; i < 4; i++)
      hashes.push(await chain.send("digits-mlp", await chain.heldoutInput("digits-mlp", 40 + i), 900, { lockTimeout: 1 }));
    const open = await Promise.all(hashes.map((h) => chain.mined(h)));
    await waitFor(
      "the open-fill batch",
      async () => (await Promise.all(open.map(chain.fulfilments))).every((f) => f.length === 1),
      WAIT_MS,
      svc.log,
    );
    const batches = (await events("BatchFulfilled")).filter((b) => b.args.requestIds.some((id) => open.includes(id)));
    expect(batches, "one fulfillBatch").to.have.length(1);
    const ascending = [...open].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect([...batches[0]!.args.requestIds]).to.deep.equal(ascending);
    // Nobody locked them; the prover committed once, to these requests in their order and this proof.
    expect((await events("RequestLocked")).filter((e) => open.includes(e.args.requestId))).to.have.length(0);
    const commitment = fillCommitment(prover.address, ascending, batches[0]!.args.proofHash);
    const commits = await chain.client.getContractEvents({
      address: chain.coordinator,
      abi: inferenceCoordinatorAbi,
      eventName: "FillCommitted",
      args: { prover: prover.address },
      fromBlock: 0n,
      strict: true,
    });
    // (The earlier tests' requests were all locked: this is the prover's only commitment.)
    expect(commits.map((c) => c.args.commitment)).to.deep.equal([commitment]);
    expect(commits[0]!.blockNumber < batches[0]!.blockNumber, "committed in an earlier block").to.equal(true);
    for (const id of open) expect((await chain.receipt(id)).fulfiller).to.equal(prover.address);
  });
});

const storeJob = (requestId: number, version = 1, deadline = 4_000_000_000): NewJob => ({
  kind: "chain",
  requestId: String(requestId),
  model: "m",
  modelId: "0xabc",
  version,
  inputFixed: ["1"],
  deadline,
  fee: "10",
});
const result = (batch: BatchInfo): JobResult => ({
  outputsFixed: [String(batch.index)],
  outputsFloat: [batch.index],
  proof: "0x01",
  instances: ["1"],
  proveMs: 1,
  batch,
});

/** The batch claim and the batch's results in the job store, on both backends (two handles: two nodes). */
for (const backend of ["sqlite", "postgres"] as const) {
  describe(`batches in the job store on ${backend}`, function () {
    let dir: string;
    let a: JobStore;
    let b: JobStore;
    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), "zkinfer-batch-store-"));
      const where = backend === "sqlite" ? join(dir, "jobs.sqlite") : await sharedPostgresDatabase();
      a = await JobStore.open(where);
      b = await JobStore.open(where);
    });
    afterEach(async () => {
      await a?.close();
      await b?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("claims a group of one (model, version) at most once across nodes, soonest deadline first", async () => {
      for (let i = 1; i <= 6; i++) await a.insert(storeJob(i, 1, 4_000_000_000 - i));
      await a.insert(storeJob(7, 2));
      const peek = (await a.peekNext(["m"]))!;
      expect(peek.job.requestId).to.equal("6");
      expect(peek.group).to.equal(6);
      const [x, y] = await Promise.all([a.claimGroup("n1", 10_000, peek.job, 4), b.claimGroup("n2", 10_000, peek.job, 4)]);
      const claimed = [...x, ...y].map((j) => j.requestId);
      expect(new Set(claimed).size, "no job claimed twice").to.equal(claimed.length);
      expect(claimed.sort()).to.deep.equal(["1", "2", "3", "4", "5", "6"]);
      const first = x.length === 4 ? x : y;
      expect(first.map((j) => j.requestId)).to.deep.equal(["6", "5", "4", "3"]);
      expect((await a.peekNext(["m"]))!.job.requestId, "the other version is not in the group").to.equal("7");
    });

    it("stores a batch's results all or none, and sends a job back to be proved again without its proof", async () => {
      for (let i = 1; i <= 3; i++) await a.insert(storeJob(i));
      const jobs = await a.claimGroup("n1", 10_000, (await a.peekNext(["m"]))!.job, 3);
      const info = (index: number): BatchInfo => ({ id: "batch-1", size: 4, index, requestIds: ["1", "2", "3"] });
      // Job 3's lease passed to another node: nothing of the batch is stored.
      await a.requeue(jobs[2]!.id, "n1", "test");
      await b.claimNext("n2", 10_000, ["m"]);
      expect(
        await a.provedBatch(
          "n1",
          jobs.map((j, i) => ({ id: j.id, result: result(info(i)) })),
        ),
      ).to.equal(false);
      expect((await a.get(jobs[0]!.id))!.state).to.equal("proving");
      // With every lease held, every job is stored with its block.
      const held = jobs.slice(0, 2);
      expect(
        await a.provedBatch(
          "n1",
          held.map((j, i) => ({ id: j.id, result: result(info(i)) })),
        ),
      ).to.equal(true);
      const batch = await a.byBatch("batch-1");
      expect(batch.map((j) => [j.state, j.batchId, j.result!.batch!.index])).to.deep.equal([
        ["proved", "batch-1", 0],
        ["proved", "batch-1", 1],
      ]);
      await a.reprove(batch[1]!.id, "a batch-mate dropped out");
      const again = (await a.get(batch[1]!.id))!;
      expect([again.state, again.result, again.batchId, again.attempts]).to.deep.equal(["queued", null, null, 0]);
    });
  });
}

describe("choosing a batch (the gas model in batching.ts)", () => {
  const choose = (pending: number, sizes = [4, 8], secondsLeft = 600) =>
    chooseBatch({ pending, sizes, instancesPerInference: 74, estimateMs: (b) => b * 2000, secondsLeft });

  it("fills the largest variant when there are enough requests, and splits what is left", () => {
    expect(choose(16)).to.include({ size: 8, take: 8 });
    expect(choose(16).plan).to.deep.equal([
      { size: 8, take: 8 },
      { size: 8, take: 8 },
    ]);
    expect(choose(12).plan).to.deep.equal([
      { size: 8, take: 8 },
      { size: 4, take: 4 },
    ]);
  });

  it("pads a batch when that is cheaper than a smaller batch and singles, and keeps one request on batch 1", () => {
    expect(choose(5)).to.include({ size: 8, take: 5 });
    expect(choose(3)).to.include({ size: 4, take: 3 });
    expect(choose(1)).to.include({ size: 1, take: 1 });
    expect(batchGas(8, 5, 74) / 5).to.be.below((batchGas(4, 4, 74) + batchGas(1, 1, 74)) / 5);
  });

  it("leaves out a size whose proof would end after the most urgent deadline", () => {
    const c = choose(8, [4, 8], 10); // batch 8 takes an estimated 16 s, batch 4 8 s
    expect(c.tooSlow).to.deep.equal([8]);
    expect(c.plan).to.deep.equal([
      { size: 4, take: 4 },
      { size: 4, take: 4 },
    ]);
    expect(choose(8, [4, 8], 1)).to.include({ size: 1, take: 1 });
  });

  it("estimates an unmeasured batch from batch 1's measured proof time, conservatively", () => {
    const times = new Map([["m", 1500]]);
    expect(estimateProveMs(times, "m", 8)).to.equal(12_000);
    times.set("m@batch-8", 5700);
    expect(estimateProveMs(times, "m", 8)).to.equal(5700);
    expect(estimateProveMs(new Map(), "m", 4)).to.equal(4 * UNMEASURED_PROVE_MS);
  });
});

describe("zkinfer serve's batching flags", () => {
  for (const [flag, value, range, example] of [
    ["--max-batch", "0", "1 to 64", "8"],
    ["--max-batch", "65", "1 to 64", "8"],
    ["--batch-window-ms", "-1", "0 to 600000", "3000"],
    ["--batch-window-ms", "soon", "0 to 600000", "3000"],
  ] as const) {
    it(`refuses ${flag} ${value} with one error line and a hint`, async () => {
      const r = await zkinfer(["serve", "-m", "digits-mlp", flag, value], {});
      expect(r.status).to.equal(1);
      expect(r.stderr.trim().split("\n")).to.deep.equal([
        `error: ${flag} must be an integer from ${range}, not '${value}'`,
        `hint: e.g. ${flag} ${example}`,
      ]);
    });
  }
});

/**
 * Batching in a fleet: two `zkinfer serve` processes on one PostgreSQL store and one key. Their workers claim groups
 * from the same queue; no request is proved by both, and each is fulfilled once.
 */
describe("zkinfer serve fleet with batching: two processes on one PostgreSQL store (hardhat node + real EZKL)", function () {
  this.timeout(WAIT_MS + 240_000);
  let chain: ServiceChain;
  const procs: ServiceProcess[] = [];
  const stats: Record<string, unknown> = {};

  before(async () => {
    const model = await builtExampleBatches("digits-mlp");
    chain = await startServiceChain(["digits-mlp"], { batches: ["digits-mlp"] });
    const db = await sharedPostgresDatabase();
    const args = ["-m", model.dir, "--db", db, "--confirmations", "0", "--poll-ms", "200", "--batch-window-ms", "3000"];
    const env = { ZKINFER_RPC_URL: chain.node.url, ZKINFER_PRIVATE_KEY: DEV_KEYS[1]!, ZKINFER_COORDINATOR: chain.coordinator };
    procs.push(...(await Promise.all([0, 1].map(() => startServiceProcess(args, env)))));
  });
  after(async () => {
    for (const p of procs) await p.stop();
    await chain?.stop();
    if (Object.keys(stats).length) console.log("      fleet batch figures:", JSON.stringify(stats));
  });
  const logs = () => procs.map((p, i) => `--- node ${i} ---\n${p.log().slice(-2500)}`).join("\n");

  it("proves each of 16 requests once across the fleet and fulfils each once", async () => {
    const hashes: Hex[] = [];
    for (let i = 0; i < REQUESTS; i++)
      hashes.push(await chain.send("digits-mlp", await chain.heldoutInput("digits-mlp", 20 + i), 900));
    const ids = await Promise.all(hashes.map((h) => chain.mined(h)));
    await waitFor(
      "all 16 fulfilments",
      async () => (await Promise.all(ids.map(chain.fulfilments))).every((f) => f.length === 1),
      WAIT_MS,
      logs,
    );
    // What each node proved, from its own log: every request once in all.
    const proved = procs.map((p) =>
      p
        .log()
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { msg?: string; requests?: string[]; requestId?: string })
        .flatMap((e) => (e.msg === "proved a batch" ? e.requests! : e.msg === "proved" && e.requestId ? [e.requestId] : [])),
    );
    stats.provedPerNode = proved.map((p) => p.length);
    const all = proved.flat();
    expect([...all].sort()).to.deep.equal(ids.map(String).sort());
    for (const id of ids) expect(await chain.fulfilments(id)).to.have.length(1);
    const batches = await chain.client.getContractEvents({
      address: chain.coordinator,
      abi: inferenceCoordinatorAbi,
      eventName: "BatchFulfilled",
      fromBlock: 0n,
      strict: true,
    });
    stats.batches = batches.map((b) => `${b.args.requestIds.length}/${b.args.batchSize}`);
    expect(batches.length, "16 requests, batches of at most 8").to.be.at.least(2);
  });
});
