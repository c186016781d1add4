import { describe, expect, it } from 'vitest'

import { hashPassword, passwordProblem, verifyPassword } from '../../server/passwords.js'

describe('passwordProblem', () => {
  it('accepts a long phrase without composition rules', () => {
    expect(passwordProblem('plain lower case phrase')).toBeNull()
  })

  it('counts code points, not UTF-16 units', () => {
    expect(passwordProblem('😀'.repeat(11))).toMatch(/at least 12/)
    expect(passwordProblem('😀🙂😃😄😁😆😅🤣😂🙃😉😊')).toBeNull()
  })

  it('limits the UTF-8 length to 1024 bytes', () => {
    const atLimit = 'ab'.repeat(512)

    expect(passwordProblem(atLimit)).toBeNull()
    expect(passwordProblem(`${atLimit}c`)).toMatch(/1024 bytes/)
  })

  it('rejects common passwords in any case', () => {
    expect(passwordProblem('PASSWORD1234')).toMatch(/common/)
  })

  it('rejects one repeated character', () => {
    expect(passwordProblem('zzzzzzzzzzzzzz')).toMatch(/repeated/)
  })

  it('rejects the account email', () => {
    expect(passwordProblem('Ada.Lovelace@example.com', 'ada.lovelace@example.com')).toMatch(/email/)
  })
})

describe('password hashing', () => {
  it('verifies the right password and no other', async () => {
    const stored = await hashPassword('night train to lisbon')

    expect(stored).toMatch(/^scrypt\$17\$8\$1\$/)
    expect(stored).not.toContain('night train')
    expect(await verifyPassword('night train to lisbon', stored)).toBe(true)
    expect(await verifyPassword('night train to lisbon!', stored)).toBe(false)
  })

  it('salts every hash', async () => {
    expect(await hashPassword('same password twice')).not.toBe(await hashPassword('same password twice'))
  })

  it('treats a missing hash as a wrong password', async () => {
    expect(await verifyPassword('anything at all here', null)).toBe(false)
  })
})
