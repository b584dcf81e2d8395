import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { hostname } from "node:os";
import type { Server } from "node:http";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { Address, Hex } from "viem";
import { inferenceCoordinatorAbi } from "../chain/abis.js";
import { connectChain, type ChainClients } from "../chain/clients.js";
import type { ChainConfig } from "../chain/config.js";
import { EzklEngine } from "../engine/engine.js";
import { ConfigError } from "../errors.js";
import type { Logger } from "../util/logger.js";
import { cacheDir, packageRoot } from "../util/paths.js";
import { ModelCatalog } from "./catalog.js";
import { createLeadership } from "./leader.js";
import { createMetrics, type ServiceMetrics } from "./metrics.js";
import { chainPolicy, proveEverything, type JobPolicy } from "./policy.js";
import { createLocker, marketPolicy, serialize, type Locker } from "./market.js";
import { createSender } from "./sender.js";
import { checkExposure, createHttpServer, HTTP_DEFAULTS, listen, type HttpLimits } from "./server.js";
import { JobStore } from "./store.js";
import { createWatcher, sleep } from "./watcher.js";
import { createWorker, type BatchingContext } from "./worker.js";

export interface ServiceConfig {
  /** Model references: artifact dirs, model dirs / .onnx (built if needed), or built names. */
  models: string[];
  /** The job store: a SQLite file, or a postgres:// URL shared by the nodes of a fleet. */
  dbPath: string;
  host: string;
  port: number;
  workers: number;
  maxAttempts: number;
  /** A claim's (and the leader's) lease in ms: a dead node's jobs return to the queue this long after it stopped. */
  leaseMs?: number;
  /** Upper bound for one EZKL call (ms); once a model's proof time is measured, 10x it (at least 30 s) if lower. */
  proveTimeoutMs?: number;
  /** The bearer token for POST /jobs and for reading off-chain jobs; required for a non-loopback host. */
  apiToken?: string;
  http?: Partial<HttpLimits>;
  /** Finished jobs are deleted from the store after this long (ms). */
  retainMs?: number;
  /** This node's name in leases and logs (default: host:pid:random). */
  nodeId?: string;
  /** Wraps the chain policy that admits requests and decides, before each proof, whether to prove (the market's lock/price hook). */
  policy?: (base: JobPolicy) => JobPolicy;
  /** On-chain mode: watch this coordinator and fulfil its requests. Off-chain jobs only when undefined. */
  chain?: {
    config: ChainConfig;
    coordinator: Address;
    startBlock: bigint;
    confirmations: number;
    pollMs: number;
    replaceAfterMs: number;
    maxSendAttempts?: number;
    /** The least price (wei) to prove a request for (`zkinfer serve --min-price`); default 0. */
    minPriceWei?: bigint;
    /** Live on-chain locks this prover holds at most (`zkinfer serve --max-locks`); default 4. */
    maxLocks?: number;
    /** How long a group's first pending request waits for more of its (model, version) (`--batch-window-ms`); default 0. */
    batchWindowMs?: number;
    /** The largest batch variant used (`--max-batch`), so the most requests one fulfillBatch settles; default: the largest registered; 1: no batching. */
    maxBatch?: number;
  };
}

export interface RunningService {
  url: string;
  nodeId: string;
  store: JobStore;
  metrics: ServiceMetrics;
  /** Whether this node currently leads the fleet (watches the chain and sends fulfilments). */
  isLeader(): boolean;
  /** The EZKL worker processes' ids (tests stall one to see the timeout). */
  enginePids(): (number | undefined)[];
  stop(): Promise<void>;
}

const VERSION = (JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string }).version;
const PROOF_DIR_MAX_AGE_MS = 3600_000;

