import { Flags } from '@oclif/core'

import { BaseCommand } from '../../base.js'
import { usageError } from '../../errors.js'
import { note } from '../../output.js'

export default class ProfileUpdate extends BaseCommand<typeof ProfileUpdate> {
  static override summary = 'Change your display name'
  static override description = 'Changes the display name that your team sees.'
  static override examples = ["<%= config.bin %> profile update --name 'Ada King'"]
  static override flags = { name: Flags.string({ description: 'New display name' }) }

  async run(): Promise<void> {
    if (this.flags.name === undefined) throw usageError('nothing to change: pass --name <display name>')
    const { body } = await (await this.client()).request('PATCH', '/v1/profile', { body: { name: this.flags.name } })
    await this.output(body, () => note(`Display name is now ${body.name}.`))
  }
}
