import type { Command } from "commander";
import { formatEther, parseEther, type Address } from "viem";
import { connectChain } from "../../chain/clients.js";
import { loadChainConfig } from "../../chain/config.js";
import { withDeployment } from "../../chain/deployments.js";
import { inferenceCoordinatorAbi } from "../../chain/abis.js";
import { ConfigError, UserInputError } from "../../errors.js";
import type { CliContext } from "../context.js";

/** The configured chain and coordinator, or one clear error. */
export async function coordinatorClients() {
  const config = await withDeployment(loadChainConfig());
  if (!config.coordinator) {
    throw new ConfigError("no InferenceCoordinator address configured", {
      hint: "deploy the suite with `zkinfer deploy`, or set ZKINFER_COORDINATOR=0x...",
    });
  }
  return { ...(await connectChain(config)), coordinator: config.coordinator as Address };
}

function ethAmount(value: string, flag: string): bigint {
  let wei: bigint;
  try {
    wei = parseEther(value);
  } catch {
    throw new UserInputError(`${flag} must be an amount of ETH such as 0.01, not '${value}'`, { hint: "pass ETH, e.g. 0.05" });
  }
  if (wei <= 0n) throw new UserInputError(`${flag} must be more than 0`, { hint: "pass ETH, e.g. 0.05" });
  return wei;
}

export function registerProver(program: Command, _ctx: CliContext): void {
  const prover = program
    .command("prover")
    .summary("a prover's coordinator balance: deposit collateral, withdraw, show")
    .description(
      "a prover's balance at the coordinator: prices earned, returned collateral and deposits. `zkinfer serve` locks requests " +
        "with collateral taken from it (see the README's market rules)",
    );
  prover
    .command("deposit")
    .description("deposit ETH to the configured account's coordinator balance (collateral for locks)")
    .argument("<eth>", "the amount in ETH")
    .action(async (amount: string) => {
      const value = ethAmount(amount, "<eth>");
      const c = await coordinatorClients();
      const { request } = await c.publicClient.simulateContract({
        account: c.account,
        address: c.coordinator,
        abi: inferenceCoordinatorAbi,
        functionName: "deposit",
        value,
      });
      const hash = await c.walletClient.writeContract(request);
      await c.publicClient.waitForTransactionReceipt({ hash });
      const balance = await c.publicClient.readContract({
        address: c.coordinator,
        abi: inferenceCoordinatorAbi,
        functionName: "credits",
        args: [c.account.address],
      });
      console.log(`deposited ${formatEther(value)} ETH (tx ${hash}); balance ${formatEther(balance)} ETH`);
    });
  prover
    .command("withdraw")
    .description("withdraw from the configured account's coordinator balance (all of it by default)")
    .option("--amount <eth>", "withdraw only this much, in ETH")
    .option("--to <address>", "send it to this address (default: the account)")
    .action(async (opts: { amount?: string; to?: string }) => {
      const c = await coordinatorClients();
      const balance = await c.publicClient.readContract({
        address: c.coordinator,
        abi: inferenceCoordinatorAbi,
        functionName: "credits",
        args: [c.account.address],
      });
      const amount = opts.amount === undefined ? balance : ethAmount(opts.amount, "--amount");
      if (balance === 0n || amount > balance)
        throw new UserInputError(
          `the balance is ${formatEther(balance)} ETH; nothing to withdraw${amount > balance ? ` of ${formatEther(amount)}` : ""}`,
          {
            hint: "see `zkinfer prover balance`; collateral of live locks comes back when they are fulfilled",
          },
        );
      const to = (opts.to ?? c.account.address) as Address;
      const { request } = await c.publicClient.simulateContract({
        account: c.account,
        address: c.coordinator,
        abi: inferenceCoordinatorAbi,
        functionName: "withdrawTo",
        args: [to, amount],
      });
      const hash = await c.walletClient.writeContract(request);
      await c.publicClient.waitForTransactionReceipt({ hash });
      console.log(`withdrew ${formatEther(amount)} ETH to ${to} (tx ${hash})`);
    });
  prover
    .command("balance")
    .description("show an account's coordinator balance (default: the configured account)")
    .argument("[address]", "the account")
    .action(async (address?: string) => {
      const c = await coordinatorClients();
      const who = (address ?? c.account.address) as Address;
      const balance = await c.publicClient.readContract({
        address: c.coordinator,
        abi: inferenceCoordinatorAbi,
        functionName: "credits",
        args: [who],
      });
      console.log(`${who}: ${formatEther(balance)} ETH`);
    });
}
