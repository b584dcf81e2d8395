import { requestOffer, type OfferTerms } from "../../prover/src/sdk/inference.js";
import {
  createPublicClient,
  createWalletClient,
  encodeFunctionData,
  http,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { inferenceCoordinatorAbi } from "../../prover/src/chain/abis.js";
import { connectChain, type ChainClients } from "../../prover/src/chain/clients.js";
import { registerModelVersion } from "../../prover/src/chain/register.js";
import { suiteVerifierArtifact } from "../../prover/src/models/suite-verifier.js";
import { floatToFixed } from "../../prover/src/engine/felt.js";
import {
  fetchLock,
  fetchRequest,
  fulfilledOutputs,
  requestState,
  type LockState,
  type RequestStatus,
} from "../../prover/src/sdk/terms.js";
import { outputsHashOf } from "../../prover/src/sdk/receipt.js";
import { readJson, type Heldout } from "../../prover/src/models/source.js";
import { DEV_KEYS, deployFromArtifact, startHardhatNode, type LocalNode } from "./chain.js";
import { builtExample, builtExampleBatches, exampleSource, type ExampleModel } from "./models.js";

/**
 * The contracts a prover service follows, on a `hardhat node` on 127.0.0.1: registry, route and
 * coordinator deployed by wallet 0, the named example models registered, and a requester (wallet 2)
 * that sends requestInference. Shared by the service's end-to-end suites.
 */
export interface ServiceChain {
  node: LocalNode;
  client: PublicClient;
  admin: ChainClients;
  registry: Address;
  coordinator: Address;
  ids: Record<string, Hex>;
  /** The requester (wallet 2) that `request`/`send` sign with. */
  requester: Address;
  /** The price `request`/`send` offer unless `terms.fee` says otherwise (0.001 ETH, fixed, no collateral). */
  fee: bigint;
  /**
   * requestInference from the requester (version 0, so "latest": registered here with no delay);
   * resolves with the request id once mined. `terms` are the Offer's (see sdk `offerFor`).
   */
  request(model: ExampleModel, input: bigint[], deadlineSec?: number, terms?: OfferTerms): Promise<bigint>;
  /** Send requestInference without waiting (for bursts); `mined` turns the hash into the request id. */
  send(model: ExampleModel, input: bigint[], deadlineSec?: number, terms?: OfferTerms): Promise<Hex>;
  mined(hash: Hex): Promise<bigint>;
  /** InferenceFulfilled events of one request. */
  fulfilments(requestId: bigint): Promise<unknown[]>;
  /** A request's status now (`requestState`). */
  status(requestId: bigint): Promise<RequestStatus>;
  /** A request's lock, from its `RequestLocked` log (undefined: never locked). */
  lockOf(requestId: bigint): Promise<LockState | undefined>;
  /**
   * A fulfilled request's receipt, rebuilt from its logs (terms, InferenceFulfilled, the block's time) and checked
   * with the coordinator's `checkReceipt` against the word it stored; throws when no callback status makes it match.
   */
  receipt(requestId: bigint): Promise<{ fulfiller: Address; callback: "none" | "succeeded" | "failed" }>;
  /** Held-out sample i of a model, as the fixed-point input a request carries. */
  heldoutInput(model: "digits-mlp" | "diabetes-mlp", i: number): Promise<bigint[]>;
  stop(): Promise<void>;
}

/**
 * `opts.batches`: models registered with their batch variants (`builtExampleBatches`); the others are registered
 * with batch 1 alone, whatever variants their cached build has (so the service proves their requests one by one).
 */
export async function startServiceChain(models: ExampleModel[], opts: { batches?: ExampleModel[] } = {}): Promise<ServiceChain> {
  const node = await startHardhatNode();
  try {
    const chain = { ...hardhat, rpcUrls: { default: { http: [node.url] } } };
    const client = createPublicClient({ chain, transport: http(node.url) }) as PublicClient;
    const adminWallet = createWalletClient({ chain, transport: http(node.url), account: privateKeyToAccount(DEV_KEYS[0]!) });
    const requester = privateKeyToAccount(DEV_KEYS[2]!);
    const requesterWallet = createWalletClient({ chain, transport: http(node.url), account: requester });
    // The suite (reusable) verifier, then the registry that fixes it; latest delay 0 on this throwaway chain.
    const suiteVerifier = await deployFromArtifact(
      adminWallet,
      client,
      "generated/Halo2VerifierReusable.sol/Halo2VerifierReusable",
    );
    const registry = await deployFromArtifact(adminWallet, client, "registry/ModelRegistry.sol/ModelRegistry", [
      adminWallet.account.address,
      suiteVerifier,
      suiteVerifierArtifact().codeHash,
      0n,
      0n,
    ]);
    const route = await deployFromArtifact(adminWallet, client, "verifier/InferenceVerifier.sol/InferenceVerifier", [registry]);
    const owner = adminWallet.account.address;
    const coordinator = await deployFromArtifact(
      adminWallet,
      client,
      "coordinator/InferenceCoordinator.sol/InferenceCoordinator",
      [registry, route, owner, owner],
    );
    const admin = await connectChain({
      rpcUrl: node.url,
      privateKey: DEV_KEYS[0]!,
      registry,
      verifierRoute: route,
      coordinator,
      source: "test",
    });
    const ids: Record<string, Hex> = {};
    for (const name of models) {
      // Batch 1 alone unless asked: a build cached with variants by another suite must not turn batching on here.
      const build = opts.batches?.includes(name)
        ? await builtExampleBatches(name)
        : await builtExample(name).then((b) => ({ ...b, manifest: { ...b.manifest, variants: [] } }));
      ids[name] = (await registerModelVersion(admin, registry, build)).modelId;
    }

    const fee = 1_000_000_000_000_000n;
    const send = async (model: ExampleModel, input: bigint[], deadlineSec = 1200, terms: OfferTerms = {}) =>
      requesterWallet.sendTransaction({
        account: requester,
        chain: null,
        to: coordinator,
        data: encodeFunctionData({
          abi: inferenceCoordinatorAbi,
          functionName: "requestInference",
          args: [
            ids[model]!,
            0,
            input,
            await requestOffer(client, { fee, ...terms }, (await client.getBlock()).timestamp + BigInt(deadlineSec)),
          ],
        }),
        value: terms.fee ?? fee,
        gas: 2_000_000n,
      });
    const mined = async (hash: Hex) => {
      const receipt = await client.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Error(`requestInference reverted (${hash})`);
      const log = receipt.logs.find((l) => l.address.toLowerCase() === coordinator.toLowerCase())!;
      return BigInt(log.topics[1]!);
    };
    return {
      node,
      client,
      admin,
      registry,
      coordinator,
      ids,
      requester: requester.address,
      fee,
      send,
      mined,
      request: async (model, input, deadlineSec, terms) => mined(await send(model, input, deadlineSec, terms)),
      fulfilments: (requestId) =>
        client.getContractEvents({
          address: coordinator,
          abi: inferenceCoordinatorAbi,
          eventName: "InferenceFulfilled",
          args: { requestId },
          fromBlock: 0n,
          strict: true,
        }),
      status: async (requestId) => (await requestState(client, coordinator, requestId)).status,
      lockOf: (requestId) => fetchLock(client, { coordinator, requestId }),
      async receipt(requestId) {
        const [{ terms }, [f]] = await Promise.all([
          fetchRequest(client, { coordinator, requestId }),
          client.getContractEvents({
            address: coordinator,
            abi: inferenceCoordinatorAbi,
            eventName: "InferenceFulfilled",
            args: { requestId },
            fromBlock: 0n,
            strict: true,
          }),
        ]);
        if (!f) throw new Error(`request ${requestId} has no InferenceFulfilled`);
        const block = await client.getBlock({ blockNumber: f.blockNumber });
        const outputsHash = outputsHashOf(fulfilledOutputs(f.args));
        for (const [callback, name] of [
          [0, "none"],
          [1, "succeeded"],
          [2, "failed"],
        ] as const) {
          const receipt = {
            modelId: terms.modelId,
            version: terms.version,
            inputCommitment: terms.inputCommitment,
            outputsHash,
            proofHash: f.args.proofHash,
            fulfiller: f.args.fulfiller,
            fulfilledAt: block.timestamp,
            callback,
          };
          const ok = await client.readContract({
            address: coordinator,
            abi: inferenceCoordinatorAbi,
            functionName: "checkReceipt",
            args: [requestId, receipt],
          });
          if (ok) return { fulfiller: f.args.fulfiller, callback: name };
        }
        throw new Error(`request ${requestId}: no receipt rebuilt from its logs matches the coordinator's word`);
      },
      async heldoutInput(model, i) {
        const heldout = await readJson<Heldout>((await exampleSource(model)).heldout!, "heldout.json");
        const scale = (await builtExample(model)).manifest.circuit.inputScale;
        return heldout.inputs[i % heldout.inputs.length]!.map((v) => floatToFixed(v, scale));
      },
      stop: () => node.stop(),
    };
  } catch (e) {
    await node.stop();
    throw e;
  }
}
