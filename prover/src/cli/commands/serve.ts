import { parseEther } from "viem";
import { Option, type Command } from "commander";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { connectChain } from "../../chain/clients.js";
import { loadChainConfig } from "../../chain/config.js";
import { withDeployment } from "../../chain/deployments.js";
import { ConfigError, UserInputError } from "../../errors.js";
import { createLogger } from "../../util/logger.js";
import { MAX_BATCH } from "../../models/variants.js";
import { isPostgresUrl, SERVICE_DEFAULTS } from "../../service/defaults.js";
import type { ServiceConfig } from "../../service/service.js";
import type { CliContext } from "../context.js";

const int = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UserInputError(`${name} must be an integer >= ${min}, not '${v}'`);
  return n;
};

/** An integer flag from `min` to `max`, or one error line and a hint with an example. */
const bounded = (name: string, min: number, max: number, example: string) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isInteger(n) || n < min || n > max)
    throw new UserInputError(`${name} must be an integer from ${min} to ${max}, not '${v}'`, { hint: `e.g. ${name} ${example}` });
  return n;
};

export function registerServe(program: Command, _ctx: CliContext): void {
  const d = SERVICE_DEFAULTS;
  program
    .command("serve")
    .summary("the prover service: watch requests, prove with EZKL, fulfil on-chain; HTTP API and metrics")
    .description(
      "run the prover service: watch the coordinator's InferenceRequested events, prove, fulfil; and an HTTP API for off-chain jobs. " +
        "RPC and key come from ZKINFER_RPC_URL / ZKINFER_PRIVATE_KEY or zkinfer.config.json; the coordinator from the " +
        "deployment record deploy/deployments/<chainId>.json (or ZKINFER_COORDINATOR)",
    )
    .requiredOption(
      "-m, --model <model...>",
      "models to serve: artifact dirs, model dirs / .onnx (built if needed) or built names",
    )
    .option("--offchain-only", "serve only the HTTP API's off-chain jobs (no chain)")
    .option(
      "--start-block <n>",
      "first block to scan on a fresh job store (later runs resume after the last processed block)",
      "0",
    )
    .option(
      "--min-price <eth>",
      "refuse requests whose price is below this, in ETH (requests that do not cover their callback gas are always refused)",
      "0",
    )
    .option(
      "--max-locks <n>",
      "on-chain locks (with collateral) this prover holds at most at once; pending requests beyond it are left to other provers",
      int("--max-locks", 1),
      4,
    )
    .option(
      "--batch-window-ms <ms>",
      "how long the first pending request of a (model, version) waits for more before they are proved as one batch " +
        "(cut short when a request's deadline needs it; 0 = batch only what is already pending)",
      bounded("--batch-window-ms", 0, 600_000, "3000"),
      0,
    )
    .option(
      "--max-batch <n>",
      "the largest batch variant used, so the most requests one fulfillBatch settles; 1 turns batching off " +
        "(default: the largest batch variant registered for the version and built here)",
      bounded("--max-batch", 1, MAX_BATCH, "8"),
    )
    .option("--confirmations <n>", "blocks a request must be buried under before it is proved", int("--confirmations", 0), 1)
    .addOption(
      new Option(
        "--db <file|url>",
        "job store: a SQLite file (one machine), or postgres://user:pass@host:port/db shared by every node of a fleet",
      ).default(d.dbPath, "<cache dir>/service/jobs.sqlite, the cache dir being .zkinfer or ZKINFER_CACHE_DIR"),
    )
    .option(
      "--lease-ms <ms>",
      "lease of a claimed job and of the fleet's leadership: a dead node's jobs and role pass on this long after it stopped",
      int("--lease-ms", 1000),
      d.leaseMs,
    )
    .option("--host <host>", "HTTP API address (loopback by default; any other needs an API token)", d.host)
    .option("--port <port>", "HTTP API port (0 = any free port)", int("--port", 0), d.port)
    .option(
      "--workers <n>",
      "concurrent provers (each its own EZKL process; proving keys are large)",
      int("--workers", 1),
      d.workers,
    )
    .option(
      "--max-attempts <n>",
      "proof attempts before a job fails (retryable failures only)",
      int("--max-attempts", 1),
      d.maxAttempts,
    )
    .option(
      "--api-token-file <file>",
      "file holding the bearer token POST /jobs requires (or ZKINFER_API_TOKEN); without one, off-chain jobs are off",
    )
    .option("--max-queued <n>", "off-chain jobs pending at most (fleet-wide); more get 503", int("--max-queued", 1), d.maxQueued)
    .option(
      "--client-quota <n>",
      "off-chain jobs pending at most per client address; more get 429",
      int("--client-quota", 1),
      d.clientQuota,
    )
    .option("--max-connections <n>", "open HTTP connections at most", int("--max-connections", 1), d.maxConnections)
    .option(
      "--prove-timeout-ms <ms>",
      "longest one EZKL call may run before it is stopped and the job retried (lowered to 10x a model's measured proof time, >= 30 s)",
      int("--prove-timeout-ms", 1000),
      d.proveTimeoutMs,
    )
    .option("--poll-ms <ms>", "chain polling interval", int("--poll-ms", 50), 1000)
    .option("--replace-after-ms <ms>", "replace a fulfilment not mined within this long", int("--replace-after-ms", 1000), 60_000)
    .action(async (opts) => {
      const logger = createLogger("info", { service: "zkinfer" });
      const db = opts.db as string;
      const config: ServiceConfig = {
        models: opts.model as string[],
        dbPath: isPostgresUrl(db) ? db : resolve(db),
        host: opts.host as string,
        port: opts.port as number,
        workers: opts.workers as number,
        maxAttempts: opts.maxAttempts as number,
        leaseMs: opts.leaseMs as number,
        proveTimeoutMs: opts.proveTimeoutMs as number,
        apiToken: readApiToken(opts.apiTokenFile as string | undefined),
        http: {
          maxQueued: opts.maxQueued as number,
          clientQuota: opts.clientQuota as number,
          maxConnections: opts.maxConnections as number,
        },
      };
      if (!opts.offchainOnly) {
        const chainConfig = await withDeployment(loadChainConfig());
        if (!chainConfig.coordinator) {
          // No address may only mean the RPC URL is wrong (the deployment record is found by chain id).
          if (chainConfig.privateKey) await connectChain(chainConfig);
          throw new ConfigError("no InferenceCoordinator address configured", {
            hint: 'deploy the suite with `zkinfer deploy`, set ZKINFER_COORDINATOR=0x... (or "coordinator" in zkinfer.config.json), or run with --offchain-only',
          });
        }
        if (!chainConfig.privateKey) {
          throw new ConfigError("no signing key configured for fulfilments", {
            hint: "set ZKINFER_PRIVATE_KEY, or privateKeyFile in zkinfer.config.json",
          });
        }
        let startBlock: bigint;
        try {
          startBlock = BigInt(opts.startBlock as string);
        } catch {
          throw new UserInputError(`--start-block must be a block number, not '${opts.startBlock}'`);
        }
        config.chain = {
          config: chainConfig,
          coordinator: chainConfig.coordinator,
          startBlock,
          confirmations: opts.confirmations as number,
          pollMs: opts.pollMs as number,
          replaceAfterMs: opts.replaceAfterMs as number,
          minPriceWei: minPriceWei(String(opts.minPrice)),
          maxLocks: opts.maxLocks as number,
          batchWindowMs: opts.batchWindowMs as number,
          ...(opts.maxBatch !== undefined ? { maxBatch: opts.maxBatch as number } : {}),
        };
      }
      // Loaded only when `serve` runs, so other commands start without it.
      const { startService } = await import("../../service/service.js");
      const service = await startService(config, logger);
      process.stderr.write(`zkinfer service listening on ${service.url} (Ctrl-C to stop)\n`);
      await new Promise<void>((done) => {
        const stop = (signal: string) => {
          logger.info({ signal }, "stopping");
          void service.stop().then(done);
        };
        process.once("SIGINT", () => stop("SIGINT"));
        process.once("SIGTERM", () => stop("SIGTERM"));
      });
    });
}

/** The API token: from --api-token-file, else ZKINFER_API_TOKEN; at least 16 characters. */
function readApiToken(file: string | undefined): string | undefined {
  let token = process.env.ZKINFER_API_TOKEN || undefined;
  if (file) {
    try {
      token = readFileSync(file, "utf8").trim();
    } catch (e) {
      throw new ConfigError(`cannot read the API token file ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
  }
  if (token !== undefined && token.length < 16)
    throw new ConfigError("the API token is shorter than 16 characters", { hint: "use e.g. `openssl rand -hex 24`" });
  return token;
}

/** `--min-price` in wei, or one clear error. */
function minPriceWei(v: string): bigint {
  try {
    return parseEther(v);
  } catch {
    throw new UserInputError(`--min-price must be an amount of ETH such as 0.001, not '${v}'`, { hint: "pass ETH, e.g. 0.0005" });
  }
}
