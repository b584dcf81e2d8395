import { join } from "node:path";
import type { Address, PublicClient } from "viem";
import { loadDeployment, type Deployment } from "../chain/deployments.js";
import { ConfigError } from "../errors.js";

/**
 * The suite's addresses from a deployment record: the `<chainId>.json` that `zkinfer deploy` writes (in a checkout,
 * deploy/deployments/). A dApp ships or fetches the record of the chain it runs on and takes every address from it.
 */
export interface SuiteAddresses {
  chainId: number;
  registry: Address;
  /** The route (InferenceVerifier): verify-or-revert for `eth_call` pre-checks. */
  verifierRoute: Address;
  coordinator: Address;
  /** EZKL's reusable verifier the registry fixed at deployment. */
  suiteVerifier: Address;
}

export function suiteAddresses(d: Deployment): SuiteAddresses {
  return {
    chainId: d.chainId,
    registry: d.contracts.ModelRegistry.address,
    verifierRoute: d.contracts.InferenceVerifier.address,
    coordinator: d.contracts.InferenceCoordinator.address,
    suiteVerifier: d.contracts.Halo2VerifierReusable.address,
  };
}

/**
 * The record for the chain `client` is connected to, from `dir`/<chainId>.json; the chain id in the file must be
 * that chain's. Errors (no record, malformed, another chain) are a ConfigError with a hint.
 */
export async function deploymentFor(client: PublicClient, dir: string): Promise<Deployment> {
  const chainId = await client.getChainId();
  const file = join(dir, `${chainId}.json`);
  const d = loadDeployment(file);
  if (d.chainId !== chainId)
    throw new ConfigError(`${file} records chain ${d.chainId}, but the RPC serves chain ${chainId}`, {
      hint: "use the record of the chain you are connected to",
    });
  return d;
}

export { loadDeployment, type Deployment };
