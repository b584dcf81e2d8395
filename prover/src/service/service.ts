import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import type { Address } from "viem";
import { inferenceCoordinatorAbi } from "../chain/abis.js";
import { connectChain, type ChainClients } from "../chain/clients.js";
import type { ChainConfig } from "../chain/config.js";
import { EzklEngine } from "../engine/engine.js";
import type { Logger } from "../util/logger.js";
import { cacheDir } from "../util/paths.js";
import { ModelCatalog } from "./catalog.js";
import { createMetrics, type ServiceMetrics } from "./metrics.js";
import { createSender } from "./sender.js";
import { createHttpServer, listen } from "./server.js";
import { JobStore } from "./store.js";
import { createWatcher, sleep } from "./watcher.js";
import { createWorker } from "./worker.js";

export interface ServiceConfig {
  /** Model references: artifact dirs, model dirs / .onnx (built if needed), or built names. */
  models: string[];
  dbPath: string;
  host: string;
  port: number;
  workers: number;
  maxAttempts: number;
  /** On-chain mode: watch this coordinator and fulfil its requests. Off-chain jobs only when undefined. */
  chain?: {
    config: ChainConfig;
    coordinator: Address;
    startBlock: bigint;
    confirmations: number;
    pollMs: number;
    replaceAfterMs: number;
  };
}

export interface RunningService {
  url: string;
  store: JobStore;
  metrics: ServiceMetrics;
  stop(): Promise<void>;
}

/**
 * `zkinfer serve`: the job store, the provers, the HTTP API and — with a coordinator configured —
 * the chain watcher and the fulfilment sender, wired through one explicit context. Jobs left
 * half-proved by a previous run are requeued at start. stop() ends every loop and closes the store.
 */
export async function startService(config: ServiceConfig, logger: Logger): Promise<RunningService> {
  const store = new JobStore(config.dbPath);
  const recovered = store.recover();
  if (recovered) logger.warn({ recovered }, "requeued jobs a previous run left half-proved");
  const metrics = createMetrics(() => store.countsByState());
  const abort = new AbortController();
  const wake = new EventTarget();
  const proofTimes = new Map<string, number>();
  const proofsDir = join(cacheDir(), "service", "proofs");
  mkdirSync(proofsDir, { recursive: true });

  // Models are loaded (and built if needed) once, with one engine that is then closed: each prover
  // has its own EZKL process.
  const loader = new EzklEngine({ logger: logger.child({ component: "engine" }) });
  let catalog: ModelCatalog;
  try {
    catalog = await ModelCatalog.load(config.models, { engine: () => loader, logger });
  } finally {
    await loader.close();
  }

  const tasks: Promise<void>[] = [];
  const workers = Array.from({ length: config.workers }, (_, i) =>
    createWorker(
      { store, catalog, logger, metrics, signal: abort.signal, proofsDir, wake, maxAttempts: config.maxAttempts, proofTimes },
      i,
    ),
  );
  for (const w of workers) tasks.push(w.start());

  let watcher: ReturnType<typeof createWatcher> | undefined;
  let chainReady = config.chain ? "connecting to the chain" : "";
  if (config.chain) {
    const chain = config.chain;
    tasks.push(
      (async () => {
        let clients: ChainClients | undefined;
        let registry: Address | undefined;
        for (let delay = 500; !abort.signal.aborted && !registry; delay = Math.min(delay * 2, 10_000)) {
          try {
            clients = await connectChain(chain.config);
            registry = await clients.publicClient.readContract({
              address: chain.coordinator,
              abi: inferenceCoordinatorAbi,
              functionName: "registry",
            });
          } catch (e) {
            metrics.rpcErrors.inc({ component: "connect" });
            chainReady = `chain not reachable: ${(e as Error).message.split("\n")[0]}`;
            logger.warn({ err: chainReady, retryInMs: delay }, "cannot reach the coordinator yet");
            await sleep(delay, abort.signal);
          }
        }
        if (!clients || !registry) return;
        chainReady = "";
        logger.info(
          { chainId: clients.chain.id, coordinator: chain.coordinator, registry, prover: clients.account.address },
          "following the coordinator",
        );
        watcher = createWatcher({
          store,
          catalog,
          logger,
          metrics,
          signal: abort.signal,
          wake,
          client: clients.publicClient,
          coordinator: chain.coordinator,
          registry,
          confirmations: chain.confirmations,
          startBlock: chain.startBlock,
          pollMs: chain.pollMs,
          chunk: 2000n,
          proofTimes,
          deadlineMarginSec: 15,
        });
        const sender = createSender({
          store,
          logger,
          metrics,
          signal: abort.signal,
          wake,
          client: clients.publicClient,
          wallet: clients.walletClient,
          coordinator: chain.coordinator,
          replaceAfterMs: chain.replaceAfterMs,
          pollMs: chain.pollMs,
        });
        await Promise.all([watcher.start(), sender.start()]);
      })(),
    );
  }

  const readiness = (): string[] => {
    const reasons: string[] = [];
    if (chainReady) reasons.push(chainReady);
    if (watcher && watcher.staleFor() > 30_000)
      reasons.push(`no successful chain poll for ${Math.round(watcher.staleFor() / 1000)} s`);
    return reasons;
  };
  const server: Server = createHttpServer({ store, catalog, metrics, logger, wake, readiness });
  const addr = await listen(server, config.host, config.port);
  const url = `http://${addr.address}:${addr.port}`;
  logger.info({ url, models: catalog.names(), workers: config.workers, db: config.dbPath }, "zkinfer service listening");

  return {
    url,
    store,
    metrics,
    async stop() {
      abort.abort();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.allSettled(tasks);
      await Promise.all(workers.map((w) => w.stop()));
      store.close();
    },
  };
}
