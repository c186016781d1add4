import { SAML, ValidateInResponseTo, type Profile } from '@node-saml/node-saml'
import type { Document, Element } from '@xmldom/xmldom'

import { displayName } from '../../shared/schemas.js'
import type { ServiceProvider } from './metadata.js'
import { childElements, descendants, NS, parseUntrustedXml, textOf, XmlProblem } from './xml.js'

/** Maximum clock difference accepted between the identity provider and this server. */
export const CLOCK_SKEW_MS = 3 * 60_000
const MAX_RESPONSE_BYTES = 256 * 1024

/** Signature and digest algorithms of the SHA-2 family. SHA-1 and anything else is rejected. */
const SIGNATURE_ALGORITHMS = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512',
])
const DIGEST_ALGORITHMS = new Set([
  'http://www.w3.org/2001/04/xmlenc#sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512',
])
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer'
const EMAIL_ATTRIBUTES = [
  'email',
  'mail',
  'emailaddress',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
  'urn:oid:0.9.2342.19200300.100.1.3',
]
const NAME_ATTRIBUTES = [
  'name',
  'displayName',
  'displayname',
  'http://schemas.microsoft.com/identity/claims/displayname',
  'urn:oid:2.16.840.1.113730.3.1.241',
]

/** A response that must not log anyone in, with the reason as a sentence. */
export class SamlRejected extends Error {}

export interface StoredRequest {
  id: string
  created_at: string
  expires_at: string
  consumed_at: string | null
}

export interface ResponseCheck {
  sp: ServiceProvider
  idp: { entityId: string; certificates: string[] }
  /** Finds a request this server sent for the workspace, consumed or not. */
  findRequest(id: string): Promise<StoredRequest | undefined>
}

export interface VerifiedAssertion {
  requestId: string
  assertionId: string
  issuer: string
  email: string
  name: string | null
  /** Time the assertion stops being valid. It is remembered until then so that a replay is rejected. */
  expiresAt: string
}

/** Decodes the SAMLResponse form field and returns its document and the request it names, if any. */
export function readResponse(encoded: string): { document: Document; inResponseTo: string | null } {
  const compact = encoded.replace(/\s+/g, '')
  if (compact === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    throw new SamlRejected('the SAMLResponse field is missing or not base64')
  }
  const xml = Buffer.from(compact, 'base64').toString('utf8')
  if (Buffer.byteLength(xml) > MAX_RESPONSE_BYTES) {
    throw new SamlRejected(`the SAML response is larger than ${MAX_RESPONSE_BYTES / 1024} KiB`)
  }
  let document: Document
  try {
    document = parseUntrustedXml(xml, 'the SAML response')
  } catch (error) {
    if (error instanceof XmlProblem) throw new SamlRejected(error.message)
    throw error
  }
  const root = document.documentElement as Element
  if (root.namespaceURI !== NS.protocol || root.localName !== 'Response') {
    throw new SamlRejected(`the SAML message is a <${root.tagName}>, not a SAML 2.0 Response`)
  }
  return { document, inResponseTo: root.getAttribute('InResponseTo') || null }
}

/**
 * Validates a SAML response posted to the assertion consumer service. Checks that reject run on
 * the raw document first, so each failure gets a precise reason. Then node-saml verifies the
 * signature against the configured certificates, and every value used is read from the part the
 * signature covers.
 */
export async function validateResponse(encoded: string, check: ResponseCheck, at = new Date()): Promise<VerifiedAssertion> {
  const { document, inResponseTo } = readResponse(encoded)
  const root = document.documentElement as Element
  const assertion = checkStructure(document, root)
  checkSignatureAlgorithms(document, root, assertion)

  if (!inResponseTo) {
    throw new SamlRejected('the response is unsolicited (it has no InResponseTo); start the login with flexpa login --sso')
  }
  const request = await check.findRequest(inResponseTo)
  if (!request) {
    throw new SamlRejected(`the response answers request ${inResponseTo}, which this server did not send for this workspace`)
  }
  if (request.consumed_at !== null) {
    throw new SamlRejected(`request ${inResponseTo} was already answered; a response is accepted only once`)
  }
  if (request.expires_at <= at.toISOString()) {
    throw new SamlRejected(`request ${inResponseTo} expired at ${request.expires_at}; start the login again`)
  }

  const destination = root.getAttribute('Destination')
  if (destination !== check.sp.acsUrl) {
    throw new SamlRejected(
      `the response's Destination is ${destination ? `"${destination}"` : 'missing'}; expected ${check.sp.acsUrl}`,
    )
  }
  checkConditions(assertion, check.sp, at)
  checkSubjectConfirmation(assertion, check.sp, inResponseTo, at)

  const profile = await verifyWithNodeSaml(encoded, check, request)
  return readVerifiedAssertion(profile, check, inResponseTo)
}

