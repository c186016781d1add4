import { ERROR_CODES, type ErrorCode } from '../shared/errors.js'

/** An expected failure that becomes the JSON error envelope with its status. */
export class ApiError extends Error {
  readonly status: number

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { field?: string; permission?: string; [extra: string]: unknown } = {},
  ) {
    super(message)
    this.status = ERROR_CODES[code].status
  }

  toBody(): { error: Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...this.details } }
  }
}

export function notFound(what: string, value: string): ApiError {
  return new ApiError('not_found', `${what} "${value}" was not found`)
}

export function invalid(field: string, message: string): ApiError {
  return new ApiError('validation_failed', `${field}: ${message}`, { field })
}
