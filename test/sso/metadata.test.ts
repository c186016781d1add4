import { describe, expect, it } from 'vitest'

import { MetadataProblems, parseIdpMetadata, serviceProviderMetadata } from '../../server/sso/metadata.js'
import { TestIdp } from '../helpers/saml-idp.js'
import { createCertificate } from '../helpers/x509.js'

function problemsOf(xml: string): string[] {
  try {
    parseIdpMetadata(xml)
  } catch (error) {
    if (error instanceof MetadataProblems) return error.problems
    throw error
  }
  throw new Error('the metadata was accepted')
}

describe('identity provider metadata', () => {
  const idp = new TestIdp()

  it('reads entity id, sign-on URL and certificate', () => {
    const metadata = parseIdpMetadata(idp.metadata())

    expect(metadata.entityId).toBe(idp.entityId)
    expect(metadata.ssoUrl).toBe(idp.ssoUrl)
    expect(metadata.binding).toBe('redirect')
    expect(metadata.certificates).toEqual([idp.certificate.certificatePem])
  })

  it('uses HTTP-POST when it is the only binding', () => {
    expect(parseIdpMetadata(idp.metadata({ binding: 'post' })).binding).toBe('post')
  })

  it('accepts an EC signing key', () => {
    const ec = createCertificate({ key: { type: 'ec', curve: 'prime256v1' } })

    expect(parseIdpMetadata(idp.metadata({ certificates: [ec.certificateBase64] })).certificates).toHaveLength(1)
  })

  it('rejects broken XML', () => {
    const problems = problemsOf(idp.metadata().replace('</md:IDPSSODescriptor>', ''))

    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^the metadata file is not well-formed XML: /)
  })

  it('rejects an external entity', () => {
    const xml = idp
      .metadata()
      .replace('<md:EntityDescriptor', '<!DOCTYPE md:EntityDescriptor [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n<md:EntityDescriptor')
      .replace('entityID="', 'entityID="&secret;')

    const problems = problemsOf(xml)

    expect(problems).toEqual([
      'the metadata file contains a document type declaration (<!DOCTYPE), which is not allowed because it can define entities',
    ])
  })

  it('rejects an expired certificate', () => {
    const expired = createCertificate({ notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') })

    const problems = problemsOf(idp.metadata({ certificates: [expired.certificateBase64] }))

    expect(problems).toEqual(['the signing certificate expired on 2021-01-01T00:00:00.000Z'])
  })

  it('rejects a certificate not yet valid', () => {
    const future = createCertificate({ notBefore: new Date(Date.now() + 86_400_000), notAfter: new Date(Date.now() + 2 * 86_400_000) })

    const problems = problemsOf(idp.metadata({ certificates: [future.certificateBase64] }))

    expect(problems[0]).toMatch(/^the signing certificate is not valid until /)
  })

  it('rejects an HTTP sign-on URL', () => {
    const problems = problemsOf(idp.metadata({ ssoUrl: 'http://idp.example.test/saml/sso' }))

    expect(problems).toEqual(['the single sign-on URL http://idp.example.test/saml/sso does not use HTTPS'])
  })

  it('rejects a weak RSA key', () => {
    const weak = createCertificate({ key: { type: 'rsa', bits: 1024 } })

    const problems = problemsOf(idp.metadata({ certificates: [weak.certificateBase64] }))

    expect(problems).toEqual(['the signing certificate has a 1024-bit RSA key; at least 2048 bits are required'])
  })

  it('rejects a certificate that does not parse', () => {
    const problems = problemsOf(idp.metadata({ certificates: ['bm90IGEgY2VydGlmaWNhdGU='] }))

    expect(problems).toEqual(['the signing certificate is not a valid X.509 certificate'])
  })

  it('rejects metadata without a signing certificate', () => {
    const problems = problemsOf(idp.metadata({ certificates: [] }))

    expect(problems).toEqual(['the IDPSSODescriptor has no signing certificate (KeyDescriptor with an X509Certificate)'])
  })

  it('rejects service-provider metadata', () => {
    const sp = serviceProviderMetadata({
      entityId: 'https://flexpa.example.test/v1/sso/ws_1/metadata',
      acsUrl: 'https://flexpa.example.test/v1/sso/ws_1/acs',
      metadataUrl: 'https://flexpa.example.test/v1/sso/ws_1/metadata',
    })

    expect(problemsOf(sp)[0]).toMatch(/has no IDPSSODescriptor/)
  })

  it('rejects expired metadata', () => {
    const xml = idp.metadata().replace('entityID=', 'validUntil="2020-01-01T00:00:00Z" entityID=')

    expect(problemsOf(xml)[0]).toMatch(/^the metadata expired at 2020-01-01T00:00:00Z/)
  })

  it('rejects a document that is not metadata', () => {
    expect(problemsOf('<html><body>Sign in</body></html>')[0]).toMatch(/root element is <html>/)
  })

  it('lists each problem on its own', () => {
    const weak = createCertificate({ key: { type: 'rsa', bits: 1024 } })
    const expired = createCertificate({ notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') })

    const problems = problemsOf(
      idp.metadata({ ssoUrl: 'http://idp.example.test/sso', certificates: [weak.certificateBase64, expired.certificateBase64] }),
    )

    expect(problems).toEqual([
      'the single sign-on URL http://idp.example.test/sso does not use HTTPS',
      'signing certificate 1 has a 1024-bit RSA key; at least 2048 bits are required',
      'signing certificate 2 expired on 2021-01-01T00:00:00.000Z',
    ])
  })
})
