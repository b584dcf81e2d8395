/** The HTTP API's OpenAPI 3.1 description, served at /openapi.json. Keep it in step with server.ts. */
const jobSchema = {
  type: "object",
  required: ["id", "kind", "model", "state", "attempts", "createdAt"],
  properties: {
    id: { type: "string", format: "uuid" },
    kind: { type: "string", enum: ["chain", "offchain"] },
    requestId: { type: ["string", "null"], description: "on-chain request id (decimal) for chain jobs" },
    model: { type: "string" },
    modelId: { type: ["string", "null"] },
    version: { type: ["integer", "null"] },
    state: { type: "string", enum: ["queued", "proving", "proved", "submitting", "fulfilled", "done", "failed"] },
    attempts: { type: "integer", description: "proof attempts (claims) so far" },
    sendAttempts: { type: "integer", description: "fulfilment attempts that ended without a verdict" },
    failCode: { type: ["string", "null"], enum: ["not_served", "unservable", "expired", "rejected", "prove", "send", null] },
    leaseOwner: { type: ["string", "null"], description: "the node (and worker) proving it now" },
    leaseUntil: { type: ["integer", "null"], description: "ms since the epoch (the store's clock)" },
    error: { type: ["string", "null"], description: "why the job failed (or the last retryable error)" },
    inputFixed: {
      type: ["array", "null"],
      items: { type: "string" },
      description: "input as fixed-point integers (null for an off-chain job unless the API token is sent)",
    },
    result: {
      type: ["object", "null"],
      properties: {
        outputsFixed: { type: "array", items: { type: "string" } },
        outputsFloat: { type: "array", items: { type: "number" } },
        proof: {
          type: ["string", "null"],
          description: "0x-hex proof bytes (the verifier's `proof`); null for a chain job until its fulfilment landed",
        },
        instances: { type: ["array", "null"], items: { type: "string" }, description: "public instances (decimal uint256)" },
        proveMs: { type: "integer" },
        batch: {
          type: "object",
          description: "present when the job was proved in a batch (one proof, one fulfillBatch for several requests)",
          properties: {
            id: { type: "string", format: "uuid" },
            size: { type: "integer", description: "the batch size of the circuit proved (a registered variant)" },
            index: { type: "integer", description: "this job's block in the proof" },
            requestIds: {
              type: "array",
              items: { type: "string" },
              description: "every claimed block's request, in block order",
            },
          },
        },
      },
    },
    batchId: { type: ["string", "null"], description: "the batch the job was proved in (null: proved alone)" },
    terms: {
      type: ["object", "null"],
      description: "a chain job's request terms, as InferenceRequested logged them (integers as decimal strings)",
    },
    held: {
      type: ["object", "null"],
      description: "the last lock on the request the service saw: { locker, lockedAt (block), price (wei) }",
    },
    txHash: { type: ["string", "null"], description: "the fulfilment's transaction (shared by the jobs of one batch)" },
    createdAt: { type: "integer", description: "ms since the epoch" },
    finishedAt: { type: ["integer", "null"] },
  },
} as const;

const errorSchema = {
  type: "object",
  required: ["error"],
  properties: { error: { type: "string" }, hint: { type: "string" } },
} as const;

export const openApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "zkinfer prover service",
    version: "1",
    description:
      "Off-chain proof jobs and the state of on-chain requests the service is fulfilling. POST /jobs needs the API token " +
      "(Authorization: Bearer <token>); without one configured, off-chain jobs are off.",
  },
  components: { securitySchemes: { token: { type: "http", scheme: "bearer" } } },
  paths: {
    "/jobs": {
      post: {
        summary: "Submit an off-chain proof job",
        security: [{ token: [] }],
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: {
                type: "object",
                required: ["model", "input"],
                properties: {
                  model: { type: "string", description: "name of a model this service serves" },
                  input: { description: 'the input as numbers: a (nested) array, or {"input_data": [[...]]}' },
                },
              },
            },
          },
        },
        responses: {
          "202": { description: "accepted", content: { "application/json": { schema: jobSchema } } },
          "400": {
            description: "bad request (unknown model, wrong shape, out of range)",
            content: { "application/json": { schema: errorSchema } },
          },
          "401": { description: "no or wrong API token", content: { "application/json": { schema: errorSchema } } },
          "403": {
            description: "off-chain jobs are off (no API token configured)",
            content: { "application/json": { schema: errorSchema } },
          },
          "429": {
            description: "this client's quota of pending jobs is used up",
            content: { "application/json": { schema: errorSchema } },
          },
          "503": { description: "the off-chain queue is full", content: { "application/json": { schema: errorSchema } } },
        },
      },
      get: {
        summary: "List jobs, newest first",
        parameters: [
          { name: "state", in: "query", schema: { type: "string" } },
          { name: "kind", in: "query", schema: { type: "string", enum: ["chain", "offchain"] } },
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 1000 } },
        ],
        responses: {
          "200": { description: "jobs", content: { "application/json": { schema: { type: "array", items: jobSchema } } } },
        },
      },
    },
    "/jobs/{id}": {
      get: {
        summary: "One job's status and result",
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
        responses: {
          "200": { description: "the job", content: { "application/json": { schema: jobSchema } } },
          "404": { description: "no such job", content: { "application/json": { schema: errorSchema } } },
        },
      },
    },
    "/models": {
      get: {
        summary: "Served models: builds, vk hashes, shapes, scales, and the on-chain (modelId, version) each matched",
        responses: { "200": { description: "models" } },
      },
    },
    "/status": {
      get: {
        summary: "This node: readiness, leader, chain position, account balance, jobs by state (what `zkinfer status` prints)",
        responses: { "200": { description: "status" } },
      },
    },
    "/health": { get: { summary: "Liveness", responses: { "200": { description: "the process is up" } } } },
    "/ready": {
      get: {
        summary: "Readiness: models loaded, store open, chain reachable and followed",
        responses: { "200": { description: "ready" }, "503": { description: "not ready, with reasons" } },
      },
    },
    "/metrics": { get: { summary: "Prometheus metrics", responses: { "200": { description: "text exposition format" } } } },
    "/openapi.json": { get: { summary: "This document", responses: { "200": { description: "OpenAPI 3.1" } } } },
  },
} as const;
