import type { Generated } from 'kysely'

/** The workspace's identity provider, as read from its metadata file. */
export interface SsoConfigsTable {
  workspace_id: string
  idp_entity_id: string
  idp_sso_url: string
  /** The SAML binding of `idp_sso_url`: HTTP-Redirect or HTTP-POST. */
  idp_sso_binding: 'redirect' | 'post'
  /** JSON array of PEM certificates whose keys may sign responses. */
  idp_certificates: string
  enforced: Generated<number>
  created_at: string
  updated_at: string
}

/** An email domain whose people may join the workspace through its identity provider. */
export interface SsoDomainsTable {
  domain: string
  workspace_id: string
  created_at: string
}

/** An AuthnRequest sent to the identity provider, which a response must name in `InResponseTo`. */
export interface SsoRequestsTable {
  /** The AuthnRequest's ID attribute. */
  id: string
  workspace_id: string
  /** The CLI's loopback URL that receives the one-time code. */
  redirect_uri: string
  /** PKCE S256 challenge of the CLI. */
  code_challenge: string
  /** The CLI's state value, returned with the code. */
  state: string
  created_at: string
  expires_at: string
  consumed_at: string | null
}

/** An assertion already accepted, kept until it expires so it cannot be used twice. */
export interface SsoAssertionsTable {
  /** SHA-256 of the issuer and the assertion ID. */
  id_hash: string
  workspace_id: string
  created_at: string
  expires_at: string
}

/** A one-time code handed to the CLI's loopback URL, exchanged for a session with the PKCE verifier. */
export interface SsoCodesTable {
  code_hash: string
  workspace_id: string
  user_id: string
  redirect_uri: string
  code_challenge: string
  joined: Generated<number>
  created_at: string
  expires_at: string
  used_at: string | null
}

/** A person who logged in to a workspace through its identity provider. */
export interface SsoIdentitiesTable {
  workspace_id: string
  user_id: string
  /** The address the identity provider asserted. */
  email: string
  /** 1 when the account was created by this login, so the identity provider is its only way in. */
  created_account: Generated<number>
  created_at: string
  last_login_at: string
}

declare module '../db/schema.js' {
  interface Database {
    sso_configs: SsoConfigsTable
    sso_domains: SsoDomainsTable
    sso_requests: SsoRequestsTable
    sso_assertions: SsoAssertionsTable
    sso_codes: SsoCodesTable
    sso_identities: SsoIdentitiesTable
  }
}
