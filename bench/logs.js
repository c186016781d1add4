#!/usr/bin/env node
// Benchmarks access-token logs on SQLite with 1,000,000 seeded rows. It measures sustained
// ingestion over HTTP, the first page of `logs list` with two filters, a page 1,000 pages deep,
// analytics over 30 days, the delay from a write to `logs tail` printing it, and the server's memory.
// Run `npm run build` first. Prints a table and writes bench/results/logs.json.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

import Database from 'better-sqlite3'
import { Pool } from 'undici'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const SEED_ROWS = Number(process.env.BENCH_SEED_ROWS ?? 1_000_000)
const INGEST_SECONDS = Number(process.env.BENCH_INGEST_SECONDS ?? 30)
const INGEST_CONCURRENCY = 64
const PAGE_SIZE = 50
const DEEP_PAGES = 1000
const SAMPLES = 50
const TAIL_SAMPLES = 200
const DAY_MS = 86_400_000

const LIVE_ENDPOINTS = [
  '1f0d8a6e-3c2b-4e5a-9b7d-0a1c2e3f4a51',
  '2b7e4c1d-8f3a-4d6b-a2c9-1e5f7a9b3c62',
  '3c8f5d2e-9a4b-4e7c-b3da-2f6a8b0c4d73',
  '5e0b7f4a-1c6d-4a9e-95fc-4b8c0d2e6f95',
  '6f1c8a5b-2d7e-4b0f-a60d-5c9d1e3f7a06',
  '8b3e0c7d-4f9a-4d2b-882f-7e1f3a5b9c28',
]
const SANDBOX_HUMANA = 'b16b3f0a-7c2d-4a5e-bb52-0b4c6d8e2f5b'

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

function summary(values) {
  return {
    p50_ms: round(percentile(values, 50)),
    p95_ms: round(percentile(values, 95)),
    max_ms: round(Math.max(...values)),
    samples: values.length,
  }
}

function round(value) {
  return Math.round(value * 100) / 100
}

/** Resident memory of a process in MiB, from /proc (Linux only). */
function rssMiB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024
  } catch {
    return null
  }
}

/** CPU time (user and system) a process has used, in milliseconds, from /proc (Linux only). */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks; Linux reports 100 ticks a second.
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return null
  }
}

