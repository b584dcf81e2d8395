import type { Command } from "commander";
import { formatEther, getAddress, isHex, parseEther, type Hex } from "viem";
import { connectChain } from "../../chain/clients.js";
import { loadChainConfig } from "../../chain/config.js";
import { withDeployment } from "../../chain/deployments.js";
import { inferenceCoordinatorAbi, modelRegistryAbi } from "../../chain/abis.js";
import { ConfigError, UserInputError } from "../../errors.js";
import { readInputFile } from "../../models/input.js";
import {
  deadlineIn,
  decodeOutputs,
  getRegisteredVersion,
  modelIdOf,
  requestInference,
  settleRequest,
  waitForInference,
  withdrawCredit,
} from "../../sdk/inference.js";
import { RequestNotFoundError, requestArgs } from "../../sdk/terms.js";
import { coordinatorClients } from "./prover.js";
import { registerRequestStatus } from "./request-status.js";
import { parseFromBlock, parseRequestId } from "../request-id.js";
import type { CliContext } from "../context.js";
import { fmtFloats, table, toJson } from "../format.js";

export function registerRequest(program: Command, _ctx: CliContext): void {
  const request = program
    .command("request")
    .summary("request a verified inference on-chain and wait for the result")
    .description(
      "request a verified inference on-chain from the configured account and wait for the result. " +
        "RPC and key come from ZKINFER_RPC_URL / ZKINFER_PRIVATE_KEY or zkinfer.config.json; the coordinator from the " +
        "deployment record deploy/deployments/<chainId>.json (or ZKINFER_COORDINATOR)",
    )
    .argument("<model>", "a model id (0x + 64 hex) or the name a model was registered under (see --owner)")
    .argument(
      "<input>",
      'input JSON: {"input_data": [[...]]}, {"input": [...]} or a plain array (floats; encoded at the version\'s input scale)',
    )
    .option("--owner <address>", "the account that registered <model> by name (default: ZKINFER_MODEL_OWNER, else the signer)")
    .option("--version <n>", "the model version to pin (default: the latest active version now, resolved and pinned)")
    .option("--latest", "send version 0: let the chain pick the latest active version when the request is mined")
    .option("--fee <eth>", "the (maximum) price for the prover, in ETH; escrowed", "0")
    .option(
      "--min-price <eth>",
      "start a reverse Dutch auction at this price, rising to --fee over --ramp seconds (default: fixed at --fee)",
    )
    .option("--ramp <seconds>", "seconds over which the price rises from --min-price to --fee", "0")
    .option("--lock-timeout <seconds>", "seconds during which a prover may lock the request (default: a third of --deadline)")
    .option("--collateral <eth>", "collateral a locker must put up, lost if it has not fulfilled by the lock deadline", "0")
    .option("--deadline <seconds>", "seconds from now until the request expires (then refundable)", "600")
    .option("--no-wait", "submit and print the request id without waiting for the result")
    .option("--timeout <seconds>", "how long to wait for the fulfilment", "600")
    .option("--json", "print the result as JSON")
    .action(async (modelArg: string, inputPath: string, opts) => {
      const config = await withDeployment(loadChainConfig());
      if (!config.coordinator) {
        throw new ConfigError("no InferenceCoordinator address configured", {
          hint: 'deploy the suite with `zkinfer deploy` (it writes deploy/deployments/<chainId>.json), or set ZKINFER_COORDINATOR=0x... or "coordinator" in zkinfer.config.json',
        });
      }
      const version = opts.version === undefined ? 0 : Number(opts.version);
      if (!Number.isInteger(version) || version < 0 || (opts.version !== undefined && version === 0))
        throw new UserInputError(`--version must be a version number (1, 2, ...), not '${opts.version}'`, {
          hint: "omit --version to pin the latest active version, or pass --latest to let the chain pick",
        });
      if (opts.latest && opts.version !== undefined)
        throw new UserInputError("--latest and --version exclude each other", { hint: "pin a version, or ask for the latest" });
      let fee: bigint;
      try {
        fee = parseEther(String(opts.fee));
      } catch {
        throw new UserInputError(`--fee must be an amount of ETH such as 0.001, not '${opts.fee}'`);
      }
      const deadlineSec = Number(opts.deadline);
      if (!Number.isFinite(deadlineSec) || deadlineSec <= 0)
        throw new UserInputError(`--deadline must be a positive number of seconds`);

      const clients = await connectChain(config);
      const { publicClient, walletClient, account } = clients;
      const registry = await publicClient.readContract({
        address: config.coordinator,
        abi: inferenceCoordinatorAbi,
        functionName: "registry",
      });
      let modelId: Hex;
      if (isHex(modelArg) && modelArg.length === 66) modelId = modelArg;
      else {
        const owner = (opts.owner ?? process.env.ZKINFER_MODEL_OWNER ?? account.address) as Hex;
        modelId = modelIdOf(owner, modelArg);
      }
      const exists = await publicClient.readContract({
        address: registry,
        abi: modelRegistryAbi,
        functionName: "modelExists",
        args: [modelId],
      });
      if (!exists) {
        throw new UserInputError(`model '${modelArg}' (id ${modelId}) is not registered in ${registry}`, {
          hint: "pass the model id, or --owner <the account that registered it>",
        });
      }
      const target = await getRegisteredVersion(publicClient, registry, modelId, version);
      process.stderr.write(
        `[request] ${opts.latest ? "latest (chosen on-chain; now" : "pinned"} version ${target.version}${opts.latest ? ")" : ""}, SRS ${target.srs}${target.srs === "dev" ? " (generated on the build machine: not for production)" : ""}\n`,
      );
      const input = await readInputFile(inputPath, target.input);
      const submitted = await requestInference(walletClient, publicClient, {
        coordinator: config.coordinator,
        modelId,
        version: opts.latest ? 0 : target.version,
        input: input.fixed,
        fee,
        ...marketTerms(opts),
        deadline: await deadlineIn(publicClient, deadlineSec),
      });
      process.stderr.write(
        `[request] request ${submitted.requestId} submitted (tx ${submitted.txHash}); waiting for a prover...\n`,
      );
      if (!opts.wait) {
        if (opts.json) console.log(toJson(submitted));
        else
          console.log(
            table([
              ["requestId", String(submitted.requestId)],
              ["tx", submitted.txHash],
              ["block", String(submitted.blockNumber)],
              ["gas", String(submitted.gasUsed)],
            ]),
          );
        return;
      }
      const t0 = Date.now();
      const result = await waitForInference(publicClient, {
        coordinator: config.coordinator,
        requestId: submitted.requestId,
        fromBlock: submitted.blockNumber,
        terms: submitted.terms,
        timeoutMs: Number(opts.timeout) * 1000,
      });
      const floats = decodeOutputs(result.outputs, target.outputScale);
      if (opts.json) {
        console.log(
          toJson({
            ...result,
            outputsFloat: floats,
            outputScale: target.outputScale,
            request: submitted,
            waitedMs: Date.now() - t0,
          }),
        );
        return;
      }
      console.log(
        table([
          ["model", `${target.input.model} v${result.version} (${modelId})`],
          ["SRS", target.srs],
          ["request", `${submitted.requestId} (tx ${submitted.txHash}, gas ${submitted.gasUsed})`],
          ["verified outputs", fmtFloats(floats)],
          [`fixed (scale ${target.outputScale})`, `[${result.outputs.join(", ")}]`],
          [
            "fulfilled by",
            `${result.fulfiller} in tx ${result.txHash} (${((Date.now() - t0) / 1000).toFixed(1)} s after the request)`,
          ],
          ["proof hash", result.proofHash],
        ]),
      );
    });
  request
    .command("cancel")
    .description(
      "cancel one of the configured account's requests that no prover has locked, and withdraw its escrow " +
        "(the coordinator credits it back; the account's whole coordinator balance is withdrawn)",
    )
    .argument("<requestId>", "the request id `zkinfer request` printed")
    .option("--from-block <n>", "search the request's InferenceRequested log from this block (default: 0)")
    .action((id: string, opts: { fromBlock?: string }) => settle("cancel", id, opts));
  request
    .command("refund")
    .description(
      "refund a request past its deadline (or any open request while fulfilments are paused); anyone may, the escrow " +
        "goes to its requester (withdrawn at once when that is the configured account). A lapsed lock's collateral goes with it",
    )
    .argument("<requestId>", "the request id")
    .option("--from-block <n>", "search the request's logs from this block (default: 0)")
    .action((id: string, opts: { fromBlock?: string }) => settle("refund", id, opts));
  registerRequestStatus(request);
}

