import { BaseCommand, workspaceFlag } from '../base.js'

interface Step {
  step: string
  title: string
  done: boolean
  detail: string
  command: string
}

export default class Home extends BaseCommand<typeof Home> {
  static override summary = 'Show the go-live checklist of the workspace'
  static override description =
    'Shows each step from test mode to live keys, done or not: create an application, get test keys, see a first test access token, submit the Live Mode Access form, approval, payment details and live keys, with the command for the next step. Needs settings:read.'
  static override examples = ['<%= config.bin %> home', '<%= config.bin %> home --workspace Acme --json']
  static override flags = { ...workspaceFlag }

  async run(): Promise<void> {
    const { body } = await (await this.client()).request('GET', this.workspacePath('/home'))
    await this.output(body, () => {
      this.log(`Go-live checklist for ${body.workspace.name} (${body.workspace.id})`)
      body.steps.forEach((step: Step, index: number) => {
        this.log(`  ${step.done ? '[x]' : '[ ]'} ${index + 1}. ${step.title}: ${step.detail}`)
      })
      if (body.next_step) this.log(`Next: ${body.next_step.command}`)
      else this.log('All steps are done: the workspace is live.')
    })
  }
}