/** Rejects encrypted or several assertions, duplicate IDs, and signatures outside the two allowed places. */
function checkStructure(document: Document, root: Element): Element {
  if (descendants(document, NS.assertion, 'EncryptedAssertion').length > 0) {
    throw new SamlRejected('the response contains an encrypted assertion; turn off assertion encryption at the identity provider')
  }
  const assertions = descendants(document, NS.assertion, 'Assertion')
  if (assertions.length === 0) throw new SamlRejected(`the response contains no assertion${statusOf(root)}`)
  if (assertions.length > 1) {
    throw new SamlRejected(
      `the response contains ${assertions.length} assertions; exactly one is accepted (a second copy is how signature wrapping works)`,
    )
  }
  const assertion = assertions[0]
  if (assertion.parentNode !== root) {
    throw new SamlRejected('the assertion is not a direct child of the Response, which points to signature wrapping')
  }
  const seen = new Set<string>()
  for (const element of descendants(document, '*', '*')) {
    for (const name of ['ID', 'Id', 'id']) {
      const value = element.getAttribute(name)
      if (!value) continue
      if (seen.has(value)) throw new SamlRejected(`the ID "${value}" appears twice in the response, which points to signature wrapping`)
      seen.add(value)
    }
  }
  return assertion
}

/** Describes a failure status the identity provider sent instead of an assertion, for the error message. */
function statusOf(root: Element): string {
  const status = childElements(root, NS.protocol, 'Status')[0]
  if (!status) return ''
  const codes = descendants(status, NS.protocol, 'StatusCode').map((code) => (code.getAttribute('Value') ?? '').split(':').pop())
  const message = childElements(status, NS.protocol, 'StatusMessage').map(textOf)[0]
  if (codes[0] === 'Success') return ''
  return `; the identity provider reported ${codes.join('/')}${message ? `: ${message.slice(0, 200)}` : ''}`
}

function checkSignatureAlgorithms(document: Document, root: Element, assertion: Element): void {
  const signatures = descendants(document, NS.dsig, 'Signature')
  if (signatures.length === 0) {
    throw new SamlRejected('the response is not signed; the identity provider must sign the assertion or the response')
  }
  for (const signature of signatures) {
    const parent = signature.parentNode as Element
    if (parent !== root && parent !== assertion) {
      throw new SamlRejected(`a signature sits inside <${parent.tagName}>; only the Response and the Assertion may be signed`)
    }
    const references = descendants(signature, NS.dsig, 'Reference')
    const expected = `#${parent.getAttribute('ID') ?? ''}`
    if (references.length !== 1 || references[0].getAttribute('URI') !== expected) {
      throw new SamlRejected(`the signature of <${parent.tagName}> does not reference that element, which points to signature wrapping`)
    }
    for (const method of descendants(signature, NS.dsig, 'SignatureMethod')) {
      const algorithm = method.getAttribute('Algorithm') ?? ''
      if (!SIGNATURE_ALGORITHMS.has(algorithm)) {
        throw new SamlRejected(
          `the response is signed with ${algorithm || 'no algorithm'}${/sha1$/.test(algorithm) ? ' (SHA-1)' : ''}; the identity provider must sign with RSA-SHA256 or ECDSA-SHA256`,
        )
      }
    }
    for (const method of descendants(signature, NS.dsig, 'DigestMethod')) {
      const algorithm = method.getAttribute('Algorithm') ?? ''
      if (!DIGEST_ALGORITHMS.has(algorithm)) {
        throw new SamlRejected(
          `the response uses the digest ${algorithm || 'with no algorithm'}${/sha1$/.test(algorithm) ? ' (SHA-1)' : ''}; the identity provider must use SHA-256`,
        )
      }
    }
  }
}

