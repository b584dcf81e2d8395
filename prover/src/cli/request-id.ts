import { UserInputError } from "../errors.js";

/** A request id as `zkinfer request` prints it (decimal), or as 0x + hex (a uint256: the hash of its terms). */
export function parseRequestId(idArg: string): bigint {
  if (/^\d+$/.test(idArg) || /^0x[0-9a-fA-F]{1,64}$/.test(idArg)) {
    const id = BigInt(idArg);
    if (id > 0n && id < 1n << 256n) return id;
  }
  throw new UserInputError(`<requestId> must be a request number, not '${idArg}'`, {
    hint: "`zkinfer request` prints the id of each request it submits (decimal; 0x + hex is taken too)",
  });
}

/** `--from-block <n>`: where the search for a request's logs starts. */
export function parseFromBlock(v: string | undefined): bigint | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v))
    throw new UserInputError(`--from-block must be a block number, not '${v}'`, {
      hint: "the block the request was made in, or any earlier one (`zkinfer request` prints it)",
    });
  return BigInt(v);
}
