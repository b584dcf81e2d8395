import type { Command } from "commander";
import { createPublicClient, formatEther, http, type Address, type PublicClient } from "viem";
import { RpcUnreachableError } from "../../chain/clients.js";
import { loadChainConfig } from "../../chain/config.js";
import { withDeployment } from "../../chain/deployments.js";
import { ConfigError, UserInputError } from "../../errors.js";
import { CALLBACK_STATUS, findFulfilledEvent, readReceipt } from "../../sdk/receipt.js";
import { RequestNotFoundError, fetchLock, fetchRequest, fulfilledOutputs, requestState } from "../../sdk/terms.js";
import { parseFromBlock, parseRequestId } from "../request-id.js";
import { table, toJson } from "../format.js";

/**
 * `zkinfer request status <id>`: a request as the chain has it. The coordinator stores one hash per request, so
 * everything but the status comes from the logs: the terms and input from `InferenceRequested`, the lock from
 * `RequestLocked`, the fulfilment from `InferenceFulfilled`, its receipt rebuilt and confirmed with `checkReceipt`.
 * Read-only: no key needed.
 */
export function registerRequestStatus(request: Command): void {
  request
    .command("status")
    .description(
      "show a request: its status, its terms (from InferenceRequested: the coordinator keeps only their hash), its lock, " +
        "and once fulfilled its outputs and receipt (rebuilt from the logs and confirmed on-chain with checkReceipt). No key needed",
    )
    .argument("<requestId>", "the request id `zkinfer request` printed")
    .option("--from-block <n>", "search the request's logs from this block (default: 0)")
    .option("--json", "print it as JSON")
    // `zkinfer request` has a --json of its own, which commander hands to it: read both.
    .action(async (idArg: string, _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ fromBlock?: string; json?: boolean }>();
      const requestId = parseRequestId(idArg);
      const fromBlock = parseFromBlock(opts.fromBlock);
      const { client, coordinator } = await readOnlyCoordinator();
      const where = { coordinator, requestId, ...(fromBlock === undefined ? {} : { fromBlock }) };
      const [found, { status }] = await Promise.all([
        fetchRequest(client, where).catch((e: unknown) => {
          if (e instanceof RequestNotFoundError) return undefined;
          throw e;
        }),
        requestState(client, coordinator, requestId),
      ]);
      if (!found)
        throw new UserInputError(`request ${requestId} does not exist on the coordinator ${coordinator}`, {
          hint: `check the id, and that ZKINFER_RPC_URL / the deployment record point at the chain you requested on${fromBlock === undefined ? "" : " (and that --from-block is not past the request)"}`,
        });
      const { terms } = found;
      const held = status === "locked" ? await fetchLock(client, where) : undefined;
      const log = status === "fulfilled" ? await findFulfilledEvent(client, where) : undefined;
      const receipt = log ? await readReceipt(client, { ...where, terms }) : undefined;
      const outputs = log ? fulfilledOutputs(log.args) : undefined;
      if (opts.json) {
        console.log(
          toJson({
            requestId,
            status,
            terms,
            input: found.input,
            blockNumber: found.blockNumber,
            txHash: found.txHash,
            ...(held ? { lock: held } : {}),
            ...(log && receipt
              ? {
                  fulfilment: { txHash: log.transactionHash, blockNumber: log.blockNumber, outputs, receipt },
                  callback: CALLBACK_STATUS[receipt.callback],
                }
              : {}),
          }),
        );
        return;
      }
      const when = (sec: bigint) => new Date(Number(sec) * 1000).toISOString();
      const eth = (wei: bigint) => `${formatEther(wei)} ETH`;
      const rows: [string, string][] = [
        ["request", String(requestId)],
        ["status", status],
        ["model", `${terms.modelId} v${terms.version}`],
        ["requester", terms.requester],
        ["requested", `${when(terms.requestedAt)} in block ${found.blockNumber} (tx ${found.txHash})`],
        [
          "price",
          terms.rampPeriod === 0 || terms.minPrice === terms.maxPrice
            ? eth(terms.maxPrice)
            : `${eth(terms.minPrice)} rising to ${eth(terms.maxPrice)} over ${terms.rampPeriod} s`,
        ],
        ["lockable until", `${when(terms.lockDeadline)} (collateral ${eth(terms.lockCollateral)})`],
        ["deadline", when(terms.deadline)],
        ["callback gas", String(terms.callbackGasLimit)],
        ["input commitment", terms.inputCommitment],
      ];
      if (held) rows.push(["locked by", `${held.locker} in block ${held.lockedAt} at ${eth(held.price)}`]);
      if (log && receipt)
        rows.push(
          ["fulfilled by", `${receipt.fulfiller} at ${when(receipt.fulfilledAt)} (tx ${log.transactionHash})`],
          ["outputs (fixed)", `[${(outputs ?? []).join(", ")}]`],
          ["callback", CALLBACK_STATUS[receipt.callback] ?? String(receipt.callback)],
          ["receipt", `proof hash ${receipt.proofHash}; confirmed on-chain (checkReceipt)`],
        );
      console.log(table(rows));
    });
}

/** The configured RPC and coordinator, read-only (no signing key). */
async function readOnlyCoordinator(): Promise<{ client: PublicClient; coordinator: Address }> {
  const config = await withDeployment(loadChainConfig());
  if (!config.coordinator)
    throw new ConfigError("no InferenceCoordinator address configured", {
      hint: "deploy the suite with `zkinfer deploy` (it writes deploy/deployments/<chainId>.json), or set ZKINFER_COORDINATOR=0x...",
    });
  const client = createPublicClient({ transport: http(config.rpcUrl, { retryCount: 2, timeout: 30_000 }) });
  try {
    await client.getChainId();
  } catch (e) {
    throw new RpcUnreachableError(`cannot reach the RPC node at ${config.rpcUrl}`, {
      hint: "start a node (e.g. `npx hardhat node --hostname 127.0.0.1`) or set ZKINFER_RPC_URL",
      cause: e,
    });
  }
  return { client, coordinator: config.coordinator };
}
