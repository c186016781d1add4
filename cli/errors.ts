import { EXIT } from '../shared/errors.js'

/** An expected failure: printed as one line (and a hint), never with a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
    readonly details: { code?: string; hint?: string; requestId?: string; body?: unknown; permission?: string } = {},
  ) {
    super(message)
  }
}

/**
 * Builds the exit-4 error of a permission check that the CLI makes before calling a route. Its JSON
 * error names `permission`, as the server's does.
 */
export function permissionDenied(permission: string, message: string, hint?: string): CliError {
  return new CliError(message, EXIT.forbidden, { code: 'permission_denied', permission, hint })
}

export function usageError(message: string, hint?: string): CliError {
  return new CliError(message, EXIT.usage, { code: 'invalid_usage', hint })
}
