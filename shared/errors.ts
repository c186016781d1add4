/**
 * One table of error codes for both sides: the server answers `{error: {code, message}}` with the
 * status below, and the CLI maps the same code to its exit code.
 */

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  auth: 3,
  forbidden: 4,
  notFound: 5,
  conflict: 6,
  unavailable: 7,
} as const

export const ERROR_CODES = {
  invalid_request: { status: 400, exit: EXIT.usage },
  invalid_signature: { status: 400, exit: EXIT.usage },
  validation_failed: { status: 422, exit: EXIT.usage },
  unauthenticated: { status: 401, exit: EXIT.auth },
  session_expired: { status: 401, exit: EXIT.auth },
  invalid_credentials: { status: 401, exit: EXIT.auth },
  invalid_api_key: { status: 401, exit: EXIT.auth },
  api_key_expired: { status: 401, exit: EXIT.auth },
  sso_required: { status: 401, exit: EXIT.auth },
  sso_failed: { status: 401, exit: EXIT.auth },
  invalid_grant: { status: 400, exit: EXIT.auth },
  permission_denied: { status: 403, exit: EXIT.forbidden },
  not_found: { status: 404, exit: EXIT.notFound },
  method_not_allowed: { status: 405, exit: EXIT.usage },
  conflict: { status: 409, exit: EXIT.conflict },
  already_exists: { status: 409, exit: EXIT.conflict },
  invalid_transition: { status: 409, exit: EXIT.conflict },
  idempotency_key_reused: { status: 409, exit: EXIT.conflict },
  idempotency_in_progress: { status: 409, exit: EXIT.conflict },
  precondition_failed: { status: 412, exit: EXIT.conflict },
  live_mode_not_ready: { status: 412, exit: EXIT.conflict },
  not_configured: { status: 412, exit: EXIT.conflict },
  payload_too_large: { status: 413, exit: EXIT.usage },
  unsupported_media_type: { status: 415, exit: EXIT.usage },
  rate_limited: { status: 429, exit: EXIT.unavailable },
  internal_error: { status: 500, exit: EXIT.failure },
  service_unavailable: { status: 503, exit: EXIT.unavailable },
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export interface ErrorBody {
  error: {
    code: ErrorCode | string
    message: string
    field?: string
    permission?: string
    [extra: string]: unknown
  }
}

export function exitCodeFor(code: string, status: number): number {
  const known = ERROR_CODES[code as ErrorCode]
  if (known) return known.exit
  if (status === 401) return EXIT.auth
  if (status === 403) return EXIT.forbidden
  if (status === 404) return EXIT.notFound
  if (status === 409 || status === 412) return EXIT.conflict
  if (status === 429 || status === 503) return EXIT.unavailable
  if (status >= 400 && status < 500) return EXIT.usage
  return EXIT.failure
}
