import type { Logger } from "../util/logger.js";
import type { ServiceMetrics } from "./metrics.js";
import type { JobStore } from "./store.js";
import { sleep } from "./watcher.js";

export interface LeadershipContext {
  store: JobStore;
  logger: Logger;
  metrics: ServiceMetrics;
  signal: AbortSignal;
  nodeId: string;
  leaseMs: number;
  /** Run while this node leads; `signal` aborts when it stops leading (or the service stops). */
  lead: (signal: AbortSignal) => Promise<void>;
}

export const LEADER_LEASE = "leader";

/**
 * Leader election on the job store: the leader holds the "leader" lease and renews it every third
 * of its length; when it dies, its lease lapses and another node takes over (at most one lease after
 * the last renewal). This node counts itself leader only until its last successful renewal's lease
 * would end by its own clock (measured from before the renewal was sent), minus a margin, so a
 * deposed leader stops before another can start. A graceful stop releases the lease at once.
 */
export function createLeadership(ctx: LeadershipContext) {
  const logger = ctx.logger.child({ component: "leader" });
  let validUntil = 0;
  let term: AbortController | undefined;
  let running: Promise<void> | undefined;
  const isLeader = () => term !== undefined && !term.signal.aborted && performance.now() < validUntil;

  function depose(why: string) {
    if (!term) return;
    logger.warn({ node: ctx.nodeId, why }, "no longer the leader; stopped watching and sending");
    term.abort();
    term = undefined;
    ctx.metrics.isLeader.set({}, 0);
  }

  async function loop(): Promise<void> {
    const every = Math.max(100, Math.floor(ctx.leaseMs / 3));
    const margin = Math.min(1000, Math.floor(ctx.leaseMs / 5));
    while (!ctx.signal.aborted) {
      const sentAt = performance.now();
      try {
        const held = await ctx.store.acquireLease(LEADER_LEASE, ctx.nodeId, ctx.leaseMs);
        if (held) {
          validUntil = sentAt + ctx.leaseMs - margin;
          if (!term) {
            const t = new AbortController();
            term = t;
            ctx.metrics.isLeader.set({}, 1);
            logger.info({ node: ctx.nodeId }, "leading the fleet: watching the chain and sending fulfilments");
            running = ctx.lead(t.signal).catch((e: Error) => {
              logger.error({ err: e.message }, "the leader's loops failed; handing leadership over");
              if (term === t) depose("its loops failed");
            });
          }
        } else depose("another node holds the lease");
      } catch (e) {
        logger.warn({ err: (e as Error).message }, "cannot renew leadership in the store");
        if (performance.now() >= validUntil) depose("the lease could not be renewed in time");
      }
      await sleep(every, ctx.signal);
    }
    const was = term;
    depose("the service is stopping");
    await running;
    if (was) await ctx.store.releaseLease(LEADER_LEASE, ctx.nodeId).catch(() => undefined);
  }

  return { start: () => loop(), isLeader };
}
