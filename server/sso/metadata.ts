import { X509Certificate } from 'node:crypto'

import type { Element } from '@xmldom/xmldom'

import { childElements, descendants, escapeXml, NS, parseUntrustedXml, textOf, XmlProblem } from './xml.js'

const BINDINGS = {
  'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect': 'redirect',
  'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST': 'post',
} as const

const MIN_RSA_BITS = 2048
export const MAX_METADATA_BYTES = 512 * 1024

export interface IdpMetadata {
  entityId: string
  ssoUrl: string
  binding: 'redirect' | 'post'
  /** PEM certificates from the signing key descriptors. */
  certificates: string[]
}

export interface CertificateSummary {
  subject: string
  fingerprint_sha256: string
  not_after: string
  key: string
}

/** Every problem found in a metadata file, each as its own message. */
export class MetadataProblems extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '))
  }
}

/**
 * Parses an identity provider's SAML metadata and checks what login depends on: one entity id,
 * an HTTPS single sign-on URL with a binding we can send to, and signing certificates that are
 * valid now and carry an RSA key of at least 2048 bits or an EC key.
 */
export function parseIdpMetadata(xml: string, at: Date = new Date()): IdpMetadata {
  if (Buffer.byteLength(xml, 'utf8') > MAX_METADATA_BYTES) {
    throw new MetadataProblems([`the metadata file is larger than ${MAX_METADATA_BYTES / 1024} KiB`])
  }
  let descriptor: Element
  try {
    descriptor = entityDescriptor(parseUntrustedXml(xml, 'the metadata file').documentElement as Element)
  } catch (error) {
    if (error instanceof XmlProblem) throw new MetadataProblems([error.message])
    throw error
  }
  const problems: string[] = []

  const validUntil = descriptor.getAttribute('validUntil')
  if (validUntil && Date.parse(validUntil) <= at.getTime()) {
    problems.push(`the metadata expired at ${validUntil} (validUntil); download a current copy from the identity provider`)
  }

  const entityId = (descriptor.getAttribute('entityID') ?? '').trim()
  if (entityId === '') problems.push('the EntityDescriptor has no entityID attribute')
  else if (entityId.length > 1024) problems.push('the entityID is longer than 1024 characters')

  const idp = childElements(descriptor, NS.metadata, 'IDPSSODescriptor')
  if (idp.length !== 1) {
    problems.push(
      idp.length === 0
        ? 'the metadata has no IDPSSODescriptor; is this the identity provider\'s metadata rather than a service provider\'s?'
        : `the metadata has ${idp.length} IDPSSODescriptor elements; expected one`,
    )
    throw new MetadataProblems(problems)
  }
  const protocols = (idp[0].getAttribute('protocolSupportEnumeration') ?? '').split(/\s+/)
  if (!protocols.includes(NS.protocol)) {
    problems.push(`the IDPSSODescriptor does not list SAML 2.0 (${NS.protocol}) in protocolSupportEnumeration`)
  }

  const service = singleSignOnService(idp[0], problems)
  const certificates = signingCertificates(idp[0], at, problems)

  if (problems.length > 0 || !service) throw new MetadataProblems(problems)
  return { entityId, ssoUrl: service.url, binding: service.binding, certificates }
}

function entityDescriptor(root: Element): Element {
  if (root.namespaceURI === NS.metadata && root.localName === 'EntityDescriptor') return root
  if (root.namespaceURI === NS.metadata && root.localName === 'EntitiesDescriptor') {
    const withIdp = descendants(root, NS.metadata, 'EntityDescriptor').filter(
      (entity) => childElements(entity, NS.metadata, 'IDPSSODescriptor').length > 0,
    )
    if (withIdp.length === 1) return withIdp[0]
    throw new XmlProblem(
      `the metadata file describes ${withIdp.length} identity providers; export the metadata of the one application you set up`,
    )
  }
  throw new XmlProblem(
    `the metadata file's root element is <${root.tagName}>; expected a SAML 2.0 EntityDescriptor (${NS.metadata})`,
  )
}

