import { describe, expect, it } from 'vitest'

import { checkSecret, hashSecret, newId, newSecret, SECRET_PREFIXES, type SecretKind } from '../../shared/tokens.js'

describe('secrets', () => {
  it.each(Object.keys(SECRET_PREFIXES) as SecretKind[])('formats and checks a %s', (kind) => {
    const secret = newSecret(kind)

    expect(secret.startsWith(SECRET_PREFIXES[kind])).toBe(true)
    expect(checkSecret(secret)).toBe(kind)
  })

  it('carries at least 128 random bits', () => {
    const random = newSecret('session').slice('fxs_'.length, 'fxs_'.length + 32)

    expect(random.length * Math.log2(62)).toBeGreaterThanOrEqual(128)
  })

  it('catches a one-character typo by its checksum', () => {
    const secret = newSecret('secret_test')
    const position = 12
    const typo = secret.slice(0, position) + (secret[position] === 'a' ? 'b' : 'a') + secret.slice(position + 1)

    expect(checkSecret(typo)).toBeNull()
  })

  it('rejects a truncated secret', () => {
    expect(checkSecret(newSecret('secret_live').slice(0, -1))).toBeNull()
  })

  it('hashes with SHA-256 hex', () => {
    expect(hashSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })

  it('creates distinct prefixed ids', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newId('app')))

    expect(ids.size).toBe(1000)
    for (const id of ids) expect(id).toMatch(/^app_[0-9A-Za-z]{20}$/)
  })
})
