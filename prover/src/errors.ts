/**
 * Typed errors. Every error zkinfer raises on purpose is a ZkinferError: it carries a one-line
 * `shortMessage` that names the problem, a `hint` that says what to do, and `retryable`, which the
 * job runner uses to decide whether to try again. The CLI prints `shortMessage` and `hint` — never a
 * stack trace — for these; anything else is a bug and is printed in full.
 */
export interface ZkinferErrorOptions {
  hint?: string;
  details?: string;
  cause?: unknown;
}

export abstract class ZkinferError extends Error {
  abstract readonly code: string;
  /** Whether the same call may succeed if tried again unchanged. */
  readonly retryable: boolean = false;
  readonly shortMessage: string;
  readonly hint: string | undefined;
  readonly details: string | undefined;

  constructor(shortMessage: string, options: ZkinferErrorOptions = {}) {
    const parts = [shortMessage];
    if (options.hint) parts.push(`Hint: ${options.hint}`);
    if (options.details) parts.push(`Details: ${options.details}`);
    super(parts.join("\n"), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.shortMessage = shortMessage;
    this.hint = options.hint;
    this.details = options.details;
  }
}

/** A mistake in what the user gave us: a path, a file's content, an input, a flag. */
export class UserInputError extends ZkinferError {
  readonly code: string = "USER_INPUT";
}

export class FileNotFoundError extends UserInputError {
  override readonly code = "FILE_NOT_FOUND";
  constructor(
    readonly path: string,
    what: string,
    options: ZkinferErrorOptions = {},
  ) {
    super(`${what} not found: ${path}`, {
      hint: "check the path (relative paths are taken from the current directory)",
      ...options,
    });
  }
}

export class InvalidModelError extends UserInputError {
  override readonly code = "INVALID_MODEL";
}

export class InputShapeError extends UserInputError {
  override readonly code = "INPUT_SHAPE";
}

export class InvalidInputError extends UserInputError {
  override readonly code = "INVALID_INPUT";
}

export class ConfigError extends UserInputError {
  override readonly code = "CONFIG";
}

/** The EZKL worker process could not be started (missing .venv, missing ezkl). */
export class EngineStartError extends ZkinferError {
  readonly code = "ENGINE_START";
}

/** The worker died while a call was under way (killed, out of memory, a crash in EZKL). */
export class EngineCrashedError extends ZkinferError {
  readonly code = "ENGINE_CRASHED";
  override readonly retryable = true;
  constructor(
    readonly op: string,
    readonly exitCode: number | null,
    readonly signal: string | null,
    options: ZkinferErrorOptions = {},
  ) {
    super(`the EZKL worker died during '${op}' (${signal ? `signal ${signal}` : `exit code ${exitCode}`})`, {
      hint: "the worker is restarted on the next call; if it keeps dying, check memory (proving keys are large)",
      ...options,
    });
  }
}

export class EngineTimeoutError extends ZkinferError {
  readonly code = "ENGINE_TIMEOUT";
  override readonly retryable = true;
  constructor(
    readonly op: string,
    readonly timeoutMs: number,
  ) {
    super(`the EZKL worker did not finish '${op}' within ${Math.round(timeoutMs / 1000)} s; it was stopped`, {
      hint: "raise the timeout (ZKINFER_ENGINE_TIMEOUT_MS) for large circuits",
    });
  }
}

/** EZKL itself refused or failed an operation. */
export class EzklError extends ZkinferError {
  readonly code = "EZKL";
  constructor(
    readonly op: string,
    message: string,
    options: ZkinferErrorOptions = {},
  ) {
    super(`EZKL failed in '${op}': ${message}`, options);
  }
}

/** An artifact directory or file is not what its manifest says. */
export class ArtifactError extends ZkinferError {
  readonly code = "ARTIFACT";
}

export function isZkinferError(e: unknown): e is ZkinferError {
  return e instanceof ZkinferError;
}
