/**
 * Which circuit proves a group of pending requests of one (model, version): the batch-1 circuit (the `fulfill`
 * path) or one of the version's batch variants (`fulfillBatch`). The one place that holds the gas model and the
 * prove-time estimate the service plans with.
 *
 * Gas model (the suite verifier measured on digits-mlp, 64 inputs + 10 outputs = 74 instances an inference, at
 * batch 1/4/8/16: 623k/232k/167k/135k of verification per inference): a verification costs about
 * `VERIFY_FIXED_GAS` plus `PER_INSTANCE_GAS` for each public instance of the circuit proved — padding blocks
 * included — and each request the transaction fulfils adds `PER_REQUEST_GAS` (receipt, event, payment; its
 * callback's gas is the same whichever way it is fulfilled, so it does not enter the choice). A batch of size
 * `b` fulfilling `m <= b` requests of a model with `n` instances an inference costs
 *
 *     VERIFY_FIXED_GAS + PER_INSTANCE_GAS * b * n + PER_REQUEST_GAS * m.
 *
 * Plan: the cheapest way to fulfil all `k` pending requests — a partition into batches, each of a size that is
 * registered on-chain for the version, built locally, at most `--max-batch`, and fast enough to prove before the
 * most urgent request's deadline — by total gas (a small exact search: k <= 64). The batch taken now is the
 * plan's largest, filled with the most urgent requests; the rest go back to the queue and are planned again when
 * claimed (with whatever arrived meanwhile).
 */
// Fitted in `npm run bench -- --batch-only` (bench/results/2026-12-02-batch.md: least squares through batch
// 1, 4, 8 and 16 of mined transactions: the bare verifyProof ≈ 503,941 + 1,086.4 per instance, fulfillBatch minus
// it ≈ -6,788 + 24,562 per request). The per-request term does not change which plan is cheapest (every plan
// fulfils the same requests); it only makes the logged gas per request right.
export const VERIFY_FIXED_GAS = 497_200;
export const PER_INSTANCE_GAS = 1_086;
export const PER_REQUEST_GAS = 24_600;

/** The modelled gas of one fulfilment: a circuit of batch size `size` settling `requests` requests. */
export function batchGas(size: number, requests: number, instancesPerInference: number): number {
  return VERIFY_FIXED_GAS + PER_INSTANCE_GAS * size * instancesPerInference + PER_REQUEST_GAS * requests;
}

/**
 * Prove-time estimate (ms) for a batch of `size`: the moving average this process measured for that circuit;
 * else `size` times the batch-1 proof's measured time (conservative: a batch-N circuit has at most N times the
 * rows, and EZKL's proving time grows no faster than its rows — batch 8 of digits-mlp measured 5.7 s); else
 * `size` times `UNMEASURED_PROVE_MS`.
 */
export const UNMEASURED_PROVE_MS = 20_000;
export const proofTimeKey = (model: string, size: number) => (size === 1 ? model : `${model}@batch-${size}`);

export function estimateProveMs(proofTimes: ReadonlyMap<string, number>, model: string, size: number): number {
  const measured = proofTimes.get(proofTimeKey(model, size));
  if (measured !== undefined) return measured;
  return size * (proofTimes.get(model) ?? UNMEASURED_PROVE_MS);
}

export interface BatchChoice {
  /** The circuit's batch size (1: the version's own circuit, the single `fulfill` path). */
  size: number;
  /** How many of the group's requests (the most urgent) it takes. */
  take: number;
  /** The modelled gas per request of this batch. */
  gasPerRequest: number;
  /** The whole plan for the group, batch by batch (sizes and requests), for the logs. */
  plan: { size: number; take: number }[];
  /** Sizes left out because their estimated proof would finish after the most urgent deadline. */
  tooSlow: number[];
}

/**
 * The batch to prove now for `pending` requests (see the module comment). `sizes`: the usable batch sizes (1 is
 * always usable). `secondsLeft`: until the most urgent request's deadline, less the sending margin; a size whose
 * estimated proof does not fit is not used (batch 1 is kept even then: the single path decides what to do with a
 * request that is too late).
 */
export function chooseBatch(opts: {
  pending: number;
  sizes: readonly number[];
  instancesPerInference: number;
  estimateMs: (size: number) => number;
  secondsLeft: number;
}): BatchChoice {
  const tooSlow = opts.sizes.filter((b) => b > 1 && opts.estimateMs(b) / 1000 > opts.secondsLeft);
  const usable = [...new Set([1, ...opts.sizes.filter((b) => b >= 1 && !tooSlow.includes(b))])].sort((a, b) => a - b);
  const k = opts.pending;
  // cost[n]: least gas to fulfil n requests; pick[n]: the batch (size, requests) that starts that plan.
  const cost = [0];
  const pick: { size: number; take: number }[] = [{ size: 1, take: 0 }];
  for (let n = 1; n <= k; n++) {
    let best = Infinity;
    let choice = { size: 1, take: 1 };
    for (const size of usable)
      for (let take = 1; take <= Math.min(size, n); take++) {
        const c = batchGas(size, take, opts.instancesPerInference) + cost[n - take]!;
        if (c < best) [best, choice] = [c, { size, take }];
      }
    cost.push(best);
    pick.push(choice);
  }
  const plan: { size: number; take: number }[] = [];
  for (let n = k; n > 0; n -= pick[n]!.take) plan.push(pick[n]!);
  plan.sort((a, b) => b.take - a.take || b.size - a.size);
  const first = plan[0] ?? { size: 1, take: 0 };
  return {
    ...first,
    gasPerRequest: first.take ? Math.round(batchGas(first.size, first.take, opts.instancesPerInference) / first.take) : 0,
    plan,
    tooSlow,
  };
}
