import { BaseCommand } from '../../base.js'

export default class ProfileShow extends BaseCommand<typeof ProfileShow> {
  static override summary = 'Show your profile'
  static override description = 'Shows your display name, email address and whether it is verified.'
  static override examples = ['<%= config.bin %> profile show', '<%= config.bin %> profile show --json']

  async run(): Promise<void> {
    const { body } = await (await this.client()).request('GET', '/v1/profile')
    await this.output(body, () =>
      this.log(
        [
          `Name:     ${body.name}`,
          `Email:    ${body.email}${body.email_verified ? '' : ' (not verified)'}`,
          `User id:  ${body.id}`,
          `Created:  ${body.created_at}`,
        ].join('\n'),
      ),
    )
  }
}
