import { parseEventLogs, type PublicClient, type TransactionReceipt } from "viem";
import { inferenceCoordinatorAbi } from "../../prover/src/chain/abis.js";
import { outputsHashOf, type Receipt } from "../../prover/src/sdk/receipt.js";
import { fulfilledOutputs, type Terms } from "../../prover/src/sdk/terms.js";

export type { Receipt };

/**
 * The receipt of `requestId` as anyone rebuilds it off-chain: its terms, its `InferenceFulfilled` in the fulfilment
 * `tx` (outputs, proof hash, fulfiller), the block's timestamp, and the callback's fate (`callback` when given, else
 * failed iff a `CallbackFailed` for it, succeeded iff the terms ask for a callback and the requester has code).
 * `checkReceipt(requestId, receipt)` must then hold.
 */
export async function receiptOf(
  client: Pick<PublicClient, "getBlock" | "getCode">,
  requestId: bigint,
  terms: Terms,
  tx: TransactionReceipt,
  callback?: number,
): Promise<Receipt> {
  const fulfilled = parseEventLogs({ abi: inferenceCoordinatorAbi, logs: tx.logs, eventName: "InferenceFulfilled" }).find(
    (e) => e.args.requestId === requestId,
  );
  if (!fulfilled) throw new Error(`no InferenceFulfilled for request ${requestId} in ${tx.transactionHash}`);
  const failed = parseEventLogs({ abi: inferenceCoordinatorAbi, logs: tx.logs, eventName: "CallbackFailed" }).some(
    (e) => e.args.requestId === requestId,
  );
  const { timestamp } = await client.getBlock({ blockNumber: tx.blockNumber });
  const code = await client.getCode({ address: terms.requester, blockNumber: tx.blockNumber });
  const called = terms.callbackGasLimit > 0 && code !== undefined && code !== "0x";
  return {
    modelId: terms.modelId,
    version: terms.version,
    inputCommitment: terms.inputCommitment,
    outputsHash: outputsHashOf(fulfilledOutputs(fulfilled.args)),
    proofHash: fulfilled.args.proofHash,
    fulfiller: fulfilled.args.fulfiller,
    fulfilledAt: timestamp,
    callback: callback ?? (failed ? 2 : called ? 1 : 0),
  };
}
