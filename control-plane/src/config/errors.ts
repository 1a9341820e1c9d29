// Errors of the config model. `code` is stable for callers and tests; the HTTP API maps it to a
// status (INVALID_CONFIG/BAD_DOCUMENT 400, CONFIG_NOT_FOUND 404, VERSION_CONFLICT 409), and the
// message tells the user what to change.

export type ConfigErrorCode = "INVALID_CONFIG" | "BAD_DOCUMENT" | "CONFIG_NOT_FOUND" | "VERSION_CONFLICT";

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    readonly code: ConfigErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A document that does not fit the model. `field` is the path inside the document
 * ("spec.rules[0].split[1].weight"); `allowed` says what would be accepted; `document` is the
 * index in an apply's list, set by whoever validates a list.
 */
export class ConfigValidationError extends ConfigError {
  override name = "ConfigValidationError";
  document?: number;
  constructor(
    readonly field: string,
    message: string,
    readonly allowed?: string,
  ) {
    super("INVALID_CONFIG", message);
  }

  /** The same error, placed at document `index` of a list. */
  at(index: number): ConfigValidationError {
    const copy = new ConfigValidationError(this.field, this.message, this.allowed);
    copy.document = index;
    return copy;
  }
}

/** Throws "FIELD must be ALLOWED" (or a custom sentence) for the field. */
export function invalid(field: string, allowed: string, message?: string): never {
  throw new ConfigValidationError(field, message ?? `${field} must be ${allowed}`, allowed);
}
