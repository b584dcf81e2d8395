import { configVariable, defineConfig } from "hardhat/config";
import hardhatViem from "@nomicfoundation/hardhat-viem";
import hardhatMocha from "@nomicfoundation/hardhat-mocha";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";
import hardhatIgnitionViem from "@nomicfoundation/hardhat-ignition-viem";
import hardhatVerify from "@nomicfoundation/hardhat-verify";
import hardhatKeystore from "@nomicfoundation/hardhat-keystore";
import hardhatTypechain from "@nomicfoundation/hardhat-typechain";
import {
  SOLC_PATH,
  SOLC_SETTINGS,
  SOLC_VERSION,
  SUITE_VERIFIER_SOURCE_NAME,
  VERIFIER_SOLC_SETTINGS,
} from "./prover/src/chain/solc.js";
import { TESTNETS } from "./deploy/networks.js";

/**
 * Public testnets. Their RPC URLs and the deployer key are Hardhat configuration variables: read
 * from the environment (e.g. SEPOLIA_RPC_URL) or from Hardhat's encrypted keystore, and only when
 * that network is used. Nothing secret is in the repository.
 */
const testnets = Object.fromEntries(
  Object.entries(TESTNETS).map(([name, n]) => [
    name,
    {
      type: "http" as const,
      chainType: n.chainType,
      chainId: n.chainId,
      url: configVariable(n.rpcUrlVariable),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
    },
  ]),
);

export default defineConfig({
  plugins: [
    hardhatViem,
    hardhatMocha,
    hardhatNetworkHelpers,
    hardhatIgnitionViem,
    hardhatVerify,
    hardhatKeystore,
    hardhatTypechain,
  ],
  solidity: {
    // The npm solc (soljson), version read from the installed package: no compiler download. EZKL's suite
    // verifier is compiled for many runs (see VERIFIER_SOLC_SETTINGS), the project's contracts for size.
    compilers: [
      { version: SOLC_VERSION, path: SOLC_PATH, settings: { ...SOLC_SETTINGS, optimizer: { ...SOLC_SETTINGS.optimizer } } },
    ],
    overrides: {
      [SUITE_VERIFIER_SOURCE_NAME]: {
        version: SOLC_VERSION,
        path: SOLC_PATH,
        settings: { ...VERIFIER_SOLC_SETTINGS, optimizer: { ...VERIFIER_SOLC_SETTINGS.optimizer } },
      },
    },
  },
  networks: {
    // A `hardhat node` on this machine (`npx hardhat node --hostname 127.0.0.1`); its first dev accounts.
    localhost: { type: "http", chainType: "l1", url: "http://127.0.0.1:8545" },
    ...testnets,
  },
  // Source verification on the chain's explorer (Etherscan's multichain API: one key for every chain).
  verify: {
    etherscan: { apiKey: configVariable("ETHERSCAN_API_KEY") },
    blockscout: { enabled: false },
    sourcify: { enabled: false },
  },
  // Typed ethers v6 bindings for dApp developers who use ethers rather than viem, generated on every
  // compile into types/ethers-contracts (git-ignored).
  typechain: { outDir: "types/ethers-contracts" },
  paths: {
    sources: "./contracts",
    tests: { mocha: "./test", solidity: "./contracts/test" },
    ignition: "./deploy", // modules in deploy/modules, Ignition journals in deploy/deployments/<id>/
  },
  test: {
    mocha: { timeout: 600_000 },
  },
});
