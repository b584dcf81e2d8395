/**
 * The prover service in a process of its own for the bench, so that its peak RSS is the service's
 * and not the bench's (which also holds Hardhat and viem). Started by bench/service.ts with fork()
 * and driven over IPC: {start: ServiceConfig} -> {ready: {url}}; {stop: true} -> {stopped: true}.
 */
import { startService, type RunningService, type ServiceConfig } from "../prover/src/service/service.js";
import { createLogger } from "../prover/src/util/logger.js";

export type ChildRequest = { start: ServiceConfig } | { stop: true };
export type ChildReply = { ready: { url: string } } | { stopped: true } | { error: string };

let running: RunningService | undefined;
const reply = (m: ChildReply) => process.send!(m);

process.on("message", (msg: ChildRequest) => {
  void (async () => {
    try {
      if ("start" in msg) {
        running = await startService(msg.start, createLogger("warn", { component: "bench-service" }));
        reply({ ready: { url: running.url } });
      } else {
        await running?.stop();
        running = undefined;
        reply({ stopped: true });
        process.disconnect();
      }
    } catch (e) {
      reply({ error: (e as Error).stack ?? String(e) });
    }
  })();
});
process.on("disconnect", () => {
  // The bench went away: stop proving and exit (the EZKL workers die with this process).
  if (running) void running.stop().finally(() => process.exit(0));
  else process.exit(0);
});
