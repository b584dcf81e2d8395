import { defineConfig } from "hardhat/config";
import hardhatViem from "@nomicfoundation/hardhat-viem";
import hardhatMocha from "@nomicfoundation/hardhat-mocha";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";
import { SOLC_PATH, SOLC_SETTINGS, SOLC_VERSION } from "./prover/src/chain/solc.js";

export default defineConfig({
  plugins: [hardhatViem, hardhatMocha, hardhatNetworkHelpers],
  solidity: {
    // The npm solc (soljson), version read from the installed package: no compiler download.
    version: SOLC_VERSION,
    path: SOLC_PATH,
    settings: { ...SOLC_SETTINGS, optimizer: { ...SOLC_SETTINGS.optimizer } },
  },
  paths: {
    sources: "./contracts",
    tests: { mocha: "./test", solidity: "./contracts/test" },
  },
  test: {
    mocha: { timeout: 600_000 },
  },
});
