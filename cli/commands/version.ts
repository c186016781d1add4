import { Command, Flags } from '@oclif/core'

export default class Version extends Command {
  static override summary = 'Show the version of the CLI'
  static override description = 'Prints the version of flexpa with the platform and the Node.js version it runs on, the same as --version.'
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> version --json']
  static override flags = {
    json: Flags.boolean({ description: 'Print one JSON document on stdout and nothing else there', default: false }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Version)
    if (flags.json) {
      const { version, platform, arch } = this.config
      process.stdout.write(`${JSON.stringify({ version, platform, arch, node: process.versions.node }, null, 2)}\n`)
      return
    }
    this.log(this.config.userAgent)
  }
}