/** Parses an xs:dateTime attribute, rejecting the response when it is not a valid time. */
function timeOf(value: string, attribute: string): number {
  const time = Date.parse(value)
  if (Number.isNaN(time)) throw new SamlRejected(`the assertion's ${attribute} "${value.slice(0, 40)}" is not a valid time`)
  return time
}

function checkConditions(assertion: Element, sp: ServiceProvider, at: Date): void {
  const conditions = childElements(assertion, NS.assertion, 'Conditions')
  if (conditions.length !== 1) throw new SamlRejected('the assertion must have exactly one Conditions element')
  const notBefore = conditions[0].getAttribute('NotBefore')
  const notOnOrAfter = conditions[0].getAttribute('NotOnOrAfter')
  if (notBefore && timeOf(notBefore, 'NotBefore') - CLOCK_SKEW_MS > at.getTime()) {
    throw new SamlRejected(`the assertion is not valid before ${notBefore}; check the clocks of this server and the identity provider`)
  }
  if (!notOnOrAfter) throw new SamlRejected('the assertion has no NotOnOrAfter time in its Conditions')
  if (timeOf(notOnOrAfter, 'NotOnOrAfter') + CLOCK_SKEW_MS <= at.getTime()) {
    throw new SamlRejected(`the assertion expired at ${notOnOrAfter}`)
  }
  const audiences = childElements(conditions[0], NS.assertion, 'AudienceRestriction').flatMap((restriction) =>
    childElements(restriction, NS.assertion, 'Audience').map(textOf),
  )
  if (!audiences.includes(sp.entityId)) {
    throw new SamlRejected(
      `the assertion's audience is ${audiences.length ? audiences.map((value) => `"${value}"`).join(', ') : 'missing'}; expected this workspace's entity id ${sp.entityId}`,
    )
  }
}

function checkSubjectConfirmation(assertion: Element, sp: ServiceProvider, inResponseTo: string, at: Date): void {
  const data = bearerConfirmations(assertion)
  if (data.length === 0) throw new SamlRejected('the assertion has no bearer SubjectConfirmation')
  for (const confirmation of data) {
    const recipient = confirmation.getAttribute('Recipient')
    if (recipient !== sp.acsUrl) {
      throw new SamlRejected(`the assertion's Recipient is ${recipient ? `"${recipient}"` : 'missing'}; expected ${sp.acsUrl}`)
    }
    const answered = confirmation.getAttribute('InResponseTo')
    if (answered && answered !== inResponseTo) {
      throw new SamlRejected(`the assertion answers request ${answered}, but the response answers ${inResponseTo}`)
    }
    const notOnOrAfter = confirmation.getAttribute('NotOnOrAfter')
    if (!notOnOrAfter) throw new SamlRejected('the assertion\'s SubjectConfirmationData has no NotOnOrAfter time')
    if (timeOf(notOnOrAfter, 'NotOnOrAfter') + CLOCK_SKEW_MS <= at.getTime()) {
      throw new SamlRejected(`the assertion expired at ${notOnOrAfter} (SubjectConfirmationData)`)
    }
  }
}

function bearerConfirmations(assertion: Element): Element[] {
  return childElements(assertion, NS.assertion, 'Subject')
    .flatMap((subject) => childElements(subject, NS.assertion, 'SubjectConfirmation'))
    .filter((confirmation) => confirmation.getAttribute('Method') === BEARER)
    .flatMap((confirmation) => childElements(confirmation, NS.assertion, 'SubjectConfirmationData'))
}

