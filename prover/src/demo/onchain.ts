import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { getAddress, parseEther, parseEventLogs, type Address, type Hex } from "viem";
import { digitBountyAbi, inferenceCoordinatorAbi } from "../chain/abis.js";
import { connectChain, type ChainClients } from "../chain/clients.js";
import type { ChainConfig } from "../chain/config.js";
import { DEV_KEYS, startLocalNode, type LocalNode } from "../chain/local-node.js";
import { registerModelVersion } from "../chain/register.js";
import type { Engine } from "../engine/engine.js";
import { ZkinferError } from "../errors.js";
import { buildModel, BUILD_STEPS } from "../models/build.js";
import { parseInput } from "../models/input.js";
import { readJson, resolveModelSource, type Heldout } from "../models/source.js";
import type { LoadedModel } from "../models/store.js";
import { verifyReceipt, type ReceiptCheck } from "../sdk/receipt.js";
import { decodeOutputs, waitForInference } from "../sdk/inference.js";
import { requestsInLogs } from "../sdk/terms.js";
import { verifyReceiptLocally } from "../sdk/verify-local.js";
import type { RunningService } from "../service/service.js";
import type { Logger } from "../util/logger.js";
import { cacheDir, projectRoot } from "../util/paths.js";
import { consoleProgress } from "../util/progress.js";

/**
 * `zkinfer demo`: from nothing to a verified on-chain inference on a local chain. A `hardhat node` on
 * 127.0.0.1; the suite deployed with the Ignition modules; digits-mlp built and registered; the
 * example dApp DigitBounty deployed and funded; the prover service following the coordinator; a
 * player's drawing sent through the dApp; the service proves and fulfils; the dApp's callback decides
 * the bounty; the receipt is checked again from the chain and with EZKL. Everything it prints is
 * read back from the chain or measured, never assumed.
 *
 * Accounts (Hardhat's public dev keys, local chain only): 0 deploys and owns the model and the dApp,
 * 1 is the prover, 2 is the player.
 */
export class DemoError extends ZkinferError {
  readonly code = "DEMO";
}

export interface DemoOptions {
  engine: Engine;
  logger: Logger;
  /** Which held-out drawing the player sends (examples/models/digits-mlp/heldout.json). */
  sample: number;
  /** Port for the local node (default: a free one). */
  port?: number;
  /** Where the demo's job database, deployment record and service log go (default: .zkinfer/demo). */
  workDir?: string;
  out?: NodeJS.WritableStream;
}

export interface DemoTx {
  label: string;
  hash: Hex;
  gasUsed: bigint;
}

export interface DemoReport {
  chainId: number;
  rpcUrl: string;
  contracts: Record<string, Address>;
  model: { name: string; modelId: Hex; version: number; manifest: LoadedModel["manifest"] };
  requestId: bigint;
  label: number;
  claimedDigit: number;
  input: number[];
  floatOutputs: number[];
  verifiedOutputs: number[];
  verifiedFixed: bigint[];
  predictedDigit: number;
  won: boolean;
  proveMs: number | null;
  requestToFulfilledMs: number;
  receiptChecks: ReceiptCheck[];
  localChecks: ReceiptCheck[];
  verified: boolean;
  txs: DemoTx[];
}

const FEE = parseEther("0.001");
const PRIZE = parseEther("0.01");
const POT = parseEther("0.1");
const CALLBACK_GAS = 100_000;