/** Reach the chain and check that `coordinator` is an InferenceCoordinator there; one clear error otherwise. */
async function connectCoordinator(
  config: ChainConfig,
  coordinator: Address,
): Promise<{ clients: ChainClients; registry: Address }> {
  const clients = await connectChain(config); // RpcUnreachableError names the URL
  const id = clients.chain.id;
  const code = await clients.publicClient.getCode({ address: coordinator }).catch((e: Error) => {
    throw new ConfigError(`the RPC node at ${config.rpcUrl} answers, but not eth_getCode: ${e.message.split("\n")[0]}`);
  });
  if (!code || code === "0x")
    throw new ConfigError(`there is no contract at ${coordinator} on chain ${id}`, {
      hint: "check ZKINFER_COORDINATOR (or the deployment record deploy/deployments/<chainId>.json) and ZKINFER_RPC_URL's chain; `zkinfer deploy` deploys the suite",
    });
  try {
    const registry = await clients.publicClient.readContract({
      address: coordinator,
      abi: inferenceCoordinatorAbi,
      functionName: "registry",
    });
    await clients.publicClient.readContract({
      address: coordinator,
      abi: inferenceCoordinatorAbi,
      functionName: "requestState",
      args: [0n],
    });
    return { clients, registry };
  } catch {
    throw new ConfigError(`the contract at ${coordinator} on chain ${id} is not an InferenceCoordinator`, {
      hint: "ZKINFER_COORDINATOR must be the coordinator's address (see deploy/deployments/<chainId>.json), not the registry's or a verifier's",
    });
  }
}

/**
 * `zkinfer serve`: the job store, the provers, the HTTP API and — with a coordinator configured —
 * leadership of the fleet: the leader (one node at a time, on a lease in the store) runs the chain
 * watcher and the fulfilment sender; every node proves. Start-up checks everything an operator can
 * get wrong (store, port, RPC, coordinator) before anything runs, and fails with one clear error.
 * stop() ends every loop, hands leadership over and closes the store.
 */
