import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isZkinferError } from "../errors.js";
import { parseInput } from "../models/input.js";
import type { Logger } from "../util/logger.js";
import { ModelCatalog } from "./catalog.js";
import type { ServiceMetrics } from "./metrics.js";
import { openApiDocument } from "./openapi.js";
import { JOB_STATES, type JobKind, type JobState, type JobStore } from "./store.js";

export interface ServerContext {
  store: JobStore;
  catalog: ModelCatalog;
  metrics: ServiceMetrics;
  logger: Logger;
  wake: EventTarget;
  /** Reasons the service is not ready (empty = ready). */
  readiness: () => string[];
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

/** The HTTP API (loopback by default): off-chain jobs, job status, health, readiness, metrics, OpenAPI. */
export function createHttpServer(ctx: ServerContext): Server {
  const logger = ctx.logger.child({ component: "http" });
  return createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const route = `${req.method} ${url.pathname}`;
    void (async () => {
      try {
        if (route === "GET /health") return send(res, 200, { status: "ok" });
        if (route === "GET /ready") {
          const reasons = ctx.readiness();
          return send(res, reasons.length ? 503 : 200, { ready: reasons.length === 0, reasons });
        }
        if (route === "GET /metrics") return send(res, 200, ctx.metrics.registry.render(), "text/plain; version=0.0.4");
        if (route === "GET /openapi.json") return send(res, 200, openApiDocument);
        if (route === "GET /jobs") {
          const state = url.searchParams.get("state") ?? undefined;
          const kind = url.searchParams.get("kind") ?? undefined;
          if (state && !JOB_STATES.includes(state as JobState))
            throw new HttpError(400, `unknown state '${state}'`, `one of ${JOB_STATES.join(", ")}`);
          if (kind && kind !== "chain" && kind !== "offchain")
            throw new HttpError(400, `unknown kind '${kind}'`, "chain or offchain");
          const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get("limit") ?? 100) || 100));
          return send(
            res,
            200,
            ctx.store.list({ ...(state ? { state: state as JobState } : {}), ...(kind ? { kind: kind as JobKind } : {}), limit }),
          );
        }
        const m = /^\/jobs\/([^/]+)$/.exec(url.pathname);
        if (req.method === "GET" && m) {
          const job = ctx.store.get(decodeURIComponent(m[1]!));
          if (!job) throw new HttpError(404, `no job ${m[1]}`);
          return send(res, 200, job);
        }
        if (route === "POST /jobs") {
          const body = (await readJson(req)) as { model?: unknown; input?: unknown };
          if (typeof body?.model !== "string")
            throw new HttpError(400, '"model" is required', `served models: ${ctx.catalog.names().join(", ")}`);
          const served = ctx.catalog.get(body.model);
          if (!served)
            throw new HttpError(
              400,
              `model '${body.model}' is not served here`,
              `served models: ${ctx.catalog.names().join(", ")}`,
            );
          const input = parseInput(body.input, served.model.manifest, '"input"');
          ModelCatalog.validateInput(served, input.fixed);
          const { job } = ctx.store.insert({ kind: "offchain", model: body.model, inputFixed: input.fixed.map(String) });
          ctx.wake.dispatchEvent(new Event("job"));
          logger.info({ job: job.id, model: job.model }, "off-chain job queued");
          return send(res, 202, job);
        }
        throw new HttpError(404, `no route ${route}`, "see /openapi.json");
      } catch (e) {
        if (e instanceof HttpError) return send(res, e.status, { error: e.message, ...(e.hint ? { hint: e.hint } : {}) });
        if (isZkinferError(e)) return send(res, 400, { error: e.shortMessage, ...(e.hint ? { hint: e.hint } : {}) });
        logger.error({ err: e, route }, "request failed");
        return send(res, 500, { error: "internal error" });
      }
    })();
  });
}

export async function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server.address() as AddressInfo;
}
