import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createPublicClient, getAddress, http, isAddress } from "viem";
import { z } from "zod";
import { ConfigError } from "../errors.js";
import type { ChainConfig } from "./config.js";
import { projectRoot } from "../util/paths.js";

/**
 * Deployment records: deploy/deployments/<chainId>.json, written by `zkinfer deploy` (deploy/index.ts)
 * and read by every command that needs the suite's addresses on a chain.
 */

/** Where deployment records live: deploy/deployments/<chainId>.json (ZKINFER_DEPLOYMENTS_DIR overrides). */
export function deploymentsDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.ZKINFER_DEPLOYMENTS_DIR ?? join(projectRoot, "deploy/deployments"));
}

const addressSchema = z
  .string()
  .refine((s) => isAddress(s), "not an address")
  .transform((s) => getAddress(s));
const contractRecord = z.object({ address: addressSchema, txHash: z.string().optional(), gasUsed: z.string().optional() });

export const deploymentSchema = z.object({
  chainId: z.number().int().positive(),
  network: z.string(),
  deployedAt: z.string(),
  deployer: addressSchema,
  owner: addressSchema,
  guardian: addressSchema,
  ignitionDeploymentId: z.string(),
  solc: z.string(),
  explorer: z.string().optional(),
  /** The suite verifier the registry fixed at deployment (id 1): its runtime code hash and the EZKL that rendered it. */
  suiteVerifier: z.object({ id: z.number().int().positive(), codeHash: z.string().regex(/^0x[0-9a-f]{64}$/), ezkl: z.string() }),
  /** The registry's immutable delays, in seconds. */
  registry: z.object({ latestDelay: z.number().int().nonnegative(), verifierActivationDelay: z.number().int().nonnegative() }),
  contracts: z.object({
    Halo2VerifierReusable: contractRecord,
    ModelRegistry: contractRecord,
    InferenceVerifier: contractRecord,
    InferenceCoordinator: contractRecord,
  }),
});
export type Deployment = z.infer<typeof deploymentSchema>;

/** The deployment record for `chainId`, or undefined when there is none. A malformed file is an error. */
export function readDeployment(chainId: number, dir: string = deploymentsDir()): Deployment | undefined {
  const file = join(dir, `${chainId}.json`);
  if (!existsSync(file)) return undefined;
  const d = loadDeployment(file);
  if (d.chainId !== chainId)
    throw new ConfigError(`${file} records chain ${d.chainId}, not ${chainId}`, { hint: "rename or remove the file" });
  return d;
}

/** A deployment record read from `file` and validated; a missing or malformed file is a ConfigError naming it. */
export function loadDeployment(file: string): Deployment {
  const hint = "redeploy with `zkinfer deploy`, or restore the file from git";
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : `is not valid JSON (${(e as Error).message})`;
    throw new ConfigError(`${file} ${why}`, { hint });
  }
  const parsed = deploymentSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new ConfigError(`${file}: ${i.path.join(".") || "(root)"}: ${i.message}`, { hint });
  }
  return parsed.data;
}

export function writeDeployment(d: Deployment, dir: string = deploymentsDir()): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${d.chainId}.json`);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(d, null, 2) + "\n");
  renameSync(tmp, file);
  return file;
}

/**
 * The chain config with any missing suite address (registry, route, coordinator) filled in from the
 * deployment record of the chain the RPC serves. Addresses set explicitly (environment or
 * zkinfer.config.json) win. When the node cannot be reached, nothing is filled in: the command's own
 * connection then reports that.
 */
export async function withDeployment(config: ChainConfig, dir: string = deploymentsDir()): Promise<ChainConfig> {
  if (config.registry && config.verifierRoute && config.coordinator) return config;
  let chainId: number;
  try {
    chainId = await createPublicClient({ transport: http(config.rpcUrl, { retryCount: 0, timeout: 10_000 }) }).getChainId();
  } catch {
    return config;
  }
  const d = readDeployment(chainId, dir);
  if (!d) return config;
  return {
    ...config,
    registry: config.registry ?? d.contracts.ModelRegistry.address,
    verifierRoute: config.verifierRoute ?? d.contracts.InferenceVerifier.address,
    coordinator: config.coordinator ?? d.contracts.InferenceCoordinator.address,
    source: `${config.source} + ${join(dir, `${chainId}.json`)}`,
  };
}
