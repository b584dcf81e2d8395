import { BaseError, ContractFunctionRevertedError, decodeErrorResult, type Hex } from "viem";
import { zkinferErrorsAbi } from "../../prover/src/chain/abis.js";

/**
 * The `(errorName, args)` a contract call reverted with, decoded by viem from the revert data. Errors
 * that bubbled up from another zkinfer contract (a route error out of the coordinator) are decoded
 * against every zkinfer error.
 */
export async function revertOf(call: Promise<unknown>): Promise<{ errorName: string; args: readonly unknown[] }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof BaseError)) throw error;
    const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
    if (!(reverted instanceof ContractFunctionRevertedError)) throw error;
    if (reverted.data !== undefined) return { errorName: reverted.data.errorName, args: reverted.data.args ?? [] };
    const raw = (reverted as { raw?: Hex }).raw;
    if (raw) {
      const decoded = decodeErrorResult({ abi: zkinferErrorsAbi, data: raw });
      return { errorName: decoded.errorName, args: decoded.args ?? [] };
    }
    throw error;
  }
  throw new Error("expected the call to revert, but it succeeded");
}
