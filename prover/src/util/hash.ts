import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/** sha256 of a file, hex without 0x, streamed so proving keys (hundreds of MB) do not sit in memory. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
