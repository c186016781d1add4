import pino, { type Logger } from 'pino'

/** Creates the server's JSON-lines logger; credentials in headers are redacted. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'flexpa-server' },
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', '*.password', '*.token', '*.secret_key'],
        censor: '[redacted]',
      },
    },
    destination,
  )
}
