/** Poll `fn` until it returns a value (not undefined/false), for at most `ms`; then fail naming `what`. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  ms: number,
  log?: () => string,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end)
      throw new Error(`timed out after ${ms} ms waiting for ${what}${log ? `\n--- log ---\n${log().slice(-4000)}` : ""}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Whether a process exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
