import { EXIT } from '../shared/errors.js'

/** An expected failure: printed as one line (and a hint), never with a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
    readonly details: { code?: string; hint?: string; requestId?: string; body?: unknown } = {},
  ) {
    super(message)
  }
}

export function usageError(message: string, hint?: string): CliError {
  return new CliError(message, EXIT.usage, { code: 'invalid_usage', hint })
}
