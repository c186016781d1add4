import { DOMParser, type Document, type Element } from '@xmldom/xmldom'

export const NS = {
  metadata: 'urn:oasis:names:tc:SAML:2.0:metadata',
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
} as const

export class XmlProblem extends Error {}

/**
 * Parses untrusted XML. A document type declaration is rejected before parsing, so no DTD,
 * internal entity or external entity is ever processed.
 */
export function parseUntrustedXml(text: string, what: string): Document {
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) {
    throw new XmlProblem(`${what} contains a document type declaration (<!DOCTYPE), which is not allowed because it can define entities`)
  }
  let document: Document
  try {
    document = new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') throw new Error(message)
      },
    }).parseFromString(text, 'text/xml')
  } catch (error) {
    // xmldom wraps the handler's error as 'Reporting fatalError "…" caused Error: …'.
    const reason = (error as Error).message.replace(/^[\s\S]*caused \w*Error: /, '').split('\n')[0]
    throw new XmlProblem(`${what} is not well-formed XML: ${reason}`)
  }
  if (!document.documentElement) throw new XmlProblem(`${what} is empty`)
  return document
}

/** Returns the element children of `parent` with the given namespace and local name. */
export function childElements(parent: Element, namespace: string, localName: string): Element[] {
  const found: Element[] = []
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType !== 1) continue
    const element = node as Element
    if (element.namespaceURI === namespace && element.localName === localName) found.push(element)
  }
  return found
}

export function descendants(root: Document | Element, namespace: string, localName: string): Element[] {
  return Array.from(root.getElementsByTagNameNS(namespace, localName))
}

export function textOf(element: Element): string {
  return (element.textContent ?? '').trim()
}

/** Escapes a value for an XML attribute or text node. */
export function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
}
