import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type Account,
  type Chain,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ConfigError, ZkinferError } from "../errors.js";
import type { ChainConfig } from "./config.js";

export class RpcUnreachableError extends ZkinferError {
  readonly code = "RPC_UNREACHABLE";
  override readonly retryable = true;
}

export interface ChainClients {
  chain: Chain;
  publicClient: PublicClient<Transport, Chain>;
  walletClient: WalletClient<Transport, Chain, Account>;
  account: Account;
}

/** viem clients for the configured RPC; the chain id is read from the node. */
export async function connectChain(config: ChainConfig): Promise<ChainClients> {
  if (!config.privateKey) {
    throw new ConfigError("no signing key configured", {
      hint: "set ZKINFER_PRIVATE_KEY in the environment, or privateKeyFile in zkinfer.config.json",
    });
  }
  const transport = http(config.rpcUrl, { retryCount: 2, timeout: 30_000 });
  let chainId: number;
  try {
    chainId = await createPublicClient({ transport }).getChainId();
  } catch (e) {
    throw new RpcUnreachableError(`cannot reach the RPC node at ${config.rpcUrl}`, {
      hint: "start a node (e.g. `npx hardhat node --hostname 127.0.0.1`) or set ZKINFER_RPC_URL",
      cause: e,
    });
  }
  const chain = defineChain({
    id: chainId,
    name: `chain-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
  });
  const account = privateKeyToAccount(config.privateKey);
  return {
    chain,
    account,
    publicClient: createPublicClient({ chain, transport }),
    walletClient: createWalletClient({ chain, transport, account }),
  };
}
