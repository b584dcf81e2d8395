import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEther, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { inferenceCoordinatorAbi } from "../../prover/src/chain/abis.js";
import { fetchRequest } from "../../prover/src/sdk/terms.js";
import { artifactAbi, DEV_KEYS, deployFromArtifact } from "../helpers/chain.js";
import { zkinfer } from "../helpers/cli.js";
import { builtExample } from "../helpers/models.js";
import { TcpProxy } from "../helpers/proxy.js";
import { startServiceChain, type ServiceChain } from "../helpers/service-chain.js";
import { startServiceProcess, type ServiceProcess } from "../helpers/service-process.js";
import { waitFor } from "../helpers/wait.js";

const WAIT_MS = 900_000;
const COLLATERAL = parseEther("0.002");
const DEPOSIT = parseEther("0.05");

/**
 * The market end to end (issue 12): two independent provers — their own keys, their own job stores,
 * their own `zkinfer serve` processes — on one `hardhat node`, with real EZKL proofs. They share a
 * burst by locking; a locker killed for good is slashed and the other prover takes over after the
 * lock deadline; a gas-bomb request is refused by the service and, at zero fee, by the chain.
 */
describe("the fulfilment market: two provers on one chain (hardhat node + real EZKL)", function () {
  this.timeout(WAIT_MS + 120_000);
  let chain: ServiceChain;
  let dir: string;
  const keys: [Hex, Hex] = [DEV_KEYS[1]!, DEV_KEYS[3]!];
  const provers = keys.map((k) => privateKeyToAccount(k).address);
  const svcs: (ServiceProcess | undefined)[] = [undefined, undefined];
  /** Prover A talks to the chain through a proxy the test cuts when it "dies". */
  let proxyA: TcpProxy;
  let args: (i: number) => string[];
  let env: (i: number) => Record<string, string>;
  const stats: Record<string, unknown> = {};
  /** Fulfilments each prover was paid for in the first test. */
  let paidTo: number[] = [0, 0];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "zkinfer-market-"));
    chain = await startServiceChain(["diabetes-mlp"]);
    proxyA = new TcpProxy("127.0.0.1", Number(new URL(chain.node.url).port));
    await proxyA.start();
    const model = (await builtExample("diabetes-mlp")).dir;
    args = (i) => [
      "-m",
      model,
      "--db",
      join(dir, `jobs-${i}.sqlite`),
      "--confirmations",
      "0",
      "--poll-ms",
      "200",
      "--max-locks",
      "2",
    ];
    env = (i) => ({
      ZKINFER_RPC_URL: i === 0 ? proxyA.url : chain.node.url,
      ZKINFER_PRIVATE_KEY: keys[i as 0 | 1],
      ZKINFER_COORDINATOR: chain.coordinator,
    });
    // Each prover deposits collateral with the CLI an operator uses.
    for (const i of [0, 1]) {
      const r = await zkinfer(["prover", "deposit", "0.05"], env(i));
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/^deposited 0\.05 ETH \(tx 0x[0-9a-f]{64}\); balance 0\.05 ETH$/m);
    }
    svcs[0] = await startServiceProcess(args(0), env(0));
    svcs[1] = await startServiceProcess(args(1), env(1));
  });
  after(async () => {
    for (const s of svcs) await s?.stop();
    await proxyA?.stop();
    await chain?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (Object.keys(stats).length) console.log("      market figures:", JSON.stringify(stats));
  });

  const logs = () => svcs.map((s, i) => `--- prover ${i} ---\n${s ? s.log().slice(-2500) : "(stopped)"}`).join("\n");
  const credits = (who: Address) =>
    chain.client.readContract({ address: chain.coordinator, abi: inferenceCoordinatorAbi, functionName: "credits", args: [who] });
  const events = <E extends "LockSlashed" | "RequestLocked" | "InferenceFulfilled">(eventName: E) =>
    chain.client.getContractEvents({
      address: chain.coordinator,
      abi: inferenceCoordinatorAbi,
      eventName,
      fromBlock: 0n,
      strict: true,
    });
  const proofsMade = async (s: ServiceProcess) => {
    const m = /^zkinfer_proofs_total\{model="diabetes-mlp"\} (\d+)$/m.exec(await (await fetch(`${s.url}/metrics`)).text());
    return Number(m?.[1] ?? 0);
  };
  const metric = async (s: ServiceProcess, name: string) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(await (await fetch(`${s.url}/metrics`)).text())?.[1]);

  it("10 requests are proved once in total, fulfilled once each, and no prover loses collateral", async () => {
    const inputs = await Promise.all(Array.from({ length: 10 }, (_, i) => chain.heldoutInput("diabetes-mlp", i)));
    const hashes: Hex[] = [];
    for (const input of inputs) hashes.push(await chain.send("diabetes-mlp", input, 1200, { lockCollateral: COLLATERAL }));
    const ids = await Promise.all(hashes.map(chain.mined));
    await waitFor(
      "all 10 fulfilments",
      async () => (await Promise.all(ids.map(chain.fulfilments))).every((f) => f.length === 1),
      WAIT_MS,
      logs,
    );
    const made = await Promise.all(svcs.map((s) => proofsMade(s!)));
    stats.proofsPerProver = made;
    expect(made[0]! + made[1]!, "proofs made in total").to.equal(10);
    const fulfilled = (await events("InferenceFulfilled")).filter((e) => ids.includes(e.args.requestId));
    expect(fulfilled).to.have.length(10);
    paidTo = provers.map((p) => fulfilled.filter((e) => e.args.fulfiller === p).length);
    stats.fulfilmentsPerProver = paidTo;
    expect(paidTo[0]! + paidTo[1]!).to.equal(10);
    // Every request was locked first, by one of the two, and every lock was honoured.
    const locked = (await events("RequestLocked")).filter((e) => ids.includes(e.args.requestId));
    expect(new Set(locked.map((e) => e.args.requestId)).size).to.equal(10);
    for (const e of fulfilled)
      expect(locked.find((l) => l.args.requestId === e.args.requestId)!.args.locker).to.equal(e.args.fulfiller);
    expect(await events("LockSlashed")).to.have.length(0);
    // No collateral lost: each balance is the deposit plus the fixed price of each request it fulfilled.
    for (const i of [0, 1]) expect(await credits(provers[i]!)).to.equal(DEPOSIT + BigInt(paidTo[i]!) * chain.fee);
    // The operator's metrics: fees earned, and no lock held once all is fulfilled.
    for (const i of [0, 1]) {
      expect(await metric(svcs[i]!, "zkinfer_fees_earned_wei_total")).to.equal(Number(BigInt(paidTo[i]!) * chain.fee));
      expect(await metric(svcs[i]!, "zkinfer_locks_held")).to.equal(0);
    }
  });

  it("a locker killed for good is slashed; the other prover fulfils after the lock deadline and gets price + half the collateral", async () => {
    // Only A runs when the request arrives, so A locks it; A then dies before it can fulfil.
    await svcs[1]!.stop();
    svcs[1] = undefined;
    const id = await chain.request("diabetes-mlp", await chain.heldoutInput("diabetes-mlp", 11), 1200, {
      lockCollateral: COLLATERAL,
      lockTimeout: 30,
    });
    const lock = await waitFor(
      "A's lock",
      async () => ((await chain.status(id)) === "locked" ? chain.lockOf(id) : undefined),
      WAIT_MS,
      logs,
    );
    await proxyA.stop(); // cut first, so that a proof finished in the same instant cannot be sent
    await svcs[0]!.kill(); // SIGKILL, and never restarted
    svcs[0] = undefined;
    const { terms } = await fetchRequest(chain.client, { coordinator: chain.coordinator, requestId: id });
    expect(lock.locker).to.equal(provers[0]);
    const [creditsB, creditsRequester] = [await credits(provers[1]!), await credits(chain.requester)];

    svcs[1] = await startServiceProcess(args(1), env(1));
    const [fulfilment] = await waitFor(
      "B's fulfilment after A's lock deadline",
      async () => {
        const f = await chain.fulfilments(id);
        return f.length ? f : undefined;
      },
      WAIT_MS,
      logs,
    );
    const block = await chain.client.getBlock({ blockNumber: (fulfilment as { blockNumber: bigint }).blockNumber });
    expect(block.timestamp > terms.lockDeadline, "fulfilled after the lock deadline").to.equal(true);
    expect((await chain.receipt(id)).fulfiller).to.equal(provers[1]);
    const [slash] = (await events("LockSlashed")).filter((e) => e.args.requestId === id);
    expect(slash!.args).to.deep.include({
      locker: provers[0],
      collateral: COLLATERAL,
      fulfiller: provers[1],
      toFulfiller: COLLATERAL / 2n,
      toRequester: COLLATERAL / 2n,
    });
    expect(await credits(provers[1]!)).to.equal(creditsB + chain.fee + COLLATERAL / 2n);
    expect(await credits(chain.requester)).to.equal(creditsRequester + COLLATERAL / 2n);
    // A lost exactly its collateral: its balance is the deposit plus its fees, minus this lock.
    expect(await credits(provers[0]!)).to.equal(DEPOSIT + BigInt(paidTo[0]!) * chain.fee - COLLATERAL);
    expect(svcs[1]!.log()).to.match(/committed to an open fill/);
  });

  it("a gas-bomb request: the service refuses it with the reason; at zero fee the chain refuses it, at the requester's cost", async () => {
    const consumer = await deployFromArtifact(
      chain.admin.walletClient,
      chain.client,
      "test/MockConsumers.sol/GasBurningConsumer",
      [chain.coordinator],
    );
    const abi = artifactAbi("test/MockConsumers.sol/GasBurningConsumer");
    const input = await chain.heldoutInput("diabetes-mlp", 12);
    const deadline = (await chain.client.getBlock()).timestamp + 1200n;
    const offer = (minPrice: bigint) => ({
      minPrice,
      rampPeriod: 0,
      lockTimeout: 300,
      lockCollateral: 0n,
      callbackGasLimit: 5_000_000,
      deadline,
    });
    const proverB = provers[1]!;
    const nonceB = await chain.client.getTransactionCount({ address: proverB });
    const proofsB = await proofsMade(svcs[1]!);

    // Fee 0 with the maximum callback gas: the coordinator refuses it (the floor is callback gas x base fee x 2).
    // (eth_call runs with a base fee of 0, so only a mined transaction shows it: sent with a fixed gas limit.)
    const requesterBefore = await chain.client.getBalance({ address: chain.admin.account.address });
    // Hardhat's automining node mines it and answers the broadcast with the revert.
    const sent = await chain.admin.walletClient
      .writeContract({
        address: consumer,
        abi,
        functionName: "requestWith",
        args: [chain.ids["diabetes-mlp"]!, 1, input, offer(0n)],
        value: 0n,
        gas: 1_000_000n,
      })
      .then(
        () => "mined without a revert",
        (e: Error) => e.message,
      );
    const m = /reverted with custom error '(\w+)\((\d+), (\d+)\)'/.exec(sent);
    expect(m?.[1], sent).to.equal("CoordinatorPriceBelowCallbackCost");
    const head = await chain.client.getBlock({ blockTag: "latest", includeTransactions: true });
    const bombTx = head.transactions.find((t) => t.from.toLowerCase() === chain.admin.account.address.toLowerCase())!;
    const bombReceipt = await chain.client.getTransactionReceipt({ hash: bombTx.hash });
    expect(bombReceipt.status).to.equal("reverted");
    expect([BigInt(m![2]!), BigInt(m![3]!)]).to.deep.equal([0n, 5_000_000n * head.baseFeePerGas! * 2n]);
    // Its sender paid for the attempt; no prover spent anything.
    expect(await chain.client.getBalance({ address: chain.admin.account.address })).to.equal(
      requesterBefore - bombReceipt.gasUsed * bombReceipt.effectiveGasPrice,
    );

    // At the chain's floor (5M gas x 2 x the base fee, far below 5M gas at the gas price a prover pays), the
    // service refuses it.
    const floor = 5_000_000n * (await chain.client.getBlock({ blockTag: "pending" })).baseFeePerGas! * 2n;
    stats.gasBombPriceWei = String(floor);
    const hash = await chain.admin.walletClient.writeContract({
      address: consumer,
      abi,
      functionName: "requestWith",
      args: [chain.ids["diabetes-mlp"]!, 1, input, offer(floor)],
      value: floor,
    });
    const id = await chain.mined(hash);
    await waitFor(
      "the refusal",
      async () => /"msg":"request refused"/.test(svcs[1]!.log()) && svcs[1]!.log().includes(`"requestId":"${id}"`),
      120_000,
      logs,
    );
    const res = (await (await fetch(`${svcs[1]!.url}/jobs?kind=chain&limit=1000`)).json()) as {
      requestId: string;
      state: string;
      error: string;
    }[];
    const job = res.find((j) => j.requestId === String(id))!;
    expect(job.state).to.equal("failed");
    expect(job.error).to.match(/^price \d+ wei does not cover the callback's 5000000 gas at \d+ wei\/gas \(\+10%: \d+ wei\)$/);
    // The prover spent nothing on it: no lock, no proof, no transaction.
    expect(await chain.status(id)).to.equal("open");
    expect(await proofsMade(svcs[1]!)).to.equal(proofsB);
    expect(await chain.client.getTransactionCount({ address: proverB })).to.equal(nonceB);
  });
});
