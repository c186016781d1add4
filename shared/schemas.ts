import { z } from 'zod'

import { PERMISSION_CODES, type Permission } from './permissions.js'
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

/**
 * Characters no name may contain: C0 controls (tab and newline included), DEL, C1 controls, and
 * the bidirectional marks, embeddings, overrides and isolates that can make text display in an
 * order other than the one stored.
 */
const FORBIDDEN_IN_NAME = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/
/** The same set with line feed allowed, for free text that may span several lines. */
const FORBIDDEN_IN_TEXT = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/

/** A high surrogate without a low one after it, or a low surrogate without a high one before it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

function codePoint(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
}

/** Returns why `value` is not acceptable text, or null: a lone surrogate or a forbidden character. */
export function textProblem(value: string, multiLine = false): string | null {
  if (LONE_SURROGATE.test(value)) return 'must be valid Unicode text, but it contains a lone surrogate'
  const found = (multiLine ? FORBIDDEN_IN_TEXT : FORBIDDEN_IN_NAME).exec(value)
  if (!found) return null
  const kind = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(found[0]) ? 'a bidirectional formatting character' : 'a control character'
  const allowed = multiLine ? ' (only line breaks are allowed)' : ''
  return `must not contain ${kind} (${codePoint(found[0])} at position ${found.index + 1})${allowed}`
}

/** Normalizes text to Unicode NFC, so that composed and decomposed forms of a letter are one value. */
function normalized(value: string): string {
  return LONE_SURROGATE.test(value) ? value : value.normalize('NFC')
}

/**
 * Builds the schema of a one-line name of at most `max` characters: normalized to NFC, trimmed,
 * not empty, and free of control and bidirectional formatting characters.
 */
export function nameText(max: number, options: { required?: boolean } = {}) {
  const base = options.required ? z.string({ message: 'is required' }) : z.string()
  return base
    .transform((value) => normalized(value).trim())
    .pipe(
      z
        .string()
        .min(1, 'must not be empty')
        .max(max, `must be at most ${max} characters`)
        .superRefine((value, ctx) => {
          const problem = textProblem(value)
          if (problem) ctx.addIssue({ code: 'custom', message: problem })
        }),
    )
}

/** Builds the schema of free text that may span lines: CR LF becomes LF, other controls are rejected. */
export function multiLineText(max: number, options: { min?: number } = {}) {
  return z
    .string({ message: 'is required' })
    .transform((value) => normalized(value).replace(/\r\n?/g, '\n').trim())
    .pipe(
      z
        .string()
        .min(options.min ?? 1, options.min === undefined ? 'must not be empty' : `must be at least ${options.min} characters`)
        .max(max, `must be at most ${max} characters`)
        .superRefine((value, ctx) => {
          const problem = textProblem(value, true)
          if (problem) ctx.addIssue({ code: 'custom', message: problem })
        }),
    )
}

/**
 * Computes the key that names are compared by: NFC, trimmed and lower-cased, so "Café" typed with
 * a combining accent, with a precomposed é, or in another case, is one name.
 */
export function nameKey(name: string): string {
  return normalized(name).trim().toLowerCase()
}

export const displayName = nameText(100)

/** Length and bytes are checked by the server, which also rejects common passwords. */
export const password = z.string().max(4096, 'must be at most 1024 bytes')

export const workspaceName = nameText(100).refine(
  (value) => !value.startsWith('ws_'),
  'must not start with ws_, which marks workspace ids',
)

export const applicationName = nameText(100).refine(
  (value) => !value.startsWith('app_'),
  'must not start with app_, which marks application ids',
)

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
    if (url.username !== '' || url.password !== '') {
      ctx.addIssue({ code: 'custom', message: `"${url.host}${url.pathname}" must not contain a user name or password before the host` })
    }
  })

/** At most 20 redirect URIs, none listed twice; URIs that differ only in the host's case are the same. */
const redirectUris = z
  .array(redirectUri)
  .max(20, 'at most 20 redirect URIs')
  .superRefine((values, ctx) => {
    const seen = new Set<string>()
    values.forEach((value, index) => {
      const key = URL.canParse(value) ? new URL(value).href : value
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [index], message: `"${value}" is listed more than once` })
      seen.add(key)
    })
  })

export const ApplicationCreateBody = z.strictObject({
  name: applicationName,
  redirect_uris: redirectUris.default([]),
})

export const ApplicationUpdateBody = z.strictObject({
  name: applicationName.optional(),
  redirect_uris: redirectUris.optional(),
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

export const tokenName = nameText(100)

export const TOKEN_DEFAULT_LIFETIME_SECONDS = 90 * 86_400
export const TOKEN_MAX_LIFETIME_SECONDS = 365 * 86_400

/** A workspace token's name, permissions (each held by its creator) and lifetime in seconds. */
export const TokenCreateBody = z.strictObject({
  name: tokenName,
  permissions: z
    .array(
      z.enum(PERMISSION_CODES as [Permission, ...Permission[]], {
        error: (issue) => `"${String(issue.input)}" is not a permission; valid codes: ${PERMISSION_CODES.join(', ')}`,
      }),
    )
    .min(1, 'name at least one permission')
    .max(PERMISSION_CODES.length, `at most ${PERMISSION_CODES.length} permissions`)
    .transform((codes) => [...new Set(codes)]),
  expires_in_seconds: z
    .number()
    .int('must be a whole number of seconds')
    .min(60, 'must be at least 60 seconds')
    .max(TOKEN_MAX_LIFETIME_SECONDS, `must be at most 365 days (${TOKEN_MAX_LIFETIME_SECONDS} seconds)`)
    .default(TOKEN_DEFAULT_LIFETIME_SECONDS),
})

/**
 * Filters of the audit log. `since` and `until` take an ISO 8601 date or a duration counted back
 * from now (`2h`, `7d`). An `action` ending in `.` or `*` matches by prefix.
 */
export const AuditListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(500).optional(),
  actor: z.string().trim().min(1).max(254).optional(),
  action: z.string().trim().min(1).max(100).optional(),
  since: z.string().trim().min(1).max(40).optional(),
  until: z.string().trim().min(1).max(40).optional(),
})

