import type { Command } from "commander";
import { ConfigError } from "../../errors.js";
import { SERVICE_DEFAULTS } from "../../service/defaults.js";
import type { CliContext } from "../context.js";

interface Status {
  ready: boolean;
  reasons: string[];
  node: string;
  version: string;
  models: string[];
  jobs: Record<string, number>;
  store: { backend: string; location: string };
  leader: { thisNode: boolean; holder: { owner: string; remainingMs: number } | null } | null;
  chain: { chainId: number; coordinator: string; prover: string; lastBlock: string | null; lagBlocks: number | null } | null;
  proverBalanceWei: number | null;
}

/** `zkinfer status`: one running service's state, read from its HTTP API (GET /status). */
export function registerStatus(program: Command, _ctx: CliContext): void {
  program
    .command("status")
    .description("summarise a running `zkinfer serve`: readiness, leader, chain position, jobs by state, served models")
    .option("--url <url>", "the service's HTTP API", `http://${SERVICE_DEFAULTS.host}:${SERVICE_DEFAULTS.port}`)
    .option("--json", "print the status as JSON")
    .action(async (opts: { url: string; json?: boolean }) => {
      let s: Status;
      try {
        const res = await fetch(new URL("/status", opts.url), { signal: AbortSignal.timeout(10_000) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        s = (await res.json()) as Status;
      } catch (e) {
        throw new ConfigError(`no zkinfer service answers at ${opts.url}: ${(e as Error).message}`, {
          hint: "start one with `zkinfer serve`, or pass --url http://<host>:<port> (see its 'listening on' line)",
        });
      }
      if (opts.json) {
        console.log(JSON.stringify(s, null, 2));
        return;
      }
      const lines = [
        `node      ${s.node} (zkinfer ${s.version})`,
        `ready     ${s.ready ? "yes" : `no: ${s.reasons.join("; ")}`}`,
        `store     ${s.store.backend} ${s.store.location}`,
        `models    ${s.models.join(", ") || "(none loaded yet)"}`,
        `jobs      ${Object.entries(s.jobs)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")}`,
      ];
      if (s.leader)
        lines.push(
          `leader    ${s.leader.thisNode ? "this node" : (s.leader.holder?.owner ?? "none")}${s.leader.holder ? ` (lease ${Math.max(0, Math.round(s.leader.holder.remainingMs / 1000))} s left)` : ""}`,
        );
      if (s.chain)
        lines.push(
          `chain     ${s.chain.chainId}, coordinator ${s.chain.coordinator}, last block ${s.chain.lastBlock ?? "-"} (lag ${s.chain.lagBlocks ?? "-"})`,
          `prover    ${s.chain.prover}${s.proverBalanceWei !== null ? `, balance ${s.proverBalanceWei / 1e18} ETH` : ""}`,
        );
      console.log(lines.join("\n"));
      if (!s.ready) process.exitCode = 1;
    });
}
