import { z } from 'zod'

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

export const WorkspaceUpdateBody = z.strictObject({
  name: workspaceName.optional(),
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
  return z
    .string({ message: 'is required' })
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
}

export const USAGES = ['ONE_TIME', 'MULTIPLE'] as const
export const HIPAA_ROLES = ['covered_entity', 'business_associate', 'neither'] as const

/** Per-field schemas of the Live Mode Access form, so the CLI can check each value as it is typed. */
export const liveAccessFields = {
  organization_name: requiredText(200),
  website: webPageUrl,
  use_case: requiredText(2000).refine((value) => value.length >= 20, 'must be at least 20 characters: describe what the application does with the data'),
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
  reason: requiredText(1000),
})

export const LiveAccessListQuery = z.object({
  status: z.enum(['pending', 'approved', 'rejected'], { message: 'must be pending, approved or rejected' }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
})

export const BillingWaiveBody = z.strictObject({
  reason: z.string().trim().max(500, 'must be at most 500 characters').optional(),
})
