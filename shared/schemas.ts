import { z } from 'zod'

import { STATES, STORED_STATES, USAGES } from './access-tokens.js'

/**
 * Request schemas of the HTTP API. The server validates bodies with them, the OpenAPI document
 * is generated from them, and the CLI types its requests with them.
 */

export const email = z
  .string()
  .trim()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email({ message: 'must be an email address such as ada@example.com' }))
  .transform((value) => value.toLowerCase())

export const displayName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')

/** Length and bytes are checked by the server, which also rejects common passwords. */
export const password = z.string().max(4096, 'must be at most 1024 bytes')

export const workspaceName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .refine((value) => !value.startsWith('ws_'), 'must not start with ws_, which marks workspace ids')

export const applicationName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .refine((value) => !value.startsWith('app_'), 'must not start with app_, which marks application ids')

export const SignupBody = z.strictObject({
  email,
  name: displayName,
  password,
  workspace_name: workspaceName.optional(),
})

export const LoginBody = z.strictObject({ email, password })

export const ProfileUpdateBody = z.strictObject({ name: displayName })

export const PasswordChangeBody = z.strictObject({
  current_password: password,
  new_password: password,
})

export const WorkspaceCreateBody = z.strictObject({ name: workspaceName })

export const LOG_RETENTION_DAYS = { min: 7, max: 2190, default: 365 } as const

export const logRetentionDays = z
  .number()
  .int('must be a whole number of days')
  .min(LOG_RETENTION_DAYS.min, `must be at least ${LOG_RETENTION_DAYS.min} days`)
  .max(LOG_RETENTION_DAYS.max, `must be at most ${LOG_RETENTION_DAYS.max} days (6 years)`)

export const WorkspaceUpdateBody = z.strictObject({
  name: workspaceName.optional(),
  log_retention_days: logRetentionDays.optional(),
})

/** HTTPS anywhere, or HTTP on the loopback host only; never a fragment. */
export const redirectUri = z
  .string()
  .max(2048, 'must be at most 2048 characters')
  .superRefine((value, ctx) => {
    let url: URL
    try {
      url = new URL(value)
    } catch {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not an absolute URL` })
      return
    }
    const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
      ctx.addIssue({ code: 'custom', message: `"${value}" must use https (http is allowed on localhost only)` })
    }
    if (value.includes('#')) {
      ctx.addIssue({ code: 'custom', message: `"${value}" must not contain a fragment (#)` })
    }
  })

export const ApplicationCreateBody = z.strictObject({
  name: applicationName,
  redirect_uris: z.array(redirectUri).max(20, 'at most 20 redirect URIs').default([]),
})

export const ApplicationUpdateBody = z.strictObject({
  name: applicationName.optional(),
  redirect_uris: z.array(redirectUri).max(20, 'at most 20 redirect URIs').optional(),
})

/** At most 7 days, as a number of seconds. */
export const KeyRotateBody = z.strictObject({
  expire_old_in_seconds: z
    .number()
    .int('must be a whole number of seconds')
    .min(0, 'must not be negative')
    .max(7 * 86_400, 'must be at most 7 days (604800 seconds)')
    .default(0),
})

export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
})

const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time such as 2026-12-04T10:00:00Z' })

const externalUserId = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters')

/** Ingestion: the application's backend reports that Flexpa Consent was opened. */
export const AccessTokenCreateBody = z.strictObject({
  endpoint_id: z.uuid({ message: 'must be the UUID of an endpoint from flexpa endpoints list' }),
  usage: z.enum(USAGES).default('ONE_TIME'),
  external_user_id: externalUserId.optional(),
  expires_at: isoTime.optional(),
})

/** Ingestion: the row moves along its lifecycle, or learns who the patient is. */
export const AccessTokenUpdateBody = z
  .strictObject({
    state: z.enum(STORED_STATES).optional(),
    error: z
      .strictObject({
        code: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
        message: z.string().trim().min(1, 'must not be empty').max(1000, 'must be at most 1000 characters'),
      })
      .optional(),
    patient: z
      .strictObject({
        id: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
        name: z.string().trim().max(200, 'must be at most 200 characters').optional(),
        birth_date: z.iso.date({ message: 'must be a date such as 1980-04-12' }).optional(),
      })
      .optional(),
  })
  .refine((body) => body.state !== undefined || body.patient !== undefined, 'send state, patient or both')
  .refine((body) => (body.state === 'ERROR') === (body.error !== undefined), {
    message: 'error is required with state ERROR and allowed only with it',
    path: ['error'],
  })

/** Filters shared by the log list, the tail and analytics. */
const logFilters = {
  mode: z.enum(['live', 'test']).default('live'),
  app: z.string().trim().min(1).max(200).optional(),
  state: z.enum(STATES).optional(),
  endpoint: z.string().trim().min(1).max(200).optional(),
  request_id: z.string().trim().min(1).max(200).optional(),
  external_user_id: externalUserId.optional(),
  since: isoTime.optional(),
  until: isoTime.optional(),
}

export const LogListQuery = z.object({
  ...logFilters,
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
})

export const LogStreamQuery = z.object({
  ...logFilters,
  /** The change id to resume after, for clients that cannot send Last-Event-ID. */
  after: z.string().regex(/^\d{1,18}$/, 'must be a change id').optional(),
})

export const AnalyticsQuery = z.object({
  mode: logFilters.mode,
  app: logFilters.app,
  since: isoTime.optional(),
  until: isoTime.optional(),
})

export const TRIGGER_OUTCOMES = ['success', 'denied', 'payer-error', 'revoked'] as const

export const LogTriggerBody = z.strictObject({
  app: z.string().trim().min(1).max(200),
  outcome: z.enum(TRIGGER_OUTCOMES).default('success'),
  endpoint: z.string().trim().min(1).max(200).optional(),
})
