import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync, chmodSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeAbiParameters, parseEther, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { modelRegistryAbi } from "../../prover/src/chain/abis.js";
import { readModelVka, versionParams } from "../../prover/src/chain/register.js";
import { startService, type RunningService, type ServiceConfig } from "../../prover/src/service/service.js";
import { JobStore } from "../../prover/src/service/store.js";
import { silentLogger } from "../../prover/src/util/logger.js";
import { projectRoot } from "../../prover/src/util/paths.js";
import { DEV_KEYS } from "../helpers/chain.js";
import { runCommand, zkinfer } from "../helpers/cli.js";
import { builtExample } from "../helpers/models.js";
import { RpcProxy } from "../helpers/proxy.js";
import { startServiceChain, type ServiceChain } from "../helpers/service-chain.js";
import { waitFor } from "../helpers/wait.js";

/**
 * What operators hit, one failure at a time, against a real chain (`hardhat node`) and real EZKL:
 * start-up misconfigurations, an unfunded key, a model served only after a restart, a fresh store
 * over settled requests, an RPC that refuses large getLogs ranges or fails one job's estimateGas,
 * and a version registered with a layout the build does not have.
 */
describe("zkinfer serve: failures operators hit (hardhat node + real EZKL)", function () {
  // Proofs take ~2.5 s on an idle machine and over a minute on a shared one: generous waits.
  this.timeout(1_200_000);
  let chain: ServiceChain;
  let dir: string;
  let diabetes: string;
  let digits: string;
  const services: RunningService[] = [];
  let stores = 0;

  before(async () => {
    chain = await startServiceChain(["diabetes-mlp", "digits-mlp"]);
    dir = mkdtempSync(join(tmpdir(), "zkinfer-failures-"));
    [diabetes, digits] = [(await builtExample("diabetes-mlp")).dir, (await builtExample("digits-mlp")).dir];
  });
  after(async () => {
    for (const s of services) await s.stop();
    await chain?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (over: Partial<ServiceConfig> & { rpcUrl?: string; key?: Hex; maxSendAttempts?: number }) => {
    const { rpcUrl, key, maxSendAttempts, ...rest } = over;
    const svc = await startService(
      {
        models: [diabetes],
        dbPath: join(dir, `jobs-${++stores}.sqlite`),
        host: "127.0.0.1",
        port: 0,
        workers: 1,
        maxAttempts: 3,
        leaseMs: 5000,
        ...rest,
        chain: {
          config: {
            rpcUrl: rpcUrl ?? chain.node.url,
            privateKey: key ?? DEV_KEYS[1]!,
            registry: undefined,
            verifierRoute: undefined,
            coordinator: chain.coordinator,
            source: "test",
          },
          coordinator: chain.coordinator,
          startBlock: 0n,
          confirmations: 0,
          pollMs: 200,
          replaceAfterMs: 10_000,
          ...(maxSendAttempts ? { maxSendAttempts } : {}),
        },
      },
      silentLogger,
    );
    services.push(svc);
    return svc;
  };
  const stop = async (svc: RunningService) => {
    services.splice(services.indexOf(svc), 1);
    await svc.stop();
  };
  const jobOf = async (svc: RunningService, requestId: bigint) => svc.store.byRequestId(String(requestId));
  const settled = (svc: RunningService, requestId: bigint, what: string) =>
    waitFor(
      what,
      async () => {
        const j = await jobOf(svc, requestId);
        return j && ["fulfilled", "failed"].includes(j.state) ? j : undefined;
      },
      900_000,
    );

  it("exits non-zero with one clear error before anything starts: bad RPC URL, no contract, not a coordinator, port in use, unusable store", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const busyPort = (blocker.address() as { port: number }).port;
    const corrupt = join(dir, "corrupt.sqlite");
    writeFileSync(corrupt, "this is not a SQLite file".repeat(100));
    const base = ["serve", "-m", diabetes, "--port", "0"];
    const env = (over: Record<string, string>) => ({
      ZKINFER_PRIVATE_KEY: DEV_KEYS[1]!,
      ZKINFER_RPC_URL: chain.node.url,
      ...over,
    });
    const cases: [string[], Record<string, string>, RegExp][] = [
      [base, env({ ZKINFER_RPC_URL: "http://127.0.0.1:9" }), /^error: cannot reach the RPC node at http:\/\/127\.0\.0\.1:9\n/],
      [
        base,
        env({ ZKINFER_COORDINATOR: "0x000000000000000000000000000000000000dEaD" }),
        /^error: there is no contract at 0x000000000000000000000000000000000000dEaD on chain 31337\n/,
      ],
      [
        base,
        env({ ZKINFER_COORDINATOR: chain.registry }),
        new RegExp(`^error: the contract at ${chain.registry} on chain 31337 is not an InferenceCoordinator\\n`),
      ],
      [
        ["serve", "--offchain-only", "-m", diabetes, "--port", String(busyPort), "--db", join(dir, "p.sqlite")],
        {},
        new RegExp(`^error: port ${busyPort} on 127\\.0\\.0\\.1 is already in use\\n`),
      ],
      [
        ["serve", "--offchain-only", "-m", diabetes, "--db", corrupt, "--port", "0"],
        {},
        new RegExp(`^error: cannot open the job store ${corrupt}: file is not a database\\n`),
      ],
      [
        ["serve", "--offchain-only", "-m", diabetes, "--host", "0.0.0.0", "--port", "0"],
        {},
        /^error: --host 0\.0\.0\.0 exposes the HTTP API beyond this machine, and no API token is set\n/,
      ],
    ];
    try {
      const results = await Promise.all(cases.map(([args, e]) => zkinfer(args, e, 120_000)));
      for (const [i, r] of results.entries()) {
        expect(r.status, r.stderr).to.equal(1);
        // bin/zkinfer's set-up may print a line of its own first: match the error line itself.
        expect(r.stderr, r.stderr).to.match(new RegExp(cases[i]![2].source, "m"));
        expect(r.stderr).to.match(/\nhint: /);
        expect(r.stderr).not.to.match(/listening on|unexpected error| {4}at /);
      }
    } finally {
      blocker.close();
    }
  });

  it("names the store when its file is read-only or its directory cannot be written", async () => {
    // As root every file is writable: run the CLI as root without the capabilities that bypass file
    // permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), as an operator's unprivileged service user would be.
    // Unlike another user it still reads the checkout, wherever it is (a clone under `mktemp -d` is 0700).
    const asRoot = process.getuid?.() === 0;
    const noDac = ["--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search", "--"];
    const ro = join(dir, "ro");
    mkdirSync(join(ro, "locked"), { recursive: true });
    const store = await JobStore.open(join(ro, "jobs.sqlite"));
    await store.close();
    chmodSync(join(ro, "jobs.sqlite"), 0o444);
    chmodSync(join(ro, "locked"), 0o555);
    // the directory stays writable: the file itself is read-only
    const cli = [
      process.execPath,
      "--disable-warning=ExperimentalWarning",
      "--import",
      `file://${projectRoot}/node_modules/tsx/dist/esm/index.mjs`,
      join(projectRoot, "prover/src/cli/main.ts"),
    ];
    const run = (db: string) => {
      const args = [...cli, "serve", "--offchain-only", "-m", diabetes, "--db", db, "--port", "0"];
      const env = { ...process.env, ZKINFER_CONFIG: "", ZKINFER_CACHE_DIR: join(dir, "cli-cache") };
      return asRoot ? runCommand("setpriv", [...noDac, ...args], env) : runCommand(args[0]!, args.slice(1), env);
    };
    const [readOnly, unwritable] = await Promise.all([
      run(join(ro, "jobs.sqlite")),
      run(join(ro, "locked", "sub", "jobs.sqlite")),
    ]);
    expect(readOnly.status, readOnly.stderr).to.equal(1);
    expect(readOnly.stderr).to.contain(
      `error: the job store ${join(ro, "jobs.sqlite")} is not readable and writable by this user: EACCES`,
    );
    expect(unwritable.status, unwritable.stderr).to.equal(1);
    expect(unwritable.stderr).to.contain(
      `error: cannot create or write the job store's directory ${join(ro, "locked", "sub")}: EACCES`,
    );
  });

  it("an unfunded key: warns, /ready is false, the proof stays private; once funded it fulfils", async () => {
    const key = generatePrivateKey();
    const svc = await start({ key });
    const ready = async () => (await (await fetch(`${svc.url}/ready`)).json()) as { ready: boolean; reasons: string[] };
    const r = await waitFor(
      "/ready to say the key is unfunded",
      async () => {
        const x = await ready();
        return x.reasons.some((s) => /holds 0 wei/.test(s)) ? x : undefined;
      },
      60_000,
    );
    expect(r.ready).to.equal(false);
    expect((await fetch(`${svc.url}/ready`)).status).to.equal(503);
    const status = await zkinfer(["status", "--url", svc.url]);
    expect(status.status, status.stderr).to.equal(1);
    expect(status.stdout).to.match(
      /^ready {5}no: prover account 0x[0-9a-fA-F]{40} holds 0 wei; a fulfilment needs ~\d+ wei of gas$/m,
    );
    expect(status.stdout).to.match(/^leader {4}this node \(lease \d+ s left\)$/m);
    expect(status.stdout).to.match(/^models {4}diabetes-mlp$/m);
    const id = await chain.request("diabetes-mlp", await chain.heldoutInput("diabetes-mlp", 1));
    const proved = await waitFor(
      "the proof",
      async () => ((await jobOf(svc, id))?.state === "proved" ? jobOf(svc, id) : undefined),
      900_000,
    );
    expect(proved!.result!.proof).to.match(/^0x/);
    const shown = (await (await fetch(`${svc.url}/jobs/${proved!.id}`)).json()) as {
      result: { proof: unknown; outputsFixed: string[] };
    };
    expect(shown.result.proof).to.equal(null); // anyone could submit it and take the fee
    expect(await chain.fulfilments(id)).to.have.length(0);
    await chain.admin.walletClient.sendTransaction({
      to: privateKeyToAccount(key).address,
      value: parseEther("1"),
      account: chain.admin.account,
      chain: chain.admin.chain,
    });
    expect((await settled(svc, id, "the fulfilment once funded")).state).to.equal("fulfilled");
    await waitFor("/ready", async () => (await ready()).ready, 30_000);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).to.match(/^zkinfer_prover_balance_wei\{account="0x[0-9a-fA-F]{40}"\} [1-9]/m);
    expect(metrics).to.match(/^zkinfer_fees_earned_wei_total 1000000000000000$/m);
    expect(metrics).to.match(/^zkinfer_locks_held 0$/m);
    expect(metrics).to.match(/^zkinfer_served_model_info\{logrows="\d+",model="diabetes-mlp",vk_hash="0x[0-9a-f]{64}"\} 1$/m);
    expect(metrics).to.match(/^zkinfer_build_info\{node="[\d.]+",store="sqlite",version="[\d.]+"\} 1$/m);
    const models = (await (await fetch(`${svc.url}/models`)).json()) as {
      name: string;
      onChain: { modelId: string; version: number }[];
      inputs: unknown[];
    }[];
    expect(models.map((m) => m.name)).to.deep.equal(["diabetes-mlp"]);
    expect(models[0]!.onChain).to.deep.equal([{ modelId: chain.ids["diabetes-mlp"], version: 1, servable: true }]);
    await stop(svc);
  });

  let digitsRequest: bigint;
  it("retries a request failed as 'not served here' once a restart serves its model", async () => {
    const db = join(dir, "restart.sqlite");
    const first = await start({ dbPath: db });
    digitsRequest = await chain.request("digits-mlp", await chain.heldoutInput("digits-mlp", 2));
    const failed = await settled(first, digitsRequest, "the not-served failure");
    expect([failed.state, failed.failCode]).to.deep.equal(["failed", "not_served"]);
    expect(failed.error).to.match(/is not served here/);
    await stop(first);
    const second = await start({ dbPath: db, models: [diabetes, digits] });
    // The job is still 'failed' from the first run until the new leader re-checks it.
    const done = await waitFor(
      "the fulfilment after the restart",
      async () => {
        const j = await jobOf(second, digitsRequest);
        return j?.state === "fulfilled" || (j?.state === "failed" && j.failCode !== "not_served") ? j : undefined;
      },
      900_000,
    );
    expect(done.state, done.error ?? "").to.equal("fulfilled");
    expect(await chain.fulfilments(digitsRequest)).to.have.length(1);
    await stop(second);
  });

  it("a fresh store over settled requests proves nothing again and labels an expired fulfilled request fulfilled, through an RPC that refuses getLogs over 3 blocks", async () => {
    // Past the digits request's deadline: fulfilled, then expired.
    await chain.client.request({ method: "evm_increaseTime" as never, params: [3600] as never });
    await chain.client.request({ method: "evm_mine" as never, params: [] as never });
    const proxy = new RpcProxy(chain.node.url, (call) => {
      if (call.method !== "eth_getLogs") return undefined;
      const p = call.params?.[0] as { fromBlock: Hex; toBlock: Hex };
      return Number(p.toBlock) - Number(p.fromBlock) > 2
        ? { code: -32005, message: "query returned more than 10000 results" }
        : undefined;
    });
    await proxy.start();
    try {
      const svc = await start({ models: [diabetes, digits], rpcUrl: proxy.url });
      const head = await chain.client.getBlockNumber();
      await waitFor(
        "the watcher to reach the head",
        async () => BigInt((await svc.store.getKv("watcher.lastBlock")) ?? -1) >= head,
        120_000,
      );
      const jobs = await svc.store.list({ kind: "chain", limit: 100 });
      expect(jobs.length).to.be.at.least(2);
      for (const j of jobs) expect([j.state, j.error], j.requestId!).to.deep.equal(["fulfilled", "already fulfilled on-chain"]);
      expect((await jobOf(svc, digitsRequest))!.state).to.equal("fulfilled");
      expect(proxy.refused).to.be.greaterThan(0);
      expect(
        svc.metrics.proofsMade.get({ model: "digits-mlp" }) + svc.metrics.proofsMade.get({ model: "diabetes-mlp" }),
      ).to.equal(0);
      await stop(svc);
    } finally {
      await proxy.stop();
    }
  });

  it("gives up one job whose estimateGas keeps failing (not a revert) after its retries, while the jobs behind it are fulfilled; a version registered with another layout is refused before proving", async () => {
    // A version with the diabetes build's vk and VKA but another output scale.
    const model = await builtExample("diabetes-mlp");
    const vka = await readModelVka(model);
    const { request } = await chain.admin.publicClient.simulateContract({
      account: chain.admin.account,
      address: chain.registry,
      abi: modelRegistryAbi,
      functionName: "registerModel",
      args: ["diabetes-relabelled"],
    });
    await chain.client.waitForTransactionReceipt({ hash: await chain.admin.walletClient.writeContract(request) });
    const badId = await chain.client.readContract({
      address: chain.registry,
      abi: modelRegistryAbi,
      functionName: "computeModelId",
      args: [chain.admin.account.address, "diabetes-relabelled"],
    });
    const params = versionParams(model.manifest, "");
    const add = await chain.admin.publicClient.simulateContract({
      account: chain.admin.account,
      address: chain.registry,
      abi: modelRegistryAbi,
      functionName: "addVersion",
      args: [badId, { ...params, outputScale: params.outputScale + 1 }, vka.words, [], true],
    });
    await chain.client.waitForTransactionReceipt({ hash: await chain.admin.walletClient.writeContract(add.request) });
    chain.ids["diabetes-relabelled"] = badId;

    const poisoned = await chain.request("diabetes-mlp", await chain.heldoutInput("diabetes-mlp", 3));
    const word = encodeAbiParameters([{ type: "uint256" }], [poisoned]).slice(2);
    const proxy = new RpcProxy(chain.node.url, (call) => {
      const tx = call.params?.[0] as { data?: string; input?: string } | undefined;
      const data = tx?.data ?? tx?.input ?? "";
      return call.method === "eth_estimateGas" && data.slice(10, 74) === word
        ? { code: -32005, message: "request rate limit exceeded" }
        : undefined;
    });
    await proxy.start();
    try {
      const svc = await start({ rpcUrl: proxy.url, maxSendAttempts: 3 });
      const behind = await chain.request("diabetes-mlp", await chain.heldoutInput("diabetes-mlp", 4));
      const relabelled = await chain.request("diabetes-relabelled" as never, await chain.heldoutInput("diabetes-mlp", 5));
      expect((await settled(svc, behind, "the job behind the stuck one")).state).to.equal("fulfilled");
      const gaveUp = await settled(svc, poisoned, "the stuck job to be given up");
      expect([gaveUp.state, gaveUp.failCode, gaveUp.sendAttempts]).to.deep.equal(["failed", "send", 2]);
      expect(gaveUp.error).to.match(/^fulfilment failed 3 times; last error: .*limit/i);
      const refused = await settled(svc, relabelled, "the mislabelled version's job");
      expect([refused.state, refused.failCode]).to.deep.equal(["failed", "unservable"]);
      expect(refused.error).to.equal(
        `model ${badId} version 1 is registered with outputScale ${params.outputScale + 1} (the build has ${params.outputScale}); a proof would be refused on-chain`,
      );
      expect(svc.metrics.proofsMade.get({ model: "diabetes-mlp" })).to.equal(2);
      await stop(svc);
    } finally {
      await proxy.stop();
    }
  });
});
