import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { inflateRawSync } from 'node:zlib'

import { DOMParser, XMLSerializer, type Element } from '@xmldom/xmldom'
import { SignedXml } from 'xml-crypto'

import { createCertificate, type TestCertificate } from './x509.js'

/**
 * A SAML 2.0 identity provider for tests: its own key and self-signed certificate, its metadata,
 * and real signed responses, correct or broken in one chosen way.
 */

const NS_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol'
const NS_ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion'
const ALGORITHMS = {
  sha256: {
    signature: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    digest: 'http://www.w3.org/2001/04/xmlenc#sha256',
  },
  sha1: {
    signature: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
    digest: 'http://www.w3.org/2000/09/xmldsig#sha1',
  },
}

export interface AuthnRequestInfo {
  id: string
  acsUrl: string
  issuer: string
  destination: string
}

export interface ResponseOptions {
  /** InResponseTo; null sends an unsolicited response. */
  requestId: string | null
  acsUrl: string
  audience: string
  email: string
  name?: string
  destination?: string
  recipient?: string
  issuer?: string
  notBefore?: Date
  notOnOrAfter?: Date
  sign?: 'assertion' | 'response' | 'none'
  /** Signs with this key and certificate instead of the provider's own. */
  signer?: TestCertificate
  algorithm?: 'sha256' | 'sha1'
  assertionId?: string
}

function escape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

function samlId(): string {
  return `_${randomBytes(16).toString('hex')}`
}

export class TestIdp {
  readonly certificate: TestCertificate

  constructor(
    readonly entityId = 'https://idp.example.test/saml/metadata',
    public ssoUrl = 'https://idp.example.test/saml/sso',
    certificate?: TestCertificate,
  ) {
    this.certificate = certificate ?? createCertificate({ commonName: 'idp.example.test' })
  }