export async function runDemo(opts: DemoOptions): Promise<DemoReport> {
  const out = opts.out ?? process.stderr;
  const progress = consoleProgress("demo", 9, out);
  const workDir = opts.workDir ?? join(cacheDir(), "demo");
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const txs: DemoTx[] = [];
  let node: LocalNode | undefined;
  let service: RunningService | undefined;
  try {
    node = await progress.step("start a local chain (hardhat node on 127.0.0.1)", () =>
      startLocalNode(opts.port === undefined ? {} : { port: opts.port }),
    );
    const rpcUrl = node.url;
    const chainConfig = (key: Hex): ChainConfig => ({
      rpcUrl,
      privateKey: key,
      registry: undefined,
      verifierRoute: undefined,
      coordinator: undefined,
      source: "demo",
    });
    const [owner, prover, player] = (await Promise.all(
      [DEV_KEYS[0]!, DEV_KEYS[1]!, DEV_KEYS[2]!].map((k) => connectChain(chainConfig(k))),
    )) as [ChainClients, ChainClients, ChainClients];
    const send = async (c: ChainClients, label: string, hash: Hex) => {
      const receipt = await c.publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new DemoError(`${label} reverted (tx ${hash})`);
      txs.push({ label, hash, gasUsed: receipt.gasUsed });
      return receipt;
    };

    // Deployment through the same Ignition modules as `zkinfer deploy` and the tests.
    const { deployZkinfer, deployDigitBounty } = await import("../../../deploy/index.js");
    const { deployment } = await progress.step("deploy ModelRegistry, InferenceVerifier, InferenceCoordinator (Ignition)", () =>
      deployZkinfer({ rpcUrl, privateKey: DEV_KEYS[0]!, outDir: workDir }),
    );
    const c = deployment.contracts;
    for (const [name, r] of Object.entries(c))
      if (r.txHash && r.gasUsed) txs.push({ label: `deploy ${name}`, hash: r.txHash as Hex, gasUsed: BigInt(r.gasUsed) });
    const coordinator = c.InferenceCoordinator.address;

    const source = await resolveModelSource(join(projectRoot, "examples/models/digits-mlp"));
    const model = await progress.step("build digits-mlp (ONNX -> EZKL circuit, keys, VKA)", () =>
      buildModel(source, {
        engine: opts.engine,
        progress: consoleProgress("build digits-mlp", BUILD_STEPS, out),
        logger: opts.logger,
      }),
    );
    const registered = await progress.step(
      "register its VKA in the ModelRegistry (checked by the suite verifier; dev SRS: this demo's local chain only)",
      () => registerModelVersion(owner, c.ModelRegistry.address, model),
    );
    txs.push(...registered.txs);

    const bounty = await progress.step("deploy the example dApp DigitBounty (Ignition) and fund its pot", async () => {
      const b = await deployDigitBounty({
        rpcUrl,
        privateKey: DEV_KEYS[0]!,
        coordinator,
        config: {
          modelId: registered.modelId,
          modelVersion: registered.version,
          prize: PRIZE,
          callbackGasLimit: CALLBACK_GAS,
          requestTimeout: 3600n,
        },
      });
      if (b.txHash && b.gasUsed) txs.push({ label: "deploy DigitBounty", hash: b.txHash as Hex, gasUsed: BigInt(b.gasUsed) });
      await send(
        owner,
        "DigitBounty.fund",
        await owner.walletClient.writeContract({ address: b.address, abi: digitBountyAbi, functionName: "fund", value: POT }),
      );
      return b.address;
    });

    const serviceLog = join(workDir, "service.log");
    service = await progress.step(`start the prover service (1 worker; log: ${serviceLog})`, async () => {
      const { startService } = await import("../service/service.js");
      const logger = pino({ level: "info", base: { component: "service" } }, pino.destination({ dest: serviceLog, sync: true }));
      return startService(
        {
          models: [model.dir],
          dbPath: join(workDir, "jobs.sqlite"),
          host: "127.0.0.1",
          port: 0,
          workers: 1,
          maxAttempts: 3,
          chain: {
            config: { ...chainConfig(DEV_KEYS[1]!), coordinator },
            coordinator,
            startBlock: await prover.publicClient.getBlockNumber(),
            confirmations: 0,
            pollMs: 250,
            replaceAfterMs: 30_000,
          },
        },
        logger,
      );
    });

    // The player's drawing: a held-out image the model never trained on, with its true label.
    const heldout = await readJson<Heldout>(source.heldout!, "held-out data");
    const pixels = heldout.inputs[opts.sample];
    const label = heldout.labels[opts.sample];
    if (!pixels || label === undefined)
      throw new DemoError(`there is no held-out sample ${opts.sample}`, {
        hint: `pick --sample between 0 and ${heldout.inputs.length - 1}`,
      });
    const input = parseInput(pixels, model.manifest, `held-out sample ${opts.sample}`);
    const [floatOutputs] = await opts.engine.runOnnx(model.file("onnx"), [input.values]);
    const claimedDigit = label;

    const t0 = performance.now();
    const { requestId, terms, playBlock } = await progress.step(
      `the player claims the drawing shows a ${claimedDigit}: DigitBounty.play -> requestInference`,
      async () => {
        const receipt = await send(
          player,
          "DigitBounty.play (requestInference)",
          await player.walletClient.writeContract({
            address: bounty,
            abi: digitBountyAbi,
            functionName: "play",
            args: [input.fixed, claimedDigit],
            value: FEE,
          }),
        );
        // The request's terms are in its InferenceRequested log (the coordinator stores only their hash).
        const [ev] = requestsInLogs(receipt.logs);
        if (!ev) throw new DemoError("play emitted no InferenceRequested");
        return { requestId: ev.requestId, terms: ev.terms, playBlock: receipt.blockNumber };
      },
    );

    const result = await progress.step("the prover service proves it with EZKL and fulfils on-chain", () =>
      waitForInference(player.publicClient, {
        coordinator,
        requestId,
        terms,
        fromBlock: playBlock,
        timeoutMs: 300_000,
        pollMs: 250,
      }),
    );
    const requestToFulfilledMs = performance.now() - t0;
    const fulfilReceipt = await player.publicClient.getTransactionReceipt({ hash: result.txHash });
    // The service locked the request before proving it (the market's paid path), then fulfilled it.
    const [locked] = await player.publicClient.getContractEvents({
      address: coordinator,
      abi: inferenceCoordinatorAbi,
      eventName: "RequestLocked",
      args: { requestId },
      fromBlock: playBlock,
      strict: true,
    });
    if (locked) {
      const lockReceipt = await player.publicClient.getTransactionReceipt({ hash: locked.transactionHash });
      txs.push({ label: "InferenceCoordinator.lock (prover)", hash: locked.transactionHash, gasUsed: lockReceipt.gasUsed });
    }
    txs.push({ label: "InferenceCoordinator.fulfill (+ callback)", hash: result.txHash, gasUsed: fulfilReceipt.gasUsed });
    const [resolved] = parseEventLogs({ abi: digitBountyAbi, logs: fulfilReceipt.logs, eventName: "PlayResolved" });
    if (!resolved)
      throw new DemoError(`the dApp's callback did not resolve the play (callback ${result.callback})`, {
        hint: `see the fulfilment ${result.txHash}`,
      });
    const job = await service.store.byRequestId(requestId.toString());

    const { receiptChecks, localChecks } = await progress.step(
      "check the receipt again: from the chain (SDK) and with EZKL on this machine",
      async () => {
        const onChain = await verifyReceipt(player.publicClient, { coordinator, requestId, fromBlock: playBlock });
        const local = await verifyReceiptLocally(opts.engine, model, onChain.fulfilment, {
          client: player.publicClient,
          registry: c.ModelRegistry.address,
        });
        return { receiptChecks: onChain.checks, localChecks: local.checks };
      },
    );

    // Everyone is paid: the player's prize (if won) and the prover's fee.
    if (resolved.args.won) {
      await send(
        player,
        "DigitBounty.claim",
        await player.walletClient.writeContract({ address: bounty, abi: digitBountyAbi, functionName: "claim" }),
      );
    }
    await send(
      prover,
      "InferenceCoordinator.withdraw (prover's fee)",
      await prover.walletClient.writeContract({ address: coordinator, abi: inferenceCoordinatorAbi, functionName: "withdraw" }),
    );

    const verifiedOutputs = decodeOutputs(result.outputs, model.manifest.circuit.outputScale);
    return {
      chainId: deployment.chainId,
      rpcUrl,
      contracts: {
        ModelRegistry: c.ModelRegistry.address,
        InferenceVerifier: c.InferenceVerifier.address,
        InferenceCoordinator: coordinator,
        DigitBounty: getAddress(bounty),
        "suite verifier": registered.verifier,
        "digits-mlp VKA store": registered.vka,
      },
      model: { name: model.manifest.name, modelId: registered.modelId, version: registered.version, manifest: model.manifest },
      requestId,
      label,
      claimedDigit,
      input: input.values,
      floatOutputs: floatOutputs ?? [],
      verifiedOutputs,
      verifiedFixed: result.outputs,
      predictedDigit: Number(resolved.args.predictedDigit),
      won: resolved.args.won,
      proveMs: job?.result?.proveMs ?? null,
      requestToFulfilledMs,
      receiptChecks,
      localChecks,
      verified: [...receiptChecks, ...localChecks].every((x) => x.ok),
      txs,
    };
  } finally {
    await service?.stop();
    await node?.stop();
  }
}
