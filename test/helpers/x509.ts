import { createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto'

/**
 * A minimal X.509 v3 certificate builder (DER by hand), so tests can make self-signed
 * certificates with any validity period and key, including ones that must be rejected.
 */

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let value = n; value > 0; value >>= 8) bytes.unshift(value & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content])
}

const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items))
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items))

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number)
  const bytes = [parts[0] * 40 + parts[1]]
  for (const part of parts.slice(2)) {
    const encoded: number[] = [part & 0x7f]
    for (let value = part >> 7; value > 0; value >>= 7) encoded.unshift((value & 0x7f) | 0x80)
    bytes.push(...encoded)
  }
  return tlv(0x06, Buffer.from(bytes))
}

function integer(bytes: Buffer): Buffer {
  return tlv(0x02, bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes)
}

function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14)
  // UTCTime for 1950-2049, GeneralizedTime otherwise (RFC 5280, 4.1.2.5).
  const year = date.getUTCFullYear()
  return year < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`))
}

function name(commonName: string): Buffer {
  return sequence(set(sequence(oid('2.5.4.3'), tlv(0x0c, Buffer.from(commonName)))))
}

export interface TestCertificate {
  privateKeyPem: string
  certificatePem: string
  /** The DER certificate in base64 on one line, as metadata's X509Certificate element contains it. */
  certificateBase64: string
}

export interface CertificateOptions {
  commonName?: string
  notBefore?: Date
  notAfter?: Date
  key?: { type: 'rsa'; bits: number } | { type: 'ec'; curve: string }
}

/** Creates a key pair and a self-signed certificate for it. */
export function createCertificate(options: CertificateOptions = {}): TestCertificate {
  const key = options.key ?? { type: 'rsa', bits: 2048 }
  const pair =
    key.type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: key.bits })
      : generateKeyPairSync('ec', { namedCurve: key.curve })
  const notBefore = options.notBefore ?? new Date(Date.now() - 86_400_000)
  const notAfter = options.notAfter ?? new Date(Date.now() + 365 * 86_400_000)
  const algorithm =
    key.type === 'rsa' ? sequence(oid('1.2.840.113549.1.1.11'), tlv(0x05, Buffer.alloc(0))) : sequence(oid('1.2.840.10045.4.3.2'))
  const subject = name(options.commonName ?? 'Test Identity Provider')
  const tbs = sequence(
    tlv(0xa0, integer(Buffer.from([2]))),
    integer(randomBytes(12)),
    algorithm,
    subject,
    sequence(time(notBefore), time(notAfter)),
    subject,
    pair.publicKey.export({ type: 'spki', format: 'der' }),
  )
  const signature = sign('sha256', tbs, pair.privateKey)
  const der = sequence(tbs, algorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])))
  const certificate = new X509Certificate(der)
  return {
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certificatePem: certificate.toString(),
    certificateBase64: der.toString('base64'),
  }
}

export function privateKeyOf(pem: string): KeyObject {
  return createPrivateKey(pem)
}