/** `zkinfer request cancel|refund <id>`: checks the request first, so each user mistake gets one line and a hint. */
async function settle(action: "cancel" | "refund", idArg: string, opts: { fromBlock?: string }): Promise<void> {
  const requestId = parseRequestId(idArg);
  const fromBlock = parseFromBlock(opts.fromBlock);
  const c = await coordinatorClients();
  const where = { coordinator: c.coordinator, requestId, ...(fromBlock === undefined ? {} : { fromBlock }) };
  const [found, [, fulfilmentsPaused], head] = await Promise.all([
    // The terms are in the request's InferenceRequested log; the coordinator keeps only their hash.
    requestArgs(c.publicClient, where).catch((e: unknown) => {
      if (e instanceof RequestNotFoundError) return undefined;
      throw e;
    }),
    c.publicClient.readContract({ address: c.coordinator, abi: inferenceCoordinatorAbi, functionName: "paused" }),
    c.publicClient.getBlock({ blockTag: "latest" }),
  ]);
  if (!found)
    throw new UserInputError(`request ${requestId} does not exist on the coordinator ${c.coordinator}`, {
      hint: `check the id, and that ZKINFER_RPC_URL / the deployment record point at the chain you requested on${fromBlock === undefined ? "" : " (and that --from-block is not past the request)"}`,
    });
  const { terms, held, status } = found;
  const when = (sec: bigint | number) => new Date(Number(sec) * 1000).toISOString();
  // The coordinator compares the deadline with block.timestamp: the chain's clock, not this machine's.
  const now = head.timestamp;
  if (status === "fulfilled")
    throw new UserInputError(`request ${requestId} is already fulfilled; there is nothing to ${action}`, {
      hint: `its verified result is in the InferenceFulfilled event of request ${requestId} (SDK: waitForInference, readReceipt, verifyReceipt)`,
    });
  if (status === "refunded" || status === "cancelled")
    throw new UserInputError(`request ${requestId} was already ${status}`, {
      hint: `its escrow is in the requester's coordinator balance: zkinfer prover balance ${terms.requester}`,
    });
  const me = c.account.address;
  if (action === "cancel") {
    if (getAddress(terms.requester) !== getAddress(me))
      throw new UserInputError(`only the requester ${terms.requester} can cancel request ${requestId}, not ${me}`, {
        hint: "sign with the requester's key (ZKINFER_PRIVATE_KEY), or wait for the deadline and refund it",
      });
    if (status === "locked")
      throw new UserInputError(
        `request ${requestId} is locked by prover ${held.locker} until ${when(terms.lockDeadline)}; a locked request cannot be cancelled`,
        {
          hint: `if it is not fulfilled by its deadline (${when(terms.deadline)}), refund it then: zkinfer request refund ${requestId}`,
        },
      );
  } else if (terms.deadline >= now && !fulfilmentsPaused)
    throw new UserInputError(
      `request ${requestId} is ${status} until its deadline ${when(terms.deadline)}; it can be refunded after that`,
      {
        hint: status === "open" ? `to take the escrow back now: zkinfer request cancel ${requestId}` : "wait for the deadline",
      },
    );
  const settled = await settleRequest(c.walletClient, c.publicClient, { ...where, action, terms });
  console.log(
    `${action === "cancel" ? "cancelled" : "refunded"} request ${requestId} (tx ${settled.txHash}): ${formatEther(settled.amount)} ETH credited to ${settled.requester}`,
  );
  if (getAddress(settled.requester) === getAddress(me)) {
    const w = await withdrawCredit(c.walletClient, c.publicClient, c.coordinator);
    if (w.txHash) console.log(`withdrew ${formatEther(w.amount)} ETH to ${me} (tx ${w.txHash})`);
  }
}

/** The request's market terms from the CLI flags (see IInferenceCoordinator's rules). */
function marketTerms(opts: { minPrice?: string; ramp: string; lockTimeout?: string; collateral: string }) {
  const eth = (v: string, flag: string) => {
    try {
      return parseEther(v);
    } catch {
      throw new UserInputError(`${flag} must be an amount of ETH such as 0.001, not '${v}'`, { hint: "pass ETH, e.g. 0.001" });
    }
  };
  const seconds = (v: string, flag: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new UserInputError(`${flag} must be a whole number of seconds, not '${v}'`, { hint: "e.g. 60" });
    return n;
  };
  return {
    ...(opts.minPrice !== undefined ? { minPrice: eth(opts.minPrice, "--min-price") } : {}),
    rampPeriod: seconds(opts.ramp, "--ramp"),
    ...(opts.lockTimeout !== undefined ? { lockTimeout: seconds(opts.lockTimeout, "--lock-timeout") } : {}),
    lockCollateral: eth(opts.collateral, "--collateral"),
  };
}
