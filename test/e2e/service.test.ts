import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Abi, type Address, type Hex, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { inferenceCoordinatorAbi } from "../../prover/src/chain/abis.js";
import { decodeInputs } from "../../prover/src/models/inference.js";
import { readJson, type Heldout } from "../../prover/src/models/source.js";
import { artifactAbi, DEV_KEYS, deployFromArtifact } from "../helpers/chain.js";
import { runCommand } from "../helpers/cli.js";
import { builtExample, exampleProof, exampleSource, sharedEngine } from "../helpers/models.js";
import { projectRoot } from "../../prover/src/util/paths.js";
import { TcpProxy } from "../helpers/proxy.js";
import { waitFor } from "../helpers/wait.js";
import { startServiceChain, type ServiceChain } from "../helpers/service-chain.js";
import { startServiceProcess, type ServiceProcess } from "../helpers/service-process.js";

/**
 * The prover service end to end: `zkinfer serve` as its own process, following a coordinator on a
 * `hardhat node` on 127.0.0.1 (through a TCP proxy the test can cut), proving with real EZKL and
 * fulfilling with real transactions.
 */
describe("zkinfer serve: watch, prove, fulfil (hardhat node + real EZKL)", function () {
  let chain: ServiceChain;
  let proxy: TcpProxy;
  let client: PublicClient;
  let coordinator: Address;
  let consumer: Address;
  let consumerAbi: Abi;
  let dir: string;
  let svc: ServiceProcess;
  const admin = privateKeyToAccount(DEV_KEYS[0]!);
  const prover = privateKeyToAccount(DEV_KEYS[1]!);
  let serviceArgs: string[];
  let serviceEnv: Record<string, string>;
  const stats: Record<string, unknown> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "zkinfer-e2e-"));
    chain = await startServiceChain(["digits-mlp", "diabetes-mlp", "digits-cnn"]);
    ({ client, coordinator } = chain);
    proxy = new TcpProxy("127.0.0.1", Number(new URL(chain.node.url).port));
    await proxy.start();
    consumer = await deployFromArtifact(chain.admin.walletClient, client, "test/MockConsumers.sol/RecordingConsumer", [
      coordinator,
    ]);
    consumerAbi = artifactAbi("test/MockConsumers.sol/RecordingConsumer");
    serviceArgs = [
      "-m",
      (await builtExample("digits-mlp")).dir,
      (await builtExample("diabetes-mlp")).dir,
      "--db",
      join(dir, "jobs.sqlite"),
      "--confirmations",
      "0",
      "--poll-ms",
      "200",
      "--replace-after-ms",
      "2000",
      "--lease-ms",
      "3000",
    ];
    serviceEnv = { ZKINFER_RPC_URL: proxy.url, ZKINFER_PRIVATE_KEY: DEV_KEYS[1]!, ZKINFER_COORDINATOR: coordinator };
    svc = await startServiceProcess(serviceArgs, serviceEnv);
  });

  after(async () => {
    await svc?.stop();
    await proxy?.stop();
    await chain?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (Object.keys(stats).length) console.log("      service figures:", JSON.stringify(stats));
  });

  const deadlineIn = async (sec: number) => (await client.getBlock()).timestamp + BigInt(sec);
  const heldoutInput = (name: "digits-mlp" | "diabetes-mlp", i: number) => chain.heldoutInput(name, i);
  const request = (name: "digits-mlp" | "diabetes-mlp" | "digits-cnn", input: bigint[], deadlineSec = 600) =>
    chain.request(name, input, deadlineSec);
  const sendRequest = (name: "digits-mlp" | "diabetes-mlp", input: bigint[], deadlineSec: number) =>
    chain.send(name, input, deadlineSec);
  const requestMined = (hash: Hex) => chain.mined(hash);
  /** Transactions the prover sent since `nonceBefore` beyond `fulfils`: its lock transactions, by their events. */
  const lockTxs = async (fromBlock: bigint) =>
    new Set(
      (
        await client.getContractEvents({
          address: coordinator,
          abi: inferenceCoordinatorAbi,
          eventName: "RequestLocked",
          args: { locker: prover.address },
          fromBlock,
          strict: true,
        })
      ).map((e) => e.transactionHash),
    ).size;

  const fulfilments = async (requestId: bigint) =>
    client.getContractEvents({
      address: coordinator,
      abi: inferenceCoordinatorAbi,
      eventName: "InferenceFulfilled",
      args: { requestId },
      fromBlock: 0n,
      strict: true,
    });
  const job = async (requestId: bigint) => {
    const jobs = (await (await fetch(`${svc.url}/jobs?kind=chain&limit=1000`)).json()) as {
      requestId: string;
      state: string;
      error: string | null;
      txHash: string | null;
    }[];
    return jobs.find((j) => j.requestId === String(requestId));
  };

  it("fulfils a consumer's request; the callback receives exactly the verified outputs", async () => {
    const proof = await exampleProof("digits-mlp");
    const input = decodeInputs((await builtExample("digits-mlp")).manifest, proof.instances);
    const t0 = Date.now();
    const hash = await chain.admin.walletClient.writeContract({
      address: consumer,
      abi: consumerAbi,
      functionName: "request",
      args: [chain.ids["digits-mlp"]!, 1, input, 600_000, await deadlineIn(600)],
      value: chain.fee,
    });
    const receipt = await client.waitForTransactionReceipt({ hash });
    const requestId = BigInt(receipt.logs.find((l) => l.address.toLowerCase() === coordinator.toLowerCase())!.topics[1]!);
    const outputs = await waitFor(
      "the consumer's callback",
      async () => {
        const last = (await client.readContract({
          address: consumer,
          abi: consumerAbi,
          functionName: "lastRequestId",
        })) as bigint;
        if (last !== requestId) return undefined;
        return (await client.readContract({ address: consumer, abi: consumerAbi, functionName: "lastOutputs" })) as bigint[];
      },
      180_000,
      svc.log,
    );
    stats.requestToCallbackMs = Date.now() - t0;
    stats.bareProveMs = Math.round(proof.timingsMs.prove);
    expect(outputs).to.deep.equal(proof.outputs.fixed);
    expect(await client.readContract({ address: consumer, abi: consumerAbi, functionName: "calls" })).to.equal(1n);
    expect((await fulfilments(requestId))[0]!.args.fulfiller).to.equal(prover.address);
    expect(await chain.receipt(requestId)).to.deep.equal({ fulfiller: prover.address, callback: "succeeded" });
  });

  it("`zkinfer request` submits from an account and prints the verified result", async () => {
    const source = await exampleSource("diabetes-mlp");
    const inputFile = join(dir, "request-input.json");
    const heldout = await readJson<Heldout>(source.heldout!, "heldout.json");
    writeFileSync(inputFile, JSON.stringify({ input_data: [heldout.inputs[7]] }));
    // Asynchronous spawn: this process runs the RPC proxy the service talks through, so it must not block.
    const r = await runCommand(
      join(projectRoot, "bin/zkinfer"),
      ["request", "diabetes-mlp", inputFile, "--owner", admin.address, "--fee", "0.001", "--timeout", "60", "--json"],
      {
        ...process.env,
        ZKINFER_CONFIG: "",
        ZKINFER_RPC_URL: chain.node.url,
        ZKINFER_PRIVATE_KEY: DEV_KEYS[2]!,
        ZKINFER_COORDINATOR: coordinator,
      },
    );
    expect(r.status, `${r.stderr}\n--- service ---\n${svc.log().slice(-3000)}`).to.equal(0);
    const out = JSON.parse(r.stdout) as { outputsFloat: number[]; fulfiller: string; callback: string };
    const [float] = await sharedEngine().runOnnx((await builtExample("diabetes-mlp")).file("onnx"), [heldout.inputs[7]!]);
    expect(Math.abs(out.outputsFloat[0]! - float![0]!)).to.be.at.most(source.meta!.tolerance as number);
    expect(out.fulfiller).to.equal(prover.address);
    expect(out.callback).to.equal("none");
  });

  it("`zkinfer request cancel|refund`: the requester cancels an unlocked request and gets the escrow; each mistake is one error line and a hint", async () => {
    const env = {
      ...process.env,
      ZKINFER_CONFIG: "",
      ZKINFER_RPC_URL: chain.node.url,
      ZKINFER_PRIVATE_KEY: DEV_KEYS[2]!,
      ZKINFER_COORDINATOR: coordinator,
    };
    const cli = (...a: string[]) => runCommand(join(projectRoot, "bin/zkinfer"), ["request", ...a], env);
    // digits-cnn is not served here: nobody locks it.
    const open = await request("digits-cnn", await heldoutInput("digits-mlp", 1));
    const before = await client.getBalance({ address: chain.requester });
    const ok = await cli("cancel", String(open));
    expect(ok.status, ok.stderr).to.equal(0);
    expect(ok.stdout).to.match(
      new RegExp(`^cancelled request ${open} \\(tx 0x[0-9a-f]{64}\\): 0\\.001 ETH credited to ${chain.requester}$`, "m"),
    );
    expect(ok.stdout).to.match(/^withdrew 0\.001 ETH to 0x[0-9a-fA-F]{40} \(tx 0x[0-9a-f]{64}\)$/m);
    expect((await client.getBalance({ address: chain.requester })) > before, "0.001 ETH back, less gas").to.equal(true);
    const mistakes: [string[], RegExp][] = [
      [["cancel", String(open)], new RegExp(`^error: request ${open} was already cancelled\nhint: `)],
      [["refund", "12x"], /^error: <requestId> must be a request number, not '12x'\nhint: /],
      [["cancel", "999999"], /^error: request 999999 does not exist on the coordinator 0x[0-9a-fA-F]{40}\nhint: /],
    ];
    const locked = await request("diabetes-mlp", await heldoutInput("diabetes-mlp", 5));
    await waitFor("the service's lock", async () => (await chain.status(locked)) !== "open", 120_000, svc.log);
    const r = await cli("cancel", String(locked));
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(
      new RegExp(
        `^error: request ${locked} (is locked by prover ${prover.address} until .+; a locked request cannot be cancelled|is already fulfilled; there is nothing to cancel)\nhint: `,
      ),
    );
    const early = await request("digits-cnn", await heldoutInput("digits-mlp", 2));
    mistakes.push([
      ["refund", String(early)],
      new RegExp(
        `^error: request ${early} is open until its deadline .+; it can be refunded after that\nhint: to take the escrow back now: zkinfer request cancel ${early}\n$`,
      ),
    ]);
    for (const [a, expected] of mistakes) {
      const m = await cli(...a);
      expect(m.status, a.join(" ")).to.equal(1);
      expect(m.stderr, a.join(" ")).to.match(expected);
      expect(m.stderr).to.not.match(/\n\s+at /); // no stack trace
    }
  });

  it("fails requests it cannot serve, with the reason, while good ones go through", async () => {
    const good = await request("diabetes-mlp", await heldoutInput("diabetes-mlp", 2));
    const notServed = await request("digits-cnn", await heldoutInput("digits-mlp", 0));
    const tooLarge = await request("diabetes-mlp", [10n ** 12n, ...(await heldoutInput("diabetes-mlp", 3)).slice(1)]);
    const tooSoon = await request("digits-mlp", await heldoutInput("digits-mlp", 4), 3);
    await waitFor("the good request's fulfilment", async () => (await fulfilments(good)).length === 1, 180_000, svc.log);
    const reasons = await waitFor(
      "the bad requests to be failed",
      async () => {
        const js = await Promise.all([notServed, tooLarge, tooSoon].map(job));
        return js.every((j) => j?.state === "failed") ? js.map((j) => j!.error!) : undefined;
      },
      60_000,
      svc.log,
    );
    expect(reasons[0]).to.match(/is not served here/);
    expect(reasons[1]).to.match(/outside the circuit's range/);
    expect(reasons[2]).to.match(/deadline is \d+ s away; a proof of this model takes/);
    for (const id of [notServed, tooLarge, tooSoon]) expect(await fulfilments(id)).to.have.length(0);
    expect(await (await fetch(`${svc.url}/health`)).status).to.equal(200);
  });

  it("killed with SIGKILL in the middle of a proof, then restarted, fulfils that request exactly once", async () => {
    const nonceBefore = await client.getTransactionCount({ address: prover.address });
    const fromBlock = await client.getBlockNumber();
    const requestId = await request("digits-mlp", await heldoutInput("digits-mlp", 5));
    await waitFor("the job to be proving", async () => (await job(requestId))?.state === "proving", 60_000, svc.log);
    await svc.kill();
    svc = await startServiceProcess(serviceArgs, serviceEnv);
    await waitFor(
      "the fulfilment after the restart",
      async () => (await job(requestId))?.state === "fulfilled",
      180_000,
      svc.log,
    );
    expect(await fulfilments(requestId)).to.have.length(1);
    // One lock (taken before the proof, kept across the restart) and one fulfilment.
    expect(await lockTxs(fromBlock)).to.equal(1);
    expect(await client.getTransactionCount({ address: prover.address })).to.equal(nonceBefore + 2);
    expect(svc.log()).to.match(/claimed a job again/);
  });

  it("retries while the RPC endpoint is down, catches up when it returns, and misses nothing", async () => {
    await proxy.stop();
    const ids3: bigint[] = [];
    try {
      for (let i = 0; i < 3; i++) ids3.push(await request("diabetes-mlp", await heldoutInput("diabetes-mlp", 10 + i)));
      await waitFor(
        "the watcher to report RPC failures",
        async () =>
          /^zkinfer_rpc_errors_total\{component="watcher"\} [1-9]/m.test(await (await fetch(`${svc.url}/metrics`)).text()),
        60_000,
        svc.log,
      );
      for (const id of ids3) expect(await fulfilments(id)).to.have.length(0);
    } finally {
      await proxy.start();
    }
    for (const id of ids3) await waitFor(`request ${id}`, async () => (await fulfilments(id)).length === 1, 180_000, svc.log);
  });

  it("fulfils 20 requests sent at once, each exactly once", async () => {
    const nonceBefore = await client.getTransactionCount({ address: prover.address });
    const fromBlock = await client.getBlockNumber();
    const inputs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => heldoutInput(i % 2 ? "digits-mlp" : "diabetes-mlp", 20 + i)),
    );
    const t0 = Date.now();
    // Broadcast all 20 back to back (the node automines each on arrival), then collect the receipts.
    const hashes: Hex[] = [];
    for (const [i, inp] of inputs.entries()) hashes.push(await sendRequest(i % 2 ? "digits-mlp" : "diabetes-mlp", inp, 1200));
    const requestIds = await Promise.all(hashes.map(requestMined));
    expect(new Set(requestIds.map(String)).size).to.equal(20);
    await waitFor(
      "all 20 fulfilments",
      async () => (await Promise.all(requestIds.map(fulfilments))).every((f) => f.length === 1),
      600_000,
      svc.log,
    );
    const seconds = (Date.now() - t0) / 1000;
    stats.burst20Seconds = Math.round(seconds * 10) / 10;
    stats.burstPerMinute = Math.round((20 / seconds) * 60 * 10) / 10;
    for (const id of requestIds) expect(await fulfilments(id)).to.have.length(1);
    // 20 fulfilments plus the lock transactions, which take several pending requests at once.
    const locks = await lockTxs(fromBlock);
    stats.burst20LockTxs = locks;
    expect(locks).to.be.within(1, 19);
    expect(await client.getTransactionCount({ address: prover.address })).to.equal(nonceBefore + 20 + locks);
  });
  it("replaces a fulfilment that is not mined in time with a higher fee, and lands it once", async () => {
    const rpc = (method: string, params: unknown[] = []) => client.request({ method: method as never, params: params as never });
    const nonceBefore = await client.getTransactionCount({ address: prover.address });
    await rpc("evm_setAutomine", [false]);
    try {
      const hash = await sendRequest("diabetes-mlp", await heldoutInput("diabetes-mlp", 40), 600);
      await rpc("evm_mine");
      const requestId = await requestMined(hash);
      // The service locks the request before proving it: mine its lock (nothing else is pending yet).
      await waitFor(
        "the lock",
        async () => {
          if ((await chain.status(requestId)) === "locked") return true;
          const pending = await client.getBlock({ blockTag: "pending" });
          if (pending.transactions.length > 0) await rpc("evm_mine");
          return undefined;
        },
        120_000,
        svc.log,
      );
      await waitFor(
        "the fulfilment to be in flight",
        async () => (await job(requestId))?.state === "submitting",
        120_000,
        svc.log,
      );
      await waitFor(
        "a replacement",
        async () =>
          /zkinfer_fulfil_transactions_total\{result="replaced"\} [1-9]/.test(await (await fetch(`${svc.url}/metrics`)).text()),
        30_000,
        svc.log,
      );
      await rpc("evm_mine");
      const done = await waitFor(
        "the fulfilment",
        async () => {
          const j = await job(requestId);
          return j?.state === "fulfilled" ? j : undefined;
        },
        60_000,
        svc.log,
      );
      const events = await fulfilments(requestId);
      expect(events).to.have.length(1);
      expect(done.txHash).to.equal(events[0]!.transactionHash);
      expect(await client.getTransactionCount({ address: prover.address })).to.equal(nonceBefore + 2); // lock + fulfil
    } finally {
      await rpc("evm_setAutomine", [true]);
    }
  });
});