export async function startService(config: ServiceConfig, logger: Logger): Promise<RunningService> {
  const nodeId = config.nodeId ?? `${hostname()}:${process.pid}:${randomBytes(2).toString("hex")}`;
  const leaseMs = config.leaseMs ?? 15_000;
  const limits = { ...HTTP_DEFAULTS, ...config.http };
  checkExposure(config.host, config.apiToken);
  const store = await JobStore.open(config.dbPath);
  const cleanup: (() => Promise<unknown>)[] = [() => store.close()];
  const abort = new AbortController();
  const tasks: Promise<void>[] = [];
  const undo = async () => {
    abort.abort();
    await Promise.allSettled(tasks);
    for (const f of cleanup.reverse()) await f().catch(() => undefined);
  };
  try {
    const metrics = createMetrics(() => store.countsByState());
    metrics.buildInfo.set({ version: VERSION, node: process.versions.node, store: store.backend }, 1);
    metrics.locksHeld.set({}, 0);
    metrics.isLeader.set({}, 0);
    const wake = new EventTarget();
    const proofTimes = new Map<string, number>();
    const notReady = new Map<string, string>([["models", "loading models"]]);
    const catalog = new ModelCatalog();
    let leadership: ReturnType<typeof createLeadership> | undefined;
    let watcher: ReturnType<typeof createWatcher> | undefined;
    let chainInfo: Record<string, unknown> = {};

    // The port first: a second instance on the same port stops here, before it proves or sends anything.
    const server: Server = createHttpServer({
      store,
      catalog,
      metrics,
      logger,
      wake,
      readiness: () => {
        const reasons = [...notReady.values()];
        if (leadership?.isLeader() && watcher && watcher.staleFor() > 30_000)
          reasons.push(`no successful chain poll for ${Math.round(watcher.staleFor() / 1000)} s`);
        return reasons;
      },
      status: async () => ({
        node: nodeId,
        version: VERSION,
        leader: config.chain
          ? { thisNode: leadership?.isLeader() ?? false, holder: (await store.leaseHolder("leader")) ?? null }
          : null,
        chain: config.chain
          ? {
              ...chainInfo,
              lastBlock: watcher ? String(await watcher.lastProcessed()) : null,
              lagBlocks: metrics.chainLagBlocks.get() ?? null,
            }
          : null,
        proverBalanceWei: chainInfo.prover
          ? (metrics.proverBalanceWei.get({ account: chainInfo.prover as string }) ?? null)
          : null,
      }),
      apiToken: config.apiToken,
      limits,
    });
    const addr = await listen(server, config.host, config.port);
    cleanup.push(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    });
    const url = `http://${addr.address}:${addr.port}`;

    let chain: { clients: ChainClients; registry: Address } | undefined;
    if (config.chain) {
      chain = await connectCoordinator(config.chain.config, config.chain.coordinator);
      chainInfo = {
        chainId: chain.clients.chain.id,
        coordinator: config.chain.coordinator,
        registry: chain.registry,
        prover: chain.clients.account.address,
      };
      logger.info(chainInfo, "following the coordinator");
    }

    // Models are loaded (and built if needed) once, with one engine that is then closed: each prover
    // has its own EZKL process.
    const loader = new EzklEngine({ logger: logger.child({ component: "engine" }) });
    try {
      await ModelCatalog.load(config.models, { engine: () => loader, logger }, catalog);
    } finally {
      await loader.close();
    }
    for (const d of catalog.describe())
      metrics.servedModels.set({ model: d.name, vk_hash: d.vkHash, logrows: String(d.logrows) }, 1);
    notReady.delete("models");

    // Scratch space for proof files, one directory per node (each file is deleted once its proof is in
    // the store); directories left by nodes that died long ago are removed.
    const proofsRoot = join(cacheDir(), "service", "proofs");
    const proofsDir = join(proofsRoot, nodeId.replace(/[^\w.-]/g, "_"));
    try {
      mkdirSync(proofsDir, { recursive: true });
    } catch (e) {
      throw new ConfigError(
        `cannot create the proofs' scratch directory ${proofsDir}: ${(e as NodeJS.ErrnoException).code ?? e}`,
        {
          hint: "the cache directory (.zkinfer or ZKINFER_CACHE_DIR) must be writable by the service's user",
        },
      );
    }
    for (const entry of readdirSync(proofsRoot)) {
      const p = join(proofsRoot, entry);
      if (Date.now() - statSync(p).mtimeMs > PROOF_DIR_MAX_AGE_MS) rmSync(p, { recursive: true, force: true });
    }
    cleanup.push(async () => rmSync(proofsDir, { recursive: true, force: true }));

    const cap = config.proveTimeoutMs ?? 5 * 60_000;
    // The leader's locker (set while this node leads): the market policy locks through it, and it shares the
    // signer's nonce queue with the sender.
    let locker: Locker | undefined;
    const serial = serialize();
    const basePolicy =
      chain && config.chain
        ? marketPolicy(chainPolicy({ client: chain.clients.publicClient, coordinator: config.chain.coordinator, store }), {
            client: chain.clients.publicClient,
            store,
            wallet: chain.clients.walletClient,
            coordinator: config.chain.coordinator,
            logger,
            locker: () => locker,
            ...(config.chain.minPriceWei !== undefined ? { minPriceWei: config.chain.minPriceWei } : {}),
          })
        : proveEverything;
    let policy = config.policy ? config.policy(basePolicy) : basePolicy;
    // A wrapper that replaced beforeProve but kept the base's group hook would be bypassed for batches: ask it per job.
    if (
      policy !== basePolicy &&
      policy.beforeProve !== basePolicy.beforeProve &&
      policy.beforeProveGroup === basePolicy.beforeProveGroup
    ) {
      const { beforeProveGroup: _bypassed, ...perJob } = policy;
      void _bypassed;
      policy = perJob;
    }
    const batching: BatchingContext | undefined =
      chain && config.chain && config.chain.maxBatch !== 1
        ? {
            windowMs: config.chain.batchWindowMs ?? 0,
            ...(config.chain.maxBatch !== undefined ? { maxBatch: config.chain.maxBatch } : {}),
            sendMarginSec: 15,
            sizes: (served, job) =>
              catalog.batchSizes(chain.clients.publicClient, chain.registry, served, job.modelId as Hex, job.version!),
            chainNow: async () => {
              const head = await chain.clients.publicClient.getBlock({ blockTag: "latest" });
              return Math.max(Number(head.timestamp), Math.floor(Date.now() / 1000));
            },
          }
        : undefined;
    const workers = Array.from({ length: config.workers }, (_, i) =>
      createWorker(
        {
          store,
          catalog,
          logger,
          metrics,
          signal: abort.signal,
          proofsDir,
          wake,
          maxAttempts: config.maxAttempts,
          proofTimes,
          nodeId,
          leaseMs,
          policy,
          ...(batching ? { batching } : {}),
          proveTimeoutMs: (model) => {
            const measured = proofTimes.get(model);
            return measured === undefined ? cap : Math.min(cap, Math.max(30_000, 10 * measured));
          },
        },
        i,
      ),
    );
    cleanup.push(() => Promise.all(workers.map((w) => w.stop())));
    for (const w of workers) tasks.push(w.start());

    if (chain && config.chain) {
      const c = config.chain;
      const { clients, registry } = chain;
      leadership = createLeadership({
        store,
        logger,
        metrics,
        signal: abort.signal,
        nodeId,
        leaseMs,
        lead: async (signal) => {
          watcher = createWatcher({
            store,
            catalog,
            logger,
            metrics,
            signal,
            wake,
            client: clients.publicClient,
            coordinator: c.coordinator,
            registry,
            confirmations: c.confirmations,
            startBlock: c.startBlock,
            pollMs: c.pollMs,
            chunk: 2000n,
            proofTimes,
            deadlineMarginSec: 15,
            policy,
          });
          locker = createLocker({
            client: clients.publicClient,
            wallet: clients.walletClient,
            coordinator: c.coordinator,
            logger,
            store,
            metrics,
            serial,
            ...(c.minPriceWei !== undefined ? { minPriceWei: c.minPriceWei } : {}),
            ...(c.maxLocks !== undefined ? { maxLocks: c.maxLocks } : {}),
          });
          signal.addEventListener("abort", () => (locker = undefined));
          const sender = createSender({
            locker,
            serial,
            store,
            logger,
            metrics,
            signal,
            wake,
            client: clients.publicClient,
            wallet: clients.walletClient,
            coordinator: c.coordinator,
            replaceAfterMs: c.replaceAfterMs,
            pollMs: c.pollMs,
            maxSendAttempts: c.maxSendAttempts ?? 6,
            isLeader: () => leadership!.isLeader(),
            onFunds: (problem) => (problem ? notReady.set("funds", problem) : notReady.delete("funds")),
          });
          const pruner = (async () => {
            while (!signal.aborted) {
              const n = await store.prune(config.retainMs ?? 7 * 24 * 3600_000).catch(() => 0);
              if (n) logger.info({ deleted: n }, "deleted finished jobs past their retention");
              await sleep(3600_000, signal);
            }
          })();
          await Promise.all([watcher.start(), sender.start(), pruner]);
          notReady.delete("funds");
        },
      });
      tasks.push(leadership.start());
    }

    logger.info(
      { url, node: nodeId, models: catalog.names(), workers: config.workers, store: store.location, backend: store.backend },
      "zkinfer service listening",
    );
    return {
      url,
      nodeId,
      store,
      metrics,
      isLeader: () => leadership?.isLeader() ?? false,
      enginePids: () => workers.map((w) => w.enginePid()),
      stop: undo,
    };
  } catch (e) {
    await undo();
    throw e;
  }
}
