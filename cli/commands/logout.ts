import { BaseCommand } from '../base.js'
import { deleteCredential } from '../credentials.js'
import { CliError } from '../errors.js'
import { note } from '../output.js'

export default class Logout extends BaseCommand<typeof Logout> {
  static override summary = 'End the session on the server and forget its token'
  static override description = 'Revokes the current session on the server, then removes the token from the keychain and the credentials file.'
  static override examples = ['<%= config.bin %> logout']

  async run(): Promise<void> {
    const credential = await this.credential()
    if (!credential) {
      await this.output({ logged_out: false }, () => note('You were not logged in.'))
      return
    }
    if (credential.source === 'env') {
      throw new CliError('the token comes from FLEXPA_TOKEN; unset it to log out', 2, { code: 'invalid_usage' })
    }
    let revoked = true
    try {
      await (await this.client()).request('POST', '/v1/auth/logout', { accept: [401] })
    } catch (error) {
      if (!(error instanceof CliError) || error.exitCode !== 7) throw error
      revoked = false
      note(`Warning: ${error.message}; the local token was removed but the session was not revoked on the server`)
    }
    await deleteCredential(this.settings, this.apiUrl)
    await this.output({ logged_out: true, session_revoked: revoked }, () => note('Logged out.'))
  }
}
