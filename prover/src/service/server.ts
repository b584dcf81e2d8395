import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError, isZkinferError } from "../errors.js";
import { termsToJson } from "../sdk/terms.js";
import { parseInput } from "../models/input.js";
import type { Logger } from "../util/logger.js";
import { ModelCatalog } from "./catalog.js";
import type { ServiceMetrics } from "./metrics.js";
import { openApiDocument } from "./openapi.js";
import { JOB_STATES, type Job, type JobKind, type JobState, type JobStore } from "./store.js";

export interface HttpLimits {
  /** Off-chain jobs queued or proving, fleet-wide, beyond which POST /jobs answers 503. */
  maxQueued: number;
  /** Off-chain jobs queued or proving per client (remote address) beyond which POST /jobs answers 429. */
  clientQuota: number;
  /** Open connections at most; more are closed at once. */
  maxConnections: number;
  /** A request's headers must arrive within this long, the whole request within requestTimeoutMs. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** An idle kept-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
}

export const HTTP_DEFAULTS: HttpLimits = {
  maxQueued: 100,
  clientQuota: 10,
  maxConnections: 256,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
};

export interface ServerContext {
  store: JobStore;
  catalog: ModelCatalog;
  metrics: ServiceMetrics;
  logger: Logger;
  wake: EventTarget;
  /** Reasons the service is not ready (empty = ready). */
  readiness: () => string[];
  /** What GET /status adds about this node (leader, chain, account). */
  status: () => Promise<Record<string, unknown>>;
  /** The bearer token POST /jobs (and reading off-chain jobs' inputs and results) requires; undefined: off-chain jobs are off. */
  apiToken: string | undefined;
  limits: HttpLimits;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;
export const isLoopback = (host: string) => LOOPBACK.test(host);

/** Refuse to expose the API beyond this machine without a token (checked before anything starts). */
export function checkExposure(host: string, apiToken: string | undefined): void {
  if (!isLoopback(host) && !apiToken)
    throw new ConfigError(`--host ${host} exposes the HTTP API beyond this machine, and no API token is set`, {
      hint: "set ZKINFER_API_TOKEN (or --api-token-file <file>) so that only holders of the token can submit and read jobs, or keep --host 127.0.0.1",
    });
}

/**
 * A job as the API shows it. Proofs of chain jobs stay private until the fulfilment landed (anyone
 * holding one could submit it and take the fee); an off-chain job's input and result are shown only
 * to holders of the API token.
 */
function view(job: Job, authorised: boolean): Record<string, unknown> {
  const { leaseOwner, leaseUntil, notBefore, client, terms, held, ...rest } = job;
  const shown: Record<string, unknown> = {
    ...rest,
    leaseOwner,
    leaseUntil,
    terms: terms ? termsToJson(terms) : null,
    held: held ? { locker: held.locker, lockedAt: String(held.lockedAt), price: String(held.price) } : null,
  };
  void notBefore;
  if (job.kind === "chain" && job.result && job.state !== "fulfilled")
    shown.result = { ...job.result, proof: null, instances: null };
  if (job.kind === "offchain") {
    if (authorised) shown.client = client;
    else Object.assign(shown, { inputFixed: null, result: null });
  }
  return shown;
}

const MAX_BODY = 1 << 20;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown, type = "application/json"): void {
  const text = type === "application/json" ? JSON.stringify(body, null, 2) : String(body);
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, `request body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "request body is not JSON", 'send {"model": "<name>", "input": [...]}');
  }
}

/** The HTTP API (loopback by default): off-chain jobs, job status, models, health, readiness, metrics, OpenAPI. */
export function createHttpServer(ctx: ServerContext): Server {
  const logger = ctx.logger.child({ component: "http" });
  const token = ctx.apiToken ? Buffer.from(ctx.apiToken) : undefined;
  const authorised = (req: IncomingMessage): boolean => {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? "");
    if (!token || !m) return false;
    const given = Buffer.from(m[1]!);
    return given.length === token.length && timingSafeEqual(given, token);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Inside the error boundary: a request target that is not a URL (`GET //[`) is the client's mistake.
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      throw new HttpError(400, "the request target is not a valid path", "e.g. GET /jobs?state=queued");
    }
    const route = `${req.method} ${url.pathname}`;
    if (route === "GET /health") return send(res, 200, { status: "ok" });
    if (route === "GET /ready") {
      const reasons = ctx.readiness();
      return send(res, reasons.length ? 503 : 200, { ready: reasons.length === 0, reasons });
    }
    if (route === "GET /metrics") return send(res, 200, await ctx.metrics.registry.render(), "text/plain; version=0.0.4");
    if (route === "GET /openapi.json") return send(res, 200, openApiDocument);
    if (route === "GET /models") return send(res, 200, ctx.catalog.describe());
    if (route === "GET /status") {
      const reasons = ctx.readiness();
      return send(res, 200, {
        ready: reasons.length === 0,
        reasons,
        models: ctx.catalog.names(),
        jobs: await ctx.store.countsByState(),
        store: { backend: ctx.store.backend, location: ctx.store.location },
        ...(await ctx.status()),
      });
    }
    if (route === "GET /jobs") {
      const state = url.searchParams.get("state") ?? undefined;
      const kind = url.searchParams.get("kind") ?? undefined;
      if (state && !JOB_STATES.includes(state as JobState))
        throw new HttpError(400, `unknown state '${state}'`, `one of ${JOB_STATES.join(", ")}`);
      if (kind && kind !== "chain" && kind !== "offchain")
        throw new HttpError(400, `unknown kind '${kind}'`, "chain or offchain");
      const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get("limit") ?? 100) || 100));
      const jobs = await ctx.store.list({
        ...(state ? { state: state as JobState } : {}),
        ...(kind ? { kind: kind as JobKind } : {}),
        limit,
      });
      const auth = authorised(req);
      return send(
        res,
        200,
        jobs.map((j) => view(j, auth)),
      );
    }
    const m = /^\/jobs\/([^/]+)$/.exec(url.pathname);
    if (req.method === "GET" && m) {
      let id: string;
      try {
        id = decodeURIComponent(m[1]!);
      } catch {
        throw new HttpError(400, "the job id is not valid percent-encoding");
      }
      const job = await ctx.store.get(id);
      if (!job) throw new HttpError(404, `no job ${m[1]}`);
      return send(res, 200, view(job, authorised(req)));
    }
    if (route === "POST /jobs") {
      if (!token)
        throw new HttpError(
          403,
          "off-chain jobs are off: this service has no API token",
          "start it with ZKINFER_API_TOKEN or --api-token-file",
        );
      if (!authorised(req))
        throw new HttpError(401, "POST /jobs needs the API token", "send the header Authorization: Bearer <token>");
      const client = req.socket.remoteAddress ?? "unknown";
      const pending = await ctx.store.pendingOffchain(client);
      if (pending.total >= ctx.limits.maxQueued) {
        res.setHeader("retry-after", "10");
        throw new HttpError(503, `the off-chain queue is full (${pending.total} jobs)`, "retry later");
      }
      if (pending.client >= ctx.limits.clientQuota) {
        res.setHeader("retry-after", "10");
        throw new HttpError(
          429,
          `client ${client} has ${pending.client} off-chain jobs pending (quota ${ctx.limits.clientQuota})`,
          "wait for one to finish",
        );
      }
      const body = (await readJson(req)) as { model?: unknown; input?: unknown };
      if (typeof body?.model !== "string")
        throw new HttpError(400, '"model" is required', `served models: ${ctx.catalog.names().join(", ")}`);
      const served = ctx.catalog.get(body.model);
      if (!served)
        throw new HttpError(400, `model '${body.model}' is not served here`, `served models: ${ctx.catalog.names().join(", ")}`);
      const input = parseInput(body.input, served.model.manifest, '"input"');
      ModelCatalog.validateInput(served, input.fixed);
      const { job } = await ctx.store.insert({
        kind: "offchain",
        model: body.model,
        inputFixed: input.fixed.map(String),
        client,
      });
      ctx.wake.dispatchEvent(new Event("job"));
      logger.info({ job: job.id, model: job.model, client }, "off-chain job queued");
      return send(res, 202, view(job, true));
    }
    throw new HttpError(404, `no route ${route}`, "see /openapi.json");
  }

  // Timeouts are checked every connectionsCheckingInterval: keep it well below the header timeout.
  const server = createServer(
    { connectionsCheckingInterval: Math.max(250, Math.min(30_000, ctx.limits.headersTimeoutMs / 4)) },
    (req, res) => {
      // The one error boundary: whatever a request does, it gets an answer and the process keeps serving.
      handle(req, res).catch((e: unknown) => {
        try {
          if (res.headersSent) return void res.destroy();
          if (e instanceof HttpError) return send(res, e.status, { error: e.message, ...(e.hint ? { hint: e.hint } : {}) });
          if (isZkinferError(e)) return send(res, 400, { error: e.shortMessage, ...(e.hint ? { hint: e.hint } : {}) });
          logger.error({ err: e, method: req.method, url: req.url }, "request failed");
          return send(res, 500, { error: "internal error" });
        } catch (inner) {
          logger.error({ err: inner }, "cannot answer a failed request");
          res.destroy();
        }
      });
    },
  );
  server.maxConnections = ctx.limits.maxConnections;
  server.headersTimeout = ctx.limits.headersTimeoutMs;
  server.requestTimeout = ctx.limits.requestTimeoutMs;
  server.keepAliveTimeout = ctx.limits.keepAliveTimeoutMs;
  server.on("clientError", (err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    else socket.destroy();
  });
  return server;
}

/** Listen, or fail with one clear error (the port is taken, the address is not this machine's). */
export async function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE")
      throw new ConfigError(`port ${port} on ${host} is already in use`, {
        hint: "another zkinfer serve (or another program) listens there: stop it, or choose --port <n> (0 = any free port)",
      });
    if (code === "EADDRNOTAVAIL" || code === "EACCES" || code === "ENOTFOUND")
      throw new ConfigError(`cannot listen on ${host}:${port} (${code})`, {
        hint: "--host must be an address of this machine; ports below 1024 need privileges",
      });
    throw e;
  }
  return server.address() as AddressInfo;
}