function singleSignOnService(idp: Element, problems: string[]): { url: string; binding: 'redirect' | 'post' } | null {
  const services = childElements(idp, NS.metadata, 'SingleSignOnService')
  const usable = services
    .map((service) => ({
      binding: BINDINGS[service.getAttribute('Binding') as keyof typeof BINDINGS],
      location: (service.getAttribute('Location') ?? '').trim(),
    }))
    .filter((service) => service.binding !== undefined)
    // HTTP-Redirect first: it needs no page of our own between the CLI and the identity provider.
    .sort((a, b) => (a.binding === b.binding ? 0 : a.binding === 'redirect' ? -1 : 1))
  if (usable.length === 0) {
    problems.push('the metadata has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding')
    return null
  }
  const chosen = usable[0]
  let url: URL
  try {
    url = new URL(chosen.location)
  } catch {
    problems.push(`the single sign-on URL "${chosen.location}" is not an absolute URL`)
    return null
  }
  if (url.protocol !== 'https:') {
    problems.push(`the single sign-on URL ${chosen.location} does not use HTTPS`)
    return null
  }
  return { url: url.toString(), binding: chosen.binding }
}

function signingCertificates(idp: Element, at: Date, problems: string[]): string[] {
  const keyDescriptors = childElements(idp, NS.metadata, 'KeyDescriptor').filter((descriptor) => {
    const use = descriptor.getAttribute('use')
    return !use || use === 'signing'
  })
  const encoded = keyDescriptors.flatMap((descriptor) =>
    descendants(descriptor, NS.dsig, 'X509Certificate').map((element) => textOf(element).replace(/\s+/g, '')),
  )
  if (encoded.length === 0) {
    problems.push('the IDPSSODescriptor has no signing certificate (KeyDescriptor with an X509Certificate)')
    return []
  }
  const pems: string[] = []
  encoded.forEach((base64, index) => {
    const label = encoded.length > 1 ? `signing certificate ${index + 1}` : 'the signing certificate'
    const pem = toPem(base64)
    const problem = certificateProblem(pem, at)
    if (problem) problems.push(`${label} ${problem}`)
    else pems.push(pem)
  })
  return pems
}

export function toPem(base64: string): string {
  const lines = base64.match(/.{1,64}/g) ?? []
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`
}

/** Returns what makes a certificate unusable for checking signatures, or null. */
export function certificateProblem(pem: string, at: Date = new Date()): string | null {
  let certificate: X509Certificate
  try {
    certificate = new X509Certificate(pem)
  } catch {
    return 'is not a valid X.509 certificate'
  }
  if (Date.parse(certificate.validTo) <= at.getTime()) {
    return `expired on ${new Date(certificate.validTo).toISOString()}`
  }
  if (Date.parse(certificate.validFrom) > at.getTime()) {
    return `is not valid until ${new Date(certificate.validFrom).toISOString()}`
  }
  const key = certificate.publicKey
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
    if (bits < MIN_RSA_BITS) return `has a ${bits}-bit RSA key; at least ${MIN_RSA_BITS} bits are required`
    return null
  }
  if (key.asymmetricKeyType === 'ec') return null
  return `has a ${key.asymmetricKeyType ?? 'unknown'} key; RSA (at least ${MIN_RSA_BITS} bits) or EC is required`
}

export function summarizeCertificate(pem: string): CertificateSummary {
  const certificate = new X509Certificate(pem)
  const key = certificate.publicKey
  const details = key.asymmetricKeyDetails
  return {
    subject: certificate.subject.replace(/\n/g, ', '),
    fingerprint_sha256: certificate.fingerprint256,
    not_after: new Date(certificate.validTo).toISOString(),
    key: key.asymmetricKeyType === 'rsa' ? `RSA ${details?.modulusLength}` : `EC ${details?.namedCurve ?? ''}`.trim(),
  }
}

export interface ServiceProvider {
  entityId: string
  acsUrl: string
  metadataUrl: string
}

/** Builds our service-provider metadata: signed assertions required, one HTTP-POST consumer service. */
export function serviceProviderMetadata(sp: ServiceProvider): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<md:EntityDescriptor xmlns:md="${NS.metadata}" entityID="${escapeXml(sp.entityId)}">`,
    `  <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" protocolSupportEnumeration="${NS.protocol}">`,
    '    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>',
    `    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${escapeXml(sp.acsUrl)}" index="0" isDefault="true"/>`,
    '  </md:SPSSODescriptor>',
    '</md:EntityDescriptor>',
    '',
  ].join('\n')
}
