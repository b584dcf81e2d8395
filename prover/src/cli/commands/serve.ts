import { Option, type Command } from "commander";
import { resolve } from "node:path";
import { loadChainConfig } from "../../chain/config.js";
import { withDeployment } from "../../chain/deployments.js";
import { ConfigError, UserInputError } from "../../errors.js";
import { createLogger } from "../../util/logger.js";
import { SERVICE_DEFAULTS } from "../../service/defaults.js";
import type { ServiceConfig } from "../../service/service.js";
import type { CliContext } from "../context.js";

const int = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UserInputError(`${name} must be an integer >= ${min}, not '${v}'`);
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
    .option("--confirmations <n>", "blocks a request must be buried under before it is proved", int("--confirmations", 0), 1)
    .addOption(
      new Option("--db <file>", "SQLite job store").default(
        d.dbPath,
        "<cache dir>/service/jobs.sqlite, the cache dir being .zkinfer or ZKINFER_CACHE_DIR",
      ),
    )
    .option("--host <host>", "HTTP API address (loopback by default)", d.host)
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
    .option("--poll-ms <ms>", "chain polling interval", int("--poll-ms", 50), 1000)
    .option("--replace-after-ms <ms>", "replace a fulfilment not mined within this long", int("--replace-after-ms", 1000), 60_000)
    .action(async (opts) => {
      const logger = createLogger("info", { service: "zkinfer" });
      const config: ServiceConfig = {
        models: opts.model as string[],
        dbPath: resolve(opts.db as string),
        host: opts.host as string,
        port: opts.port as number,
        workers: opts.workers as number,
        maxAttempts: opts.maxAttempts as number,
      };
      if (!opts.offchainOnly) {
        const chainConfig = await withDeployment(loadChainConfig());
        if (!chainConfig.coordinator) {
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