async function verifyWithNodeSaml(encoded: string, check: ResponseCheck, request: StoredRequest): Promise<Profile> {
  const saml = new SAML({
    idpCert: check.idp.certificates,
    idpIssuer: check.idp.entityId,
    issuer: check.sp.entityId,
    audience: check.sp.entityId,
    callbackUrl: check.sp.acsUrl,
    // One valid signature, over the Response or over the Assertion, is required either way:
    // with both flags off node-saml still rejects a response whose assertion no signature covers.
    wantAssertionsSigned: false,
    wantAuthnResponseSigned: false,
    acceptedClockSkewMs: CLOCK_SKEW_MS,
    validateInResponseTo: ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: Date.parse(request.expires_at) - Date.parse(request.created_at),
    // The requests table is the cache, and the route consumes the request once the login succeeds.
    cacheProvider: {
      getAsync: async (key) => (key === request.id ? request.created_at : null),
      saveAsync: async () => null,
      removeAsync: async () => null,
    },
  })
  try {
    const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: encoded })
    if (!profile) throw new SamlRejected('the response carries no assertion')
    return profile
  } catch (error) {
    if (error instanceof SamlRejected) throw error
    throw new SamlRejected(describeNodeSamlError((error as Error).message))
  }
}

function describeNodeSamlError(message: string): string {
  if (/signature/i.test(message)) {
    return "the signature does not verify with the identity provider's certificate in the SSO configuration"
  }
  if (/status/i.test(message) || /provider returned/i.test(message)) return `the identity provider reported a failure: ${message}`
  return `the response was rejected: ${message}`
}

function readVerifiedAssertion(profile: Profile, check: ResponseCheck, inResponseTo: string): VerifiedAssertion {
  const xml = profile.getAssertionXml?.()
  if (!xml) throw new SamlRejected('the response carries no signed assertion')
  const assertion = parseUntrustedXml(xml, 'the signed assertion').documentElement as Element
  if (profile.issuer !== check.idp.entityId) {
    throw new SamlRejected(`the assertion's Issuer is "${profile.issuer ?? ''}"; expected ${check.idp.entityId}`)
  }
  // Recipient is not checked by node-saml, so it is checked again on the signed copy.
  checkSubjectConfirmation(assertion, check.sp, inResponseTo, new Date())
  const notOnOrAfter = childElements(assertion, NS.assertion, 'Conditions')[0]?.getAttribute('NotOnOrAfter')
  if (!notOnOrAfter || Number.isNaN(Date.parse(notOnOrAfter))) {
    throw new SamlRejected('the signed assertion has no valid NotOnOrAfter time in its Conditions')
  }
  const assertionId = assertion.getAttribute('ID')
  if (!assertionId) throw new SamlRejected('the assertion has no ID')

  const email = assertedEmail(profile)
  if (!email) {
    throw new SamlRejected('the assertion carries no email address; send it as the NameID (emailAddress format) or an "email" attribute')
  }
  return {
    requestId: inResponseTo,
    assertionId,
    issuer: profile.issuer,
    email,
    name: assertedName(profile),
    expiresAt: new Date(Date.parse(notOnOrAfter) + CLOCK_SKEW_MS).toISOString(),
  }
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

function firstString(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() || null
  if (Array.isArray(value)) return firstString(value[0])
  return null
}

function assertedEmail(profile: Profile): string | null {
  const attributes = (profile.attributes ?? {}) as Record<string, unknown>
  for (const name of EMAIL_ATTRIBUTES) {
    const value = firstString(attributes[name])
    if (value && EMAIL.test(value)) return value.toLowerCase()
  }
  const nameId = profile.nameID?.trim()
  return nameId && EMAIL.test(nameId) ? nameId.toLowerCase() : null
}

/** Returns the name as a display name, or null when it contains control or bidirectional formatting characters. */
function acceptableName(value: string): string | null {
  const parsed = displayName.safeParse(value.slice(0, 100))
  return parsed.success ? parsed.data : null
}

function assertedName(profile: Profile): string | null {
  const attributes = (profile.attributes ?? {}) as Record<string, unknown>
  for (const name of NAME_ATTRIBUTES) {
    const value = firstString(attributes[name])
    if (value) return acceptableName(value)
  }
  const given = firstString(attributes.givenName ?? attributes['http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname'])
  const family = firstString(attributes.surname ?? attributes.sn ?? attributes['http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname'])
  const full = [given, family].filter(Boolean).join(' ')
  return full ? acceptableName(full) : null
}
