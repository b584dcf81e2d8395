/**
 * Progress of long work (model build, key setup, proving) for people watching a terminal. Lines go
 * to stderr so stdout stays the command's result; a step that runs long says it is still running.
 */
export interface Progress {
  /** Run one named step and report its start, duration and end. */
  step<T>(label: string, work: () => Promise<T>): Promise<T>;
  note(message: string): void;
}

export const silentProgress: Progress = {
  step: (_label, work) => work(),
  note: () => {},
};

export function consoleProgress(prefix: string, total?: number, stream: NodeJS.WritableStream = process.stderr): Progress {
  let n = 0;
  return {
    async step(label, work) {
      n += 1;
      const tag = total ? `(${n}/${total})` : `(${n})`;
      const started = Date.now();
      stream.write(`[${prefix}] ${tag} ${label} ...\n`);
      const ticker = setInterval(() => {
        stream.write(`[${prefix}] ${tag} ${label}: still running, ${Math.round((Date.now() - started) / 1000)} s\n`);
      }, 15_000);
      ticker.unref();
      try {
        const result = await work();
        stream.write(`[${prefix}] ${tag} ${label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        return result;
      } finally {
        clearInterval(ticker);
      }
    },
    note(message) {
      stream.write(`[${prefix}] ${message}\n`);
    },
  };
}
