import { describe, expect, it } from 'vitest'

import { effectivePermissions, isPermission, PERMISSION_CODES, roleGrants, WITHHOLDABLE } from '../../shared/permissions.js'

describe('permissions', () => {
  it('lists eleven codes', () => {
    expect(PERMISSION_CODES).toHaveLength(11)
  })

  it('grants an admin every code', () => {
    expect(roleGrants('admin')).toEqual(PERMISSION_CODES)
  })

  it('withholds four codes from a member', () => {
    const missing = PERMISSION_CODES.filter((code) => !roleGrants('member').includes(code))

    expect(missing.sort()).toEqual(['api-keys-live:manage', 'billing:manage', 'sso:manage', 'team:manage'])
  })

  it('removes only phi:read when withheld', () => {
    const withheld = effectivePermissions('member', ['phi:read', 'team:read'])

    expect(WITHHOLDABLE).toEqual(['phi:read'])
    expect(withheld).not.toContain('phi:read')
    expect(withheld).toContain('team:read')
    expect(withheld).toHaveLength(roleGrants('member').length - 1)
  })

  it('recognises codes and nothing else', () => {
    expect(isPermission('settings:read')).toBe(true)
    expect(isPermission('member')).toBe(false)
    expect(isPermission('toString')).toBe(false)
  })
})