async function startServer(databaseFile) {
  const child = spawn(process.execPath, [join(ROOT, 'bin/server.js')], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${databaseFile}`,
      FLEXPA_DATA_DIR: dirname(databaseFile),
      LOG_LEVEL: 'info',
      // The default per-key limit (5,000 a second) would not bind here, but a benchmark must not depend on it.
      INGEST_RATE_LIMIT: '100000000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise((resolvePromise, reject) => {
    let output = ''
    const onData = (chunk) => {
      output += chunk
      const match = /Flexpa API listening on (\S+)/.exec(output)
      if (match) {
        child.stdout.off('data', onData)
        // The request log is read and dropped, as a log shipper would.
        child.stdout.resume()
        resolvePromise(match[1])
      }
    }
    child.stdout.on('data', onData)
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)))
  })
  return { child, url }
}

async function json(pool, method, path, { token, body, headers = {} } = {}) {
  const response = await pool.request({
    method,
    path,
    headers: {
      ...headers,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  })
  const text = await response.body.text()
  if (response.statusCode >= 300) throw new Error(`${method} ${path} failed with status ${response.statusCode}: ${text}`)
  return JSON.parse(text)
}

/** Spreads rows over states: 70% exchanged, 10% revoked after an exchange, 12% errors, 8% still open. */
function seededState(percent) {
  if (percent < 70) return 'EXCHANGED'
  if (percent < 80) return 'REVOKED'
  if (percent < 92) return 'ERROR'
  if (percent < 96) return 'AUTHORIZING'
  return 'CREATED'
}

function seed(databaseFile, workspaceId, applicationIds) {
  const db = new Database(databaseFile)
  db.pragma('busy_timeout = 60000')
  const insert = db.prepare(`insert into access_tokens (id, workspace_id, application_id, mode, state, endpoint_id, usage,
    request_id, external_user_id, patient_id, patient_name, patient_birth_date, error_code, error_message, expires_at, version,
    created_at, created_day, updated_at, authorizing_at, authorized_at, exchanged_at, refreshed_at, revoked_at, errored_at)
    values (?, ?, ?, 'live', ?, ?, 'ONE_TIME', ?, ?, ?, ?, ?, ?, ?, null, 1, ?, ?, ?, ?, ?, ?, null, ?, ?)`)
  const now = Date.now()
  const span = 365 * DAY_MS
  const batch = db.transaction((from, to) => {
    for (let i = from; i < to; i++) {
      const created = new Date(now - span + Math.floor((i / SEED_ROWS) * span)).toISOString()
      const state = seededState((i * 7919) % 100)
      const exchanged = state === 'EXCHANGED' || state === 'REVOKED' ? created : null
      const id = `atk_seed${String(i).padStart(12, '0')}`
      insert.run(
        id,
        workspaceId,
        applicationIds[i % applicationIds.length],
        state,
        LIVE_ENDPOINTS[i % LIVE_ENDPOINTS.length],
        `req_seed${i}`,
        `user-${i % 50_000}`,
        exchanged ? `patient-${i}` : null,
        exchanged ? 'Seeded Patient' : null,
        exchanged ? '1980-01-01' : null,
        state === 'ERROR' ? 'payer_unavailable' : null,
        state === 'ERROR' ? 'The payer answered 503' : null,
        created,
        created.slice(0, 10),
        created,
        state === 'CREATED' ? null : created,
        exchanged,
        exchanged,
        state === 'REVOKED' ? created : null,
        state === 'ERROR' ? created : null,
      )
    }
  })
  for (let from = 0; from < SEED_ROWS; from += 50_000) batch(from, Math.min(SEED_ROWS, from + 50_000))
  db.pragma('optimize')
  db.close()
}

/** Signs up a second user and adds them to the workspace with phi:read withheld; returns their session token. */
async function memberWithoutPhi(pool, databaseFile, workspaceId) {
  const signup = await json(pool, 'POST', '/v1/auth/signup', {
    body: { email: 'redacted@example.com', name: 'Redacted', password: 'correct battery horse staple' },
  })
  const db = new Database(databaseFile)
  db.pragma('busy_timeout = 60000')
  db.prepare(`insert into memberships (workspace_id, user_id, role, phi_withheld, created_at) values (?, ?, 'member', 1, ?)`).run(
    workspaceId,
    signup.user.id,
    new Date().toISOString(),
  )
  db.close()
  return signup.session.token
}

async function timeRequests(pool, path, token, count) {
  const times = []
  for (let i = 0; i < count; i++) {
    const started = performance.now()
    await json(pool, 'GET', path, { token })
    times.push(performance.now() - started)
  }
  return times
}

async function ingest(url, auth, seconds, memory, serverPid) {
  const pool = new Pool(url, { connections: INGEST_CONCURRENCY, pipelining: 1 })
  const body = JSON.stringify({ endpoint_id: SANDBOX_HUMANA, external_user_id: 'bench-user' })
  const deadline = performance.now() + seconds * 1000
  let created = 0
  let failed = 0
  const worker = async () => {
    while (performance.now() < deadline) {
      const response = await pool.request({
        method: 'POST',
        path: '/v1/access-tokens',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body,
      })
      await response.body.dump()
      if (response.statusCode === 201) created += 1
      else failed += 1
    }
  }
  const sampler = setInterval(memory, 500)
  const cpuBefore = cpuMs(serverPid)
  const clientBefore = process.cpuUsage()
  const started = performance.now()
  await Promise.all(Array.from({ length: INGEST_CONCURRENCY }, worker))
  const elapsed = (performance.now() - started) / 1000
  const serverCpuMs = cpuMs(serverPid) - cpuBefore
  const client = process.cpuUsage(clientBefore)
  const clientCpuMs = (client.user + client.system) / 1000
  clearInterval(sampler)
  await pool.close()
  return {
    rows: created,
    failed,
    seconds: round(elapsed),
    rows_per_second: Math.round(created / elapsed),
    concurrency: INGEST_CONCURRENCY,
    // CPU the server spent per row, which does not depend on how busy the machine's other processes kept it.
    server_cpu_us_per_row: Math.round((serverCpuMs * 1000) / created),
    server_cpu_share: round(serverCpuMs / 1000 / elapsed),
    // The load generator shares the machine's cores with the server.
    client_cpu_us_per_row: Math.round((clientCpuMs * 1000) / created),
    client_cpu_share: round(clientCpuMs / 1000 / elapsed),
  }
}

async function tailLatency(url, token, workspaceId, pool, auth) {
  const tail = spawn(process.execPath, [join(ROOT, 'bin/run.js'), 'logs', 'tail', '--test', '--json'], {
    env: {
      ...process.env,
      FLEXPA_API_URL: url,
      FLEXPA_TOKEN: token,
      FLEXPA_WORKSPACE: workspaceId,
      FLEXPA_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'flexpa-bench-cli-')),
      FLEXPA_NO_KEYCHAIN: '1',
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const waiting = new Map()
  let buffer = ''
  tail.stdout.on('data', (chunk) => {
    buffer += chunk
    let newline
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline)
      buffer = buffer.slice(newline + 1)
      const row = JSON.parse(line)
      waiting.get(row.id)?.(performance.now())
    }
  })
  await new Promise((resolvePromise) => {
    let stderr = ''
    tail.stderr.on('data', (chunk) => {
      stderr += chunk
      if (stderr.includes('Tailing')) resolvePromise()
    })
  })
  const latencies = []
  for (let i = 0; i < TAIL_SAMPLES; i++) {
    const started = performance.now()
    const response = await pool.request({
      method: 'POST',
      path: '/v1/access-tokens',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint_id: SANDBOX_HUMANA }),
    })
    const row = await response.body.json()
    const printed = await new Promise((resolvePromise) => waiting.set(row.id, resolvePromise))
    waiting.delete(row.id)
    latencies.push(printed - started)
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 20))
  }
  tail.kill('SIGINT')
  return latencies
}

async function main() {
  const directory = mkdtempSync(join(tmpdir(), 'flexpa-bench-logs-'))
  const databaseFile = join(directory, 'flexpa.db')
  const { child, url } = await startServer(databaseFile)
  const memory = { samples: [], sample: () => memory.samples.push(rssMiB(child.pid)) }
  let pool = new Pool(url, { connections: 4 })
  try {
    const signup = await json(pool, 'POST', '/v1/auth/signup', {
      body: { email: 'bench@example.com', name: 'Bench', password: 'correct battery horse staple', workspace_name: 'Bench' },
    })
    const token = signup.session.token
    const workspaceId = signup.workspace.id
    const apps = []
    for (const name of ['Portal', 'Mobile']) {
      apps.push(await json(pool, 'POST', `/v1/workspaces/${workspaceId}/apps`, { token, body: { name } }))
    }
    const keys = apps[0].keys
    const auth = `Basic ${Buffer.from(`${keys.publishable_key}:${keys.secret_key}`).toString('base64')}`

    process.stderr.write(`seeding ${SEED_ROWS} rows through SQL…\n`)
    // The server closes idle connections after 5 s, sooner than seeding the rows ends, so reconnect after it.
    await pool.close()
    const seedStarted = performance.now()
    seed(databaseFile, workspaceId, apps.map((app) => app.id))
    const seedSeconds = round((performance.now() - seedStarted) / 1000)
    process.stderr.write(`seeded in ${seedSeconds} s\n`)
    pool = new Pool(url, { connections: 4 })
    memory.sample()
    const rssAfterSeed = memory.samples.at(-1)

    const logs = `/v1/workspaces/${workspaceId}/logs`
    const firstPagePath = `${logs}?app=Portal&state=ERROR&limit=${PAGE_SIZE}`
    await timeRequests(pool, firstPagePath, token, 5)
    // The admin holds phi:read, so each of these pages also commits a phi.read audit record.
    const firstPage = await timeRequests(pool, firstPagePath, token, SAMPLES)
    const redactedToken = await memberWithoutPhi(pool, databaseFile, workspaceId)
    await timeRequests(pool, firstPagePath, redactedToken, 5)
    const firstPageRedacted = await timeRequests(pool, firstPagePath, redactedToken, SAMPLES)

    process.stderr.write(`walking ${DEEP_PAGES} pages…\n`)
    let cursor = null
    const walk = []
    for (let page = 1; page < DEEP_PAGES; page++) {
      const started = performance.now()
      const body = await json(pool, 'GET', `${logs}?app=Portal&limit=${PAGE_SIZE}${cursor ? `&cursor=${cursor}` : ''}`, { token })
      walk.push(performance.now() - started)
      cursor = body.next_cursor
    }
    const deepPath = `${logs}?app=Portal&limit=${PAGE_SIZE}&cursor=${cursor}`
    const deepPage = await timeRequests(pool, deepPath, token, SAMPLES)

    const analyticsPath = `/v1/workspaces/${workspaceId}/analytics`
    await timeRequests(pool, analyticsPath, token, 2)
    const analytics = await timeRequests(pool, analyticsPath, token, 20)
    const analyticsBody = await json(pool, 'GET', analyticsPath, { token })

    process.stderr.write(`measuring the tail's delay over ${TAIL_SAMPLES} rows…\n`)
    const tail = await tailLatency(url, token, workspaceId, pool, auth)

    process.stderr.write(`ingesting for ${INGEST_SECONDS} s…\n`)
    const ingestion = await ingest(url, auth, INGEST_SECONDS, memory.sample, child.pid)
    memory.sample()

    const results = {
      measured_at: new Date().toISOString(),
      machine: { load_average_1m: round(loadavg()[0]), cpus: cpus().length, cpu_model: cpus()[0]?.model ?? null, memory_gib: round(totalmem() / 2 ** 30), node: process.version },
      database: 'sqlite (WAL, synchronous=FULL)',
      seeded_rows: SEED_ROWS,
      seed_seconds: seedSeconds,
      ingestion,
      list_first_page_two_filters: summary(firstPage),
      list_first_page_two_filters_without_phi: summary(firstPageRedacted),
      list_page_walk: summary(walk),
      list_page_1000: summary(deepPage),
      analytics_30_days: { ...summary(analytics), rows_counted: analyticsBody.total },
      tail_write_to_print: summary(tail),
      server_rss_mib: { after_seed: round(rssAfterSeed), max: round(Math.max(...memory.samples)), end: round(memory.samples.at(-1)) },
    }
    const resultsFile = process.env.BENCH_RESULTS_FILE ?? join(ROOT, 'bench/results/logs.json')
    mkdirSync(dirname(resultsFile), { recursive: true })
    writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`)
    printTable(results)
    process.stdout.write(`results written to ${resultsFile}\n`)
  } finally {
    await pool.close()
    const exited = new Promise((resolvePromise) => child.once('exit', resolvePromise))
    child.kill('SIGTERM')
    await exited
    rmSync(directory, { recursive: true, force: true })
  }
}

function printTable(results) {
  const rows = [
    ['ingestion over HTTP', `${results.ingestion.rows_per_second} rows/s`, `${results.ingestion.rows} rows in ${results.ingestion.seconds} s, ${results.ingestion.concurrency} in flight, ${results.ingestion.failed} failed`, '>= 3000 rows/s'],
    ['  server CPU per row', `${results.ingestion.server_cpu_us_per_row} µs`, `server used ${results.ingestion.server_cpu_share} of a core`, ''],
    ['  client CPU per row', `${results.ingestion.client_cpu_us_per_row} µs`, `client used ${results.ingestion.client_cpu_share} of a core`, ''],
    ['logs list, first page, 2 filters', `p95 ${results.list_first_page_two_filters.p95_ms} ms`, `p50 ${results.list_first_page_two_filters.p50_ms} ms (PHI shown and audited)`, '<= 20 ms'],
    ['  same, member without phi:read', `p95 ${results.list_first_page_two_filters_without_phi.p95_ms} ms`, `p50 ${results.list_first_page_two_filters_without_phi.p50_ms} ms (redacted, no audit write)`, '<= 20 ms'],
    ['logs list, page 1,000', `p95 ${results.list_page_1000.p95_ms} ms`, `p50 ${results.list_page_1000.p50_ms} ms`, '<= 20 ms'],
    ['analytics, 30 days', `p95 ${results.analytics_30_days.p95_ms} ms`, `${results.analytics_30_days.rows_counted} rows counted`, '<= 200 ms'],
    ['write to tail print', `p95 ${results.tail_write_to_print.p95_ms} ms`, `p50 ${results.tail_write_to_print.p50_ms} ms`, '<= 100 ms'],
    ['server RSS', `max ${results.server_rss_mib.max} MiB`, `after seed ${results.server_rss_mib.after_seed} MiB`, ''],
  ]
  const widths = [0, 1, 2, 3].map((column) => Math.max(...rows.map((row) => row[column].length), 8))
  for (const row of rows) process.stdout.write(`${row.map((cell, column) => cell.padEnd(widths[column])).join('  ')}\n`)
}

await main()
