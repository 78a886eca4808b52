/**
 * Typed engine errors. Each carries a symbolic `code` that the server maps to an HTTP status in one table,
 * and a message that names the parameter, its value and, where it helps, the valid choices.
 */
export type EngineErrorCode =
  | 'CHECKPOINT_INVALID'
  | 'UNSUPPORTED_MODEL'
  | 'INVALID_PARAMS'
  | 'SAMPLER_NOT_FOUND'
  | 'SCHEDULER_NOT_FOUND'
  | 'MODEL_NOT_FOUND'
  | 'INVALID_IMAGE'
  | 'CANCELLED';

export class EngineError extends Error {
  readonly code: EngineErrorCode;

  constructor(code: EngineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A checkpoint file that cannot be read: truncated, corrupt header, pickle, wrong layout. */
export class CheckpointError extends EngineError {
  readonly file: string;

  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super('CHECKPOINT_INVALID', `${file}: ${problem}`, options);
    this.file = file;
  }
}

/** A readable checkpoint of an architecture this engine does not run (yet). */
export class UnsupportedModelError extends EngineError {
  constructor(message: string) {
    super('UNSUPPORTED_MODEL', message);
  }
}

/** A generation parameter outside what the engine accepts; `param` names the field. */
export class InvalidParamsError extends EngineError {
  readonly param: string;

  constructor(param: string, message: string, code: EngineErrorCode = 'INVALID_PARAMS') {
    super(code, message);
    this.param = param;
  }
}

/** The job was interrupted through its AbortSignal. */
export class CancelledError extends EngineError {
  constructor(message = 'generation was interrupted') {
    super('CANCELLED', message);
  }
}

/** Internal invariant check with a lazily built message that carries the actual numbers. */
export function assert(condition: unknown, message: () => string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message()}`);
}