/** Deleting a workspace needs its name typed back, so a wrong id in a script deletes nothing. */
export const WorkspaceDeleteQuery = z.object({
  confirm: z.string({ error: 'must be the workspace name, typed back' }).max(200),
})

/** A lower-case DNS name with at least two labels, such as example.com. */
export const emailDomain = z
  .string()
  .trim()
  .toLowerCase()
  .max(253, 'must be at most 253 characters')
  .regex(
    /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
    'must be a domain name such as example.com',
  )

/** Fields left out keep their current value; the metadata is required the first time. */
export const SsoConfigureBody = z.strictObject({
  metadata_xml: z.string().max(512 * 1024, 'must be at most 512 KiB').optional(),
  domains: z.array(emailDomain).max(50, 'at most 50 domains').optional(),
  enforce: z.boolean().optional(),
})

/** PKCE (RFC 7636): 43 to 128 characters of the unreserved set. */
const pkceVerifier = z.string().regex(/^[A-Za-z0-9._~-]{43,128}$/, 'must be 43 to 128 characters of A-Z, a-z, 0-9, ".", "_", "~" and "-"')

/** The CLI's loopback listener: http on 127.0.0.1 with a port, no query or fragment. */
export const loopbackRedirectUri = z
  .string()
  .max(200, 'must be at most 200 characters')
  .refine((value) => /^http:\/\/127\.0\.0\.1:\d{1,5}\/[A-Za-z0-9/_-]*$/.test(value), 'must be http://127.0.0.1:<port>/<path>')

export const SsoStartQuery = z.object({
  workspace: z.string().trim().min(1, 'must not be empty').max(254, 'must be at most 254 characters'),
  redirect_uri: loopbackRedirectUri,
  code_challenge: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be the base64url SHA-256 of the code verifier (43 characters)'),
  code_challenge_method: z.literal('S256', { message: 'must be S256' }),
  state: z.string().regex(/^[A-Za-z0-9._~-]{16,128}$/, 'must be 16 to 128 characters of A-Z, a-z, 0-9, ".", "_", "~" and "-"'),
})

export const SsoDiscoverQuery = z.object({
  workspace: z.string().trim().min(1, 'must not be empty').max(254, 'must be at most 254 characters'),
})

export const SsoTokenBody = z.strictObject({
  code: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  code_verifier: pkceVerifier,
  redirect_uri: loopbackRedirectUri,
})

/** A public web page: an absolute https URL (http is allowed on localhost only). */
export const webPageUrl = z
  .string()
  .trim()
  .max(2048, 'must be at most 2048 characters')
  .superRefine((value, ctx) => {
    let url: URL
    try {
      url = new URL(value)
    } catch {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not an absolute URL such as https://example.com` })
      return
    }
    const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
      ctx.addIssue({ code: 'custom', message: `"${value}" must use https` })
    }
  })

function requiredText(max: number) {
  return nameText(max, { required: true })
}

export { USAGES }
export const HIPAA_ROLES = ['covered_entity', 'business_associate', 'neither'] as const

/** Per-field schemas of the Live Mode Access form, so the CLI can check each value as it is typed. */
export const liveAccessFields = {
  organization_name: requiredText(200),
  website: webPageUrl,
  use_case: multiLineText(2000).refine(
    (value) => value.length >= 20,
    'must be at least 20 characters: describe what the application does with the data',
  ),
  // The upper bound only catches typos such as an extra digit group.
  expected_monthly_connections: z
    .number({ message: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(100_000_000, 'must be at most 100000000'),
  usage: z.enum(USAGES, { message: 'must be ONE_TIME or MULTIPLE' }),
  privacy_policy_url: webPageUrl,
  terms_of_service_url: webPageUrl,
  contact_name: requiredText(100),
  contact_email: email,
  hipaa_role: z.enum(HIPAA_ROLES, { message: 'must be covered_entity, business_associate or neither' }),
}

export type LiveAccessField = keyof typeof liveAccessFields

export const LiveAccessForm = z.strictObject(liveAccessFields)

export const LiveAccessRejectBody = z.strictObject({
  reason: multiLineText(1000),
})

export const LiveAccessListQuery = z.object({
  status: z.enum(['pending', 'approved', 'rejected'], { message: 'must be pending, approved or rejected' }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
})

export const BillingWaiveBody = z.strictObject({
  reason: multiLineText(500, { min: 0 }).optional(),
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
