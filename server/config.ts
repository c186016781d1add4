import { homedir } from 'node:os'
import { join } from 'node:path'

export interface Config {
  port: number
  host: string
  databaseUrl: string
  dataDir: string
  publicUrl: string
  smtpUrl: string | null
  mailFrom: string
  stripeSecretKey: string | null
  stripeWebhookSecret: string | null
  stripeApiBase: string | null
  operatorEmails: string[]
  logLevel: string
  /** Ingestion requests allowed per application key per minute. */
  ingestRateLimit: number
  /** How often the server deletes access tokens past their retention, in milliseconds. */
  logSweepIntervalMs: number
}

export class ConfigError extends Error {}

/** Returns the data directory: `FLEXPA_DATA_DIR`, else `$XDG_DATA_HOME/flexpa`, else `~/.local/share/flexpa`. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  if (env.FLEXPA_DATA_DIR) return env.FLEXPA_DATA_DIR
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share')
  return join(base, 'flexpa')
}

function parsePositiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const number = Number(value)
  if (!Number.isSafeInteger(number) || number < 1) {
    throw new ConfigError(`${name} must be a positive integer, got "${value}"`)
  }
  return number
}

function parsePort(value: string | undefined): number {
  if (value === undefined || value === '') return 8787
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`PORT must be an integer from 0 to 65535, got "${value}"`)
  }
  return port
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = parsePort(env.PORT)
  const host = env.HOST || '127.0.0.1'
  const dataDir = defaultDataDir(env)
  const databaseUrl = env.DATABASE_URL || `sqlite:${join(dataDir, 'flexpa.db')}`
  if (!/^(sqlite:|postgres:\/\/|postgresql:\/\/)/.test(databaseUrl)) {
    throw new ConfigError(
      `DATABASE_URL must start with sqlite: or postgres://, got "${databaseUrl.split(':')[0]}:…"`,
    )
  }
  const publicUrl = (env.PUBLIC_URL || `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/+$/, '')
  return {
    port,
    host,
    databaseUrl,
    dataDir,
    publicUrl,
    smtpUrl: env.SMTP_URL || null,
    mailFrom: env.MAIL_FROM || 'Flexpa Portal <no-reply@localhost>',
    stripeSecretKey: env.STRIPE_SECRET_KEY || null,
    stripeWebhookSecret: env.STRIPE_WEBHOOK_SECRET || null,
    stripeApiBase: env.STRIPE_API_BASE || null,
    operatorEmails: (env.FLEXPA_OPERATOR_EMAILS || '')
      .split(',')
      .map((email) => email.trim().toLowerCase())
      .filter(Boolean),
    logLevel: env.LOG_LEVEL || 'info',
    ingestRateLimit: parsePositiveInteger('INGEST_RATE_LIMIT', env.INGEST_RATE_LIMIT, 300_000),
    logSweepIntervalMs: parsePositiveInteger('LOG_SWEEP_INTERVAL_MS', env.LOG_SWEEP_INTERVAL_MS, 600_000),
  }
}
