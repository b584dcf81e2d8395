import { createServer, connect, type Server, type Socket } from "node:net";

/**
 * A TCP proxy on 127.0.0.1 in front of a JSON-RPC node. stop() closes the port and cuts every open
 * connection, as a node going down would; start() listens again on the same port. Lets a test take
 * the RPC endpoint away from the service and bring it back without losing the chain's state.
 */
export class TcpProxy {
  private server: Server | undefined;
  private sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export interface RpcCall {
  id: unknown;
  method: string;
  params: unknown[];
}
/** What a rule answers instead of the node: a JSON-RPC error, or undefined to forward the call. */
export type RpcRule = (call: RpcCall) => { code: number; message: string } | undefined;

/**
 * A JSON-RPC proxy on 127.0.0.1 in front of a node that answers some calls with an error instead of
 * forwarding them, the way real providers refuse large getLogs ranges or fail a call now and then.
 * `refused` counts the calls each rule answered.
 */
export class RpcProxy {
  private server: import("node:http").Server | undefined;
  port = 0;
  refused = 0;

  constructor(
    private readonly target: string,
    public rule: RpcRule,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const { createServer: createHttp } = await import("node:http");
    this.server = createHttp((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        void (async () => {
          const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as RpcCall | RpcCall[];
          const calls = Array.isArray(body) ? body : [body];
          const answers = await Promise.all(
            calls.map(async (call) => {
              const error = this.rule(call);
              if (error) {
                this.refused += 1;
                return { jsonrpc: "2.0", id: call.id, error };
              }
              const r = await fetch(this.target, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify(call),
              });
              return r.json();
            }),
          );
          const text = JSON.stringify(Array.isArray(body) ? answers : answers[0]);
          res.writeHead(200, { "content-type": "application/json" });
          res.end(text);
        })().catch(() => {
          res.writeHead(502);
          res.end();
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", () => resolve()));
    this.port = (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    s?.closeAllConnections();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
