import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import {
  EngineCrashedError,
  EngineStartError,
  EngineTimeoutError,
  EzklError,
  FileNotFoundError,
  InvalidModelError,
  type ZkinferError,
} from "../errors.js";
import { silentLogger, type Logger } from "../util/logger.js";
import { packageRoot, projectRoot } from "../util/paths.js";
import { ezklHint } from "./ezkl-hints.js";

export interface WorkerOptions {
  /** Python interpreter that has `ezkl` installed. Default: ZKINFER_PYTHON or <repo>/.venv/bin/python. */
  python?: string;
  /** Per-call timeout in ms unless the call gives its own. Default: ZKINFER_ENGINE_TIMEOUT_MS or 30 min. */
  timeoutMs?: number;
  logger?: Logger;
}

interface Pending {
  op: string;
  resolve: (value: unknown) => void;
  reject: (error: ZkinferError) => void;
  timer: NodeJS.Timeout;
}

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: WorkerErrorReply;
  ms?: number;
}

const WORKER_SCRIPT = resolve(packageRoot, "python/worker.py");
const live = new Set<WorkerProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Belt and braces beside PR_SET_PDEATHSIG in the worker: no prover outlives its client.
  process.on("exit", () => {
    for (const w of live) w.kill();
  });
}

/**
 * One Python worker process and the request/reply protocol with it. Calls are sent in order and the
 * worker answers them in order. If the process dies, every pending call fails with
 * EngineCrashedError and the next call starts a fresh process; a call that overruns its timeout kills
 * the process (EZKL cannot be interrupted) and fails with EngineTimeoutError.
 */
export class WorkerProcess {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly python: string;
  private readonly timeoutMs: number;
  private readonly logger: Logger;
  /** How many processes this client has started (1 + restarts). */
  starts = 0;

  constructor(options: WorkerOptions = {}) {
    this.python = options.python ?? process.env.ZKINFER_PYTHON ?? resolve(projectRoot, ".venv/bin/python");
    this.timeoutMs = options.timeoutMs ?? Number(process.env.ZKINFER_ENGINE_TIMEOUT_MS ?? 30 * 60_000);
    this.logger = options.logger ?? silentLogger;
    installExitHook();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private start(): ChildProcess {
    if (!existsSync(this.python)) {
      throw new EngineStartError(`Python for the EZKL worker not found at ${this.python}`, {
        hint: "run `npm run setup` (it creates .venv with EZKL), or set ZKINFER_PYTHON",
      });
    }
    const child = spawn(this.python, ["-u", WORKER_SCRIPT], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, PYTHONUNBUFFERED: "1", RUST_LOG: process.env.RUST_LOG ?? "error" },
    });
    this.starts += 1;
    this.child = child;
    live.add(this);
    this.logger.debug({ pid: child.pid, python: this.python }, "ezkl worker started");

    createInterface({ input: child.stdout! }).on("line", (line) => this.onLine(line));
    createInterface({ input: child.stderr! }).on("line", (line) => {
      if (line.trim()) this.logger.debug({ worker: child.pid, stderr: line }, "ezkl worker output");
    });
    child.stdin!.on("error", () => {}); // EPIPE when the worker died; the exit handler reports it
    child.on("error", (err) => this.onExit(child, null, null, err));
    child.on("exit", (code, signal) => this.onExit(child, code, signal));
    return child;
  }

  private onLine(line: string): void {
    let reply: Reply;
    try {
      reply = JSON.parse(line) as Reply;
    } catch {
      this.logger.warn({ line }, "ezkl worker wrote a line that is not protocol JSON");
      return;
    }
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    clearTimeout(p.timer);
    if (reply.ok) {
      this.logger.debug({ op: p.op, ms: reply.ms }, "ezkl call done");
      p.resolve(reply.result);
    } else {
      p.reject(mapWorkerError(p.op, reply.error ?? { type: "EzklError", message: "no error text" }));
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, err?: Error): void {
    if (this.child !== child) return;
    this.child = undefined;
    live.delete(this);
    if (this.pending.size > 0) {
      this.logger.warn({ pid: child.pid, code, signal, pending: this.pending.size }, "ezkl worker died with calls pending");
    }
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(
        err
          ? new EngineStartError(`could not start the EZKL worker: ${err.message}`, { cause: err })
          : new EngineCrashedError(p.op, code, signal),
      );
    }
  }

  /** Send one request; resolves with the worker's result. */
  call<T>(op: string, args: Record<string, unknown> = {}, timeoutMs?: number): Promise<T> {
    const child = this.child ?? this.start();
    const id = this.nextId++;
    const limit = timeoutMs ?? this.timeoutMs;
    return new Promise<T>((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.has(id)) return;
        this.pending.delete(id);
        this.logger.warn({ op, limit, pid: child.pid }, "ezkl call timed out; stopping the worker");
        reject(new EngineTimeoutError(op, limit));
        this.kill(); // the worker is busy in Rust and cannot be interrupted; others pending fail as crashed
      }, limit);
      this.pending.set(id, { op, resolve: resolvePromise as (v: unknown) => void, reject, timer });
      child.stdin!.write(JSON.stringify({ id, op, args }) + "\n");
    });
  }

  /** Stop the process now (SIGKILL). Pending calls fail with EngineCrashedError. */
  kill(): void {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }

  /** Close stdin and wait for a clean exit (killed after a grace period). */
  async close(graceMs = 2000): Promise<void> {
    const child = this.child;
    if (!child) return;
    await new Promise<void>((done) => {
      const t = setTimeout(() => {
        child.kill("SIGKILL");
      }, graceMs);
      child.once("exit", () => {
        clearTimeout(t);
        done();
      });
      child.stdin!.end();
    });
  }
}

/** A failed call as the worker reports it; `hint` is set where the worker knows what to do. */
interface WorkerErrorReply {
  type: string;
  message: string;
  hint?: string;
}

function mapWorkerError(op: string, error: WorkerErrorReply): ZkinferError {
  switch (error.type) {
    case "FileNotFound": {
      const path = error.message.split(": ").slice(1).join(": ");
      const what = error.message.split(" not found")[0] ?? "file";
      return new FileNotFoundError(path, what);
    }
    case "InvalidModel":
      return new InvalidModelError(error.message, {
        hint: error.hint ?? "export the model again as a standard ONNX file with plain tensor inputs and outputs",
      });
    default:
      return new EzklError(op, error.message, { hint: error.hint ?? ezklHint(op, error.message) });
  }
}
