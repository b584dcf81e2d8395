import { BaseError, ContractFunctionRevertedError } from "viem";

/** The `(errorName, args)` a contract call reverted with, decoded by viem from the revert data. */
export async function revertOf(call: Promise<unknown>): Promise<{ errorName: string; args: readonly unknown[] }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof BaseError)) throw error;
    const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
    if (!(reverted instanceof ContractFunctionRevertedError) || reverted.data === undefined) throw error;
    return { errorName: reverted.data.errorName, args: reverted.data.args ?? [] };
  }
  throw new Error("expected the call to revert, but it succeeded");
}
