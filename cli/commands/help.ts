import { Args, Command, loadHelpClass } from '@oclif/core'

import { EXIT } from '../../shared/errors.js'
import { terminalSafe } from '../output.js'

export default class Help extends Command {
  static override summary = 'Show help for a command or topic'
  static override description = 'Shows the usage, flags and examples of a command, or the commands of a topic; the same as adding --help.'
  static override examples = ['<%= config.bin %> help', '<%= config.bin %> help keys', '<%= config.bin %> help keys rotate']
  static override strict = false
  static override args = { command: Args.string({ description: 'Command or topic, as words (keys rotate)', required: false }) }

  async run(): Promise<void> {
    const { argv } = await this.parse(Help)
    const HelpClass = await loadHelpClass(this.config)
    const help = new HelpClass(this.config, this.config.pjson.oclif.helpOptions ?? this.config.pjson.helpOptions)
    const words = (argv as string[]).filter((word) => !word.startsWith('-'))
    const subject = words.join(':')
    if (subject && !this.config.findCommand(subject) && !this.config.findTopic(subject)) {
      process.stderr.write(`Error: unknown command or topic "${terminalSafe(words.join(' '))}"; see flexpa --help\n`)
      process.exitCode = EXIT.usage
      return
    }
    await help.showHelp(words.length > 0 ? [subject] : [])
  }
}
