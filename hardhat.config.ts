import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { defineConfig } from "hardhat/config";
import hardhatViem from "@nomicfoundation/hardhat-viem";
import hardhatMocha from "@nomicfoundation/hardhat-mocha";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";

// No Solidity compiler can be downloaded on our machines: compile with the npm `solc` (soljson),
// and read its version from the installed package so the two never disagree.
const require = createRequire(import.meta.url);
const solcPath = require.resolve("solc/soljson.js");
const solcVersion: string = JSON.parse(
  readFileSync(require.resolve("solc/package.json"), "utf8"),
).version;

export default defineConfig({
  plugins: [hardhatViem, hardhatMocha, hardhatNetworkHelpers],
  solidity: {
    version: solcVersion,
    path: solcPath,
    settings: {
      // EZKL's generated verifiers need the optimizer (otherwise "stack too deep").
      optimizer: { enabled: true, runs: 200 },
      evmVersion: "cancun",
    },
  },
  paths: {
    sources: "./contracts",
    tests: { mocha: "./test", solidity: "./contracts/test" },
  },
  test: {
    mocha: { timeout: 600_000 },
  },
});
