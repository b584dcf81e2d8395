import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { isAddress, isHex, type Address, type Hex } from "viem";
import { z } from "zod";
import { ConfigError } from "../errors.js";

/**
 * Chain settings, validated once here and typed from then on. Sources, later ones winning:
 * zkinfer.config.json (or the file in ZKINFER_CONFIG), then the environment. The signing key is
 * read only from the environment (ZKINFER_PRIVATE_KEY) or from a file named in the config
 * (privateKeyFile) — never from the command line, where it would land in shell history.
 */
const address = z.string().refine((s) => isAddress(s), "not a 0x-prefixed 20-byte address");
const fileSchema = z
  .object({
    rpcUrl: z.string().url().optional(),
    privateKeyFile: z.string().optional(),
    registry: address.optional(),
    verifierRoute: address.optional(),
    coordinator: address.optional(),
  })
  .strict();

export interface ChainConfig {
  rpcUrl: string;
  privateKey: Hex | undefined;
  registry: Address | undefined;
  verifierRoute: Address | undefined;
  coordinator: Address | undefined;
  source: string;
}

export const DEFAULT_RPC_URL = "http://127.0.0.1:8545";

export function loadChainConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ChainConfig {
  const configPath = resolve(cwd, env.ZKINFER_CONFIG || "zkinfer.config.json");
  let file: z.infer<typeof fileSchema> = {};
  let source = "defaults";
  if (existsSync(configPath)) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(configPath, "utf8"));
    } catch (e) {
      throw new ConfigError(`${configPath} is not valid JSON (${(e as Error).message})`, { hint: "fix the file's syntax" });
    }
    const parsed = fileSchema.safeParse(raw);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new ConfigError(`${configPath}: ${i.path.join(".") || "(root)"}: ${i.message}`, {
        hint: "allowed keys: rpcUrl, privateKeyFile, registry, verifierRoute, coordinator",
      });
    }
    file = parsed.data;
    source = configPath;
  } else if (env.ZKINFER_CONFIG) {
    throw new ConfigError(`config file not found: ${configPath}`, {
      hint: "unset ZKINFER_CONFIG or point it at a zkinfer.config.json",
    });
  }

  let privateKey = env.ZKINFER_PRIVATE_KEY?.trim();
  if (!privateKey && file.privateKeyFile) {
    const keyPath = resolve(cwd, file.privateKeyFile);
    if (!existsSync(keyPath))
      throw new ConfigError(`privateKeyFile not found: ${keyPath}`, { hint: "fix privateKeyFile in the config" });
    privateKey = readFileSync(keyPath, "utf8").trim();
  }
  if (privateKey && !(isHex(privateKey) && privateKey.length === 66)) {
    throw new ConfigError("the private key is not 32 bytes of 0x-prefixed hex", {
      hint: "set ZKINFER_PRIVATE_KEY=0x<64 hex digits>",
    });
  }
  const pick = (envName: string, fromFile: string | undefined): Address | undefined => {
    const v = env[envName] ?? fromFile;
    if (v === undefined || v === "") return undefined;
    if (!isAddress(v))
      throw new ConfigError(`${envName} is not an address: ${v}`, { hint: "give a 0x-prefixed 20-byte address" });
    return v;
  };
  const rpcUrl = env.ZKINFER_RPC_URL ?? file.rpcUrl ?? DEFAULT_RPC_URL;
  try {
    new URL(rpcUrl);
  } catch {
    throw new ConfigError(`ZKINFER_RPC_URL is not a URL: ${rpcUrl}`, { hint: "e.g. http://127.0.0.1:8545" });
  }
  return {
    rpcUrl,
    privateKey: privateKey as Hex | undefined,
    registry: pick("ZKINFER_REGISTRY", file.registry),
    verifierRoute: pick("ZKINFER_VERIFIER_ROUTE", file.verifierRoute),
    coordinator: pick("ZKINFER_COORDINATOR", file.coordinator),
    source,
  };
}
