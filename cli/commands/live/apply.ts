import { readFile } from 'node:fs/promises'

import { Flags } from '@oclif/core'

import { EXIT } from '../../../shared/errors.js'
import { HIPAA_ROLES, LiveAccessForm, liveAccessFields, USAGES, type LiveAccessField } from '../../../shared/schemas.js'
import { BaseCommand, workspaceFlag } from '../../base.js'
import { CliError } from '../../errors.js'
import { isInteractive, promptSelect, promptText } from '../../input.js'
import { note } from '../../output.js'

/** The form's fields in the order they are asked, with their questions. */
const QUESTIONS: { field: LiveAccessField; question: string }[] = [
  { field: 'organization_name', question: "Organization's legal name" },
  { field: 'website', question: 'Website (https://…)' },
  { field: 'use_case', question: 'Use case: what does the application do with the data?' },
  { field: 'expected_monthly_connections', question: 'Expected patient connections per month' },
  { field: 'usage', question: 'Usage' },
  { field: 'privacy_policy_url', question: 'Privacy policy URL' },
  { field: 'terms_of_service_url', question: 'Terms of service URL' },
  { field: 'contact_name', question: 'Contact name' },
  { field: 'contact_email', question: 'Contact email' },
  { field: 'hipaa_role', question: 'HIPAA role' },
]

function flagName(field: LiveAccessField): string {
  return field.replace(/_/g, '-')
}

/** Converts numeric text to a number and leaves other text as is, so the schema reports "must be a number". */
function toCount(value: string): number | string {
  return /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value
}

function checkField(field: LiveAccessField, value: unknown): true | string {
  const result = liveAccessFields[field].safeParse(value)
  return result.success ? true : result.error.issues[0].message
}

const descriptions: Record<LiveAccessField, string> = {
  organization_name: "The organization's legal name",
  website: "The organization's website (https)",
  use_case: 'What the application does with the data (at least 20 characters)',
  expected_monthly_connections: 'Expected patient connections per month (a whole number)',
  usage: 'ONE_TIME (one download) or MULTIPLE (refreshed access)',
  privacy_policy_url: 'URL of the privacy policy (https)',
  terms_of_service_url: 'URL of the terms of service (https)',
  contact_name: 'Name of the person to contact about this form',
  contact_email: 'Email address of that person',
  hipaa_role: 'covered_entity, business_associate or neither',
}

const fieldFlags = Object.fromEntries(
  QUESTIONS.map(({ field }) => [flagName(field), Flags.string({ description: descriptions[field], helpValue: '<value>' })]),
) as Record<string, ReturnType<typeof Flags.string>>

export default class LiveApply extends BaseCommand<typeof LiveApply> {
  static override summary = 'Submit the Live Mode Access form'
  static override description =
    'Sends the short form about your organization that Flexpa reviews before live keys can be issued. At a terminal it asks for each field not given; otherwise every field comes from the flags or from --from-file, a JSON file with the keys organization_name, website, use_case, expected_monthly_connections, usage, privacy_policy_url, terms_of_service_url, contact_name, contact_email and hipaa_role (flags win over the file). A rejected form can be corrected and sent again. Needs settings:manage.'
  static override examples = [
    '<%= config.bin %> live apply',
    '<%= config.bin %> live apply --from-file form.json',
    '<%= config.bin %> live apply --from-file form.json --website https://acme.example --json',
  ]
  static override flags = {
    ...workspaceFlag,
    ...fieldFlags,
    'from-file': Flags.string({ description: 'Read the form from this JSON file (keys in snake_case)', helpValue: '<path>' }),
  }

  async run(): Promise<void> {
    const answers = { ...(await this.readFile()), ...this.fromFlags() }
    await this.askForMissing(answers)
    const form = this.validate(answers)

    const { body } = await (await this.client()).request('POST', this.workspacePath('/live-access'), { body: form })
    await this.output(body, () => {
      note(`Submitted the Live Mode Access form ${body.id}: ${body.status}`)
      note("Flexpa reviews the form and emails the workspace's admins the decision; flexpa live status shows it.")
    })
  }

  private async readFile(): Promise<Record<string, unknown>> {
    const path = this.flags['from-file']
    if (!path) return {}
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      throw new CliError(`cannot read --from-file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, EXIT.usage, { code: 'invalid_usage' })
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      throw new CliError(`--from-file ${path} is not valid JSON: ${(error as Error).message}`, EXIT.usage, { code: 'invalid_usage' })
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new CliError(`--from-file ${path} must contain one JSON object with the form's fields`, EXIT.usage, { code: 'invalid_usage' })
    }
    return parsed as Record<string, unknown>
  }

  private fromFlags(): Record<string, unknown> {
    const answers: Record<string, unknown> = {}
    const flags = this.flags as unknown as Record<string, string | undefined>
    for (const { field } of QUESTIONS) {
      const value = flags[flagName(field)]
      if (value === undefined) continue
      answers[field] = field === 'expected_monthly_connections' ? toCount(value) : value
    }
    return answers
  }

  private async askForMissing(answers: Record<string, unknown>): Promise<void> {
    const missing = QUESTIONS.filter(({ field }) => answers[field] === undefined)
    if (missing.length === 0) return
    if (!isInteractive()) {
      const names = missing.map(({ field }) => `--${flagName(field)}`).join(', ')
      throw new CliError(`missing ${names} (stdin is not a terminal, so the CLI cannot ask); pass them as flags or use --from-file`, EXIT.usage, {
        code: 'missing_flag',
      })
    }
    for (const { field, question } of missing) answers[field] = await this.ask(field, question)
  }

  private async ask(field: LiveAccessField, question: string): Promise<unknown> {
    if (field === 'usage') return promptSelect(question, USAGES.map((value) => ({ name: value, value })))
    if (field === 'hipaa_role') {
      return promptSelect(question, HIPAA_ROLES.map((value) => ({ name: value.replace(/_/g, ' '), value })))
    }
    if (field === 'expected_monthly_connections') {
      const text = await promptText(question, { validate: (value) => checkField(field, toCount(value)) })
      return toCount(text)
    }
    return promptText(question, { validate: (value) => checkField(field, value) })
  }

  /** Checks the whole form and reports every invalid field at once, each by its name. */
  private validate(answers: Record<string, unknown>) {
    const result = LiveAccessForm.safeParse(answers)
    if (result.success) return result.data
    const problems = result.error.issues.map((issue) => {
      const field = issue.path.map(String).join('.')
      return field ? `${field} (--${flagName(field as LiveAccessField)}): ${issue.message}` : issue.message
    })
    throw new CliError(`the Live Mode Access form is invalid:\n  ${problems.join('\n  ')}`, EXIT.usage, { code: 'validation_failed' })
  }
}
