/**
 * The public testnets zkinfer is configured for. Each network's RPC URL is a Hardhat configuration
 * variable (the environment or `npx hardhat keystore set <NAME>`); the deployer key is
 * DEPLOYER_PRIVATE_KEY and the explorer key ETHERSCAN_API_KEY for every one.
 */
export const TESTNETS = {
  sepolia: { chainId: 11155111, chainType: "l1", rpcUrlVariable: "SEPOLIA_RPC_URL", explorer: "https://sepolia.etherscan.io" },
  baseSepolia: {
    chainId: 84532,
    chainType: "op",
    rpcUrlVariable: "BASE_SEPOLIA_RPC_URL",
    explorer: "https://sepolia.basescan.org",
  },
  arbitrumSepolia: {
    chainId: 421614,
    chainType: "generic",
    rpcUrlVariable: "ARBITRUM_SEPOLIA_RPC_URL",
    explorer: "https://sepolia.arbiscan.io",
  },
  opSepolia: {
    chainId: 11155420,
    chainType: "op",
    rpcUrlVariable: "OP_SEPOLIA_RPC_URL",
    explorer: "https://sepolia-optimism.etherscan.io",
  },
} as const satisfies Record<
  string,
  { chainId: number; chainType: "l1" | "op" | "generic"; rpcUrlVariable: string; explorer: string }
>;

/** The chain id of a local `hardhat node` (and of Hardhat's in-process EVM). */
export { LOCAL_CHAIN_ID } from "../prover/src/chain/local-node.js";