  /** Builds the provider's metadata file. `certificates` replaces the signing certificates it lists. */
  metadata(options: { ssoUrl?: string; certificates?: string[]; binding?: 'redirect' | 'post' } = {}): string {
    const binding = options.binding === 'post' ? 'HTTP-POST' : 'HTTP-Redirect'
    const keys = (options.certificates ?? [this.certificate.certificateBase64])
      .map(
        (base64) =>
          `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${base64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
      )
      .join('\n    ')
    return `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${escape(this.entityId)}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="${NS_PROTOCOL}">
    ${keys}
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:${binding}" Location="${escape(options.ssoUrl ?? this.ssoUrl)}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
`
  }

  /** Builds a SAML Response and returns it base64-encoded, as the SAMLResponse form field carries it. */
  response(options: ResponseOptions): string {
    return Buffer.from(this.responseXml(options)).toString('base64')
  }

  responseXml(options: ResponseOptions): string {
    const issued = new Date()
    const notBefore = options.notBefore ?? new Date(issued.getTime() - 60_000)
    const notOnOrAfter = options.notOnOrAfter ?? new Date(issued.getTime() + 5 * 60_000)
    const assertionId = options.assertionId ?? samlId()
    const inResponseTo = options.requestId === null ? '' : ` InResponseTo="${escape(options.requestId)}"`
    const issuer = escape(options.issuer ?? this.entityId)

    const attributes = [
      `<saml:Attribute Name="email"><saml:AttributeValue>${escape(options.email)}</saml:AttributeValue></saml:Attribute>`,
      options.name ? `<saml:Attribute Name="name"><saml:AttributeValue>${escape(options.name)}</saml:AttributeValue></saml:Attribute>` : '',
    ].join('')
    const assertion =
      `<saml:Assertion xmlns:saml="${NS_ASSERTION}" ID="${assertionId}" Version="2.0" IssueInstant="${issued.toISOString()}">` +
      `<saml:Issuer>${issuer}</saml:Issuer>` +
      `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">${escape(options.email)}</saml:NameID>` +
      `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData${inResponseTo} NotOnOrAfter="${notOnOrAfter.toISOString()}" Recipient="${escape(options.recipient ?? options.acsUrl)}"/></saml:SubjectConfirmation></saml:Subject>` +
      `<saml:Conditions NotBefore="${notBefore.toISOString()}" NotOnOrAfter="${notOnOrAfter.toISOString()}"><saml:AudienceRestriction><saml:Audience>${escape(options.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
      `<saml:AuthnStatement AuthnInstant="${issued.toISOString()}" SessionIndex="${samlId()}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
      `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` +
      `</saml:Assertion>`

    const responseId = samlId()
    const xml =
      `<samlp:Response xmlns:samlp="${NS_PROTOCOL}" xmlns:saml="${NS_ASSERTION}" ID="${responseId}" Version="2.0" IssueInstant="${issued.toISOString()}" Destination="${escape(options.destination ?? options.acsUrl)}"${inResponseTo}>` +
      `<saml:Issuer>${issuer}</saml:Issuer>` +
      `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
      assertion +
      `</samlp:Response>`

    const sign = options.sign ?? 'assertion'
    if (sign === 'none') return xml
    const signer = options.signer ?? this.certificate
    const algorithm = ALGORITHMS[options.algorithm ?? 'sha256']
    const target = sign === 'assertion' ? `//*[@ID='${assertionId}']` : `//*[@ID='${responseId}']`
    const signed = new SignedXml({
      privateKey: signer.privateKeyPem,
      publicCert: signer.certificatePem,
      signatureAlgorithm: algorithm.signature,
      canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
    })
    signed.addReference({
      xpath: target,
      transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
      digestAlgorithm: algorithm.digest,
    })
    signed.computeSignature(xml, {
      prefix: 'ds',
      location: { reference: `${target}/*[local-name()='Issuer']`, action: 'after' },
    })
    return signed.getSignedXml()
  }
}

/** Reads the AuthnRequest that the HTTP-Redirect binding carries in a URL's SAMLRequest parameter. */
export function readAuthnRequest(location: string): AuthnRequestInfo {
  const encoded = new URL(location).searchParams.get('SAMLRequest')
  if (!encoded) throw new Error(`no SAMLRequest in ${location}`)
  const xml = inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8')
  const root = new DOMParser().parseFromString(xml, 'text/xml').documentElement as Element
  const issuer = root.getElementsByTagNameNS(NS_ASSERTION, 'Issuer')[0]
  return {
    id: root.getAttribute('ID') ?? '',
    acsUrl: root.getAttribute('AssertionConsumerServiceURL') ?? '',
    destination: root.getAttribute('Destination') ?? '',
    issuer: issuer?.textContent ?? '',
  }
}

/**
 * Rewrites a response signed over its assertion into the classic wrapping attack: a forged
 * assertion for `email` takes the signed one's place, and the signed original hides inside the
 * forged one, where a careless verifier still finds a valid signature.
 */
export function wrapSignature(encoded: string, email: string): string {
  const document = new DOMParser().parseFromString(Buffer.from(encoded, 'base64').toString('utf8'), 'text/xml')
  const root = document.documentElement as Element
  const original = root.getElementsByTagNameNS(NS_ASSERTION, 'Assertion')[0]
  const forged = original.cloneNode(true) as Element
  forged.setAttribute('ID', samlId())
  const signature = forged.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature')[0]
  forged.removeChild(signature)
  forged.getElementsByTagNameNS(NS_ASSERTION, 'NameID')[0].textContent = email
  forged.getElementsByTagNameNS(NS_ASSERTION, 'AttributeValue')[0].textContent = email
  root.replaceChild(forged, original)
  const subject = forged.getElementsByTagNameNS(NS_ASSERTION, 'Subject')[0]
  forged.insertBefore(original, subject)
  return Buffer.from(new XMLSerializer().serializeToString(document)).toString('base64')
}

export interface IdpServer {
  url: string
  /** The person the provider logs in next. */
  user: { email: string; name?: string }
  close(): Promise<void>
}

/**
 * Serves the provider's single sign-on URL over HTTPS on 127.0.0.1: it reads the AuthnRequest and
 * responds with a page that posts a signed response to the request's assertion consumer service,
 * as a real provider does once the person has signed in.
 */
export async function startIdpServer(idp: TestIdp, user: { email: string; name?: string }): Promise<IdpServer> {
  const tls = createCertificate({ commonName: '127.0.0.1' })
  const state = { user }
  const server: Server = createServer({ key: tls.privateKeyPem, cert: tls.certificatePem }, (request, response) => {
    const url = new URL(request.url ?? '/', 'https://127.0.0.1')
    if (url.pathname !== '/sso' || !url.searchParams.get('SAMLRequest')) {
      response.writeHead(404).end('not found')
      return
    }
    const authn = readAuthnRequest(url.toString())
    const samlResponse = idp.response({
      requestId: authn.id,
      acsUrl: authn.acsUrl,
      audience: authn.issuer,
      email: state.user.email,
      name: state.user.name,
    })
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    response.end(
      `<!doctype html><html><body onload="document.forms[0].submit()"><form method="post" action="${escape(authn.acsUrl)}">` +
        `<input type="hidden" name="SAMLResponse" value="${samlResponse}">` +
        `<input type="hidden" name="RelayState" value="${escape(url.searchParams.get('RelayState') ?? '')}">` +
        `</form></body></html>`,
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  idp.ssoUrl = `https://127.0.0.1:${port}/sso`
  return {
    url: idp.ssoUrl,
    get user() {
      return state.user
    },
    set user(next) {
      state.user = next
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
