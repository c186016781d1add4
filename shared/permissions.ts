/**
 * The workspace permission matrix. This module is the only list of permissions: the server's
 * checks, the CLI's help text, the README table and the matrix tests all read it.
 */

export const ROLES = ['admin', 'member'] as const
export type Role = (typeof ROLES)[number]

export const PERMISSIONS = {
  'team:read': {
    name: 'View team',
    description: 'View workspace members and their roles',
    roles: { admin: true, member: true },
  },
  'team:manage': {
    name: 'Team management',
    description: 'Invite, remove, and change roles of workspace members',
    roles: { admin: true, member: false },
  },
  'api-keys-live:manage': {
    name: 'Live mode API keys',
    description: 'Create, rotate, and manage live mode application keys',
    roles: { admin: true, member: false },
  },
  'api-keys-test:manage': {
    name: 'Test mode API keys',
    description: 'Create, rotate, and manage test mode application keys',
    roles: { admin: true, member: true },
  },
  'api-keys:read': {
    name: 'View API keys',
    description: 'View existing API keys for all applications',
    roles: { admin: true, member: true },
  },
  'sso:manage': {
    name: 'SSO configuration',
    description: 'Configure SAML-based single sign-on for the workspace',
    roles: { admin: true, member: false },
  },
  'analytics:read': {
    name: 'Analytics',
    description: 'View access token logs and usage analytics',
    roles: { admin: true, member: true },
  },
  'phi:read': {
    name: 'PHI access',
    description: 'View protected health information in access token logs',
    roles: { admin: true, member: true },
  },
  'billing:manage': {
    name: 'Billing',
    description: 'Manage payment details and view invoices via Stripe',
    roles: { admin: true, member: false },
  },
  'settings:read': {
    name: 'View settings',
    description: 'View workspace settings',
    roles: { admin: true, member: true },
  },
  'settings:manage': {
    name: 'Manage settings',
    description: 'Update workspace settings',
    roles: { admin: true, member: true },
  },
} as const satisfies Record<
  string,
  { name: string; description: string; roles: Record<Role, boolean> }
>

export type Permission = keyof typeof PERMISSIONS

export const PERMISSION_CODES = Object.keys(PERMISSIONS) as Permission[]

/** The only permission an admin may withhold from a member. */
export const WITHHOLDABLE: readonly Permission[] = ['phi:read']

export function isPermission(value: string): value is Permission {
  return Object.hasOwn(PERMISSIONS, value)
}

export function roleGrants(role: Role): Permission[] {
  return PERMISSION_CODES.filter((code) => PERMISSIONS[code].roles[role])
}

/** Computes a member's permissions: the role's grants minus what an admin withheld. */
export function effectivePermissions(
  role: Role,
  withheld: readonly Permission[] = [],
): Permission[] {
  const removable = withheld.filter((code) => WITHHOLDABLE.includes(code))
  return roleGrants(role).filter((code) => !removable.includes(code))
}

/**
 * How a route is reached: a permission code, or one of the kinds that are not a workspace
 * permission. `member` is any member of the workspace, `session` any signed-in user outside a
 * workspace, `app-key` an application's own keys, `signed` a signed webhook and `operator` the
 * people the server's configuration names.
 */
export type Access = Permission | 'member' | 'session' | 'public' | 'app-key' | 'signed' | 'operator'

export const NON_PERMISSION_ACCESS = [
  'member',
  'session',
  'public',
  'app-key',
  'signed',
  'operator',
] as const
