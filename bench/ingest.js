#!/usr/bin/env node
// Measures sustained access-token ingestion over HTTP alone, on a fresh SQLite file (WAL,
// synchronous=FULL), without the 1,000,000-row seeding and the read measures of bench/logs.js. Reports rows a second
// and the CPU per row of both the server and this client, which share the machine's cores.
// Run `npm run build` first. BENCH_INGEST_SECONDS (default 30), BENCH_CONNECTIONS (default 64),
// BENCH_PIPELINING (default 1) and BENCH_SERVER_ARGS (extra node arguments for the server, such as
// --cpu-prof) change the run. Prints one JSON document.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

import { Pool } from 'undici'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const SECONDS = Number(process.env.BENCH_INGEST_SECONDS ?? 30)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)
const PIPELINING = Number(process.env.BENCH_PIPELINING ?? 1)
const SERVER_ARGS = (process.env.BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean)
const SANDBOX_HUMANA = 'b16b3f0a-7c2d-4a5e-bb52-0b4c6d8e2f5b'

/** CPU time (user and system) a process has used, in milliseconds, from /proc (Linux only). */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

async function startServer(directory) {
  const child = spawn(process.execPath, [...SERVER_ARGS, resolve(process.env.BENCH_SERVER ?? join(ROOT, 'bin/server.js'))], {
    cwd: directory,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${join(directory, 'flexpa.db')}`,
      FLEXPA_DATA_DIR: directory,
      LOG_LEVEL: 'info',
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

async function json(pool, method, path, { token, body } = {}) {
  const response = await pool.request({
    method,
    path,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  })
  const text = await response.body.text()
  if (response.statusCode >= 300) throw new Error(`${method} ${path} failed with status ${response.statusCode}: ${text}`)
  return JSON.parse(text)
}

async function main() {
  const directory = mkdtempSync(join(tmpdir(), 'flexpa-bench-ingest-'))
  const { child, url } = await startServer(directory)
  const pool = new Pool(url, { connections: CONNECTIONS, pipelining: PIPELINING })
  try {
    const signup = await json(pool, 'POST', '/v1/auth/signup', {
      body: { email: 'bench@example.com', name: 'Bench', password: 'correct battery horse staple', workspace_name: 'Bench' },
    })
    const app = await json(pool, 'POST', `/v1/workspaces/${signup.workspace.id}/apps`, {
      token: signup.session.token,
      body: { name: 'Portal' },
    })
    const auth = `Basic ${Buffer.from(`${app.keys.publishable_key}:${app.keys.secret_key}`).toString('base64')}`
    const body = JSON.stringify({ endpoint_id: SANDBOX_HUMANA, external_user_id: 'bench-user' })
    const headers = { authorization: auth, 'content-type': 'application/json' }
    let created = 0
    let failed = 0
    let deadline = performance.now() + 2000
    const worker = async () => {
      while (performance.now() < deadline) {
        const response = await pool.request({ method: 'POST', path: '/v1/access-tokens', headers, body })
        await response.body.dump()
        if (response.statusCode === 201) created += 1
        else failed += 1
      }
    }
    const inFlight = CONNECTIONS * PIPELINING
    // Two seconds of warm-up, so the server's code is optimized before the measure starts.
    await Promise.all(Array.from({ length: inFlight }, worker))
    created = 0
    failed = 0
    const serverBefore = cpuMs(child.pid)
    const clientBefore = process.cpuUsage()
    const started = performance.now()
    deadline = started + SECONDS * 1000
    await Promise.all(Array.from({ length: inFlight }, worker))
    const elapsed = (performance.now() - started) / 1000
    const serverCpuMs = cpuMs(child.pid) - serverBefore
    const client = process.cpuUsage(clientBefore)
    const clientCpuMs = (client.user + client.system) / 1000
    const result = {
      measured_at: new Date().toISOString(),
      load_average_1m: Math.round(loadavg()[0] * 100) / 100,
      cpus: cpus().length,
      node: process.version,
      connections: CONNECTIONS,
      pipelining: PIPELINING,
      rows: created,
      failed,
      seconds: Math.round(elapsed * 100) / 100,
      rows_per_second: Math.round(created / elapsed),
      server_cpu_us_per_row: Math.round((serverCpuMs * 1000) / created),
      server_cpu_share: Math.round((serverCpuMs / 1000 / elapsed) * 100) / 100,
      client_cpu_us_per_row: Math.round((clientCpuMs * 1000) / created),
      client_cpu_share: Math.round((clientCpuMs / 1000 / elapsed) * 100) / 100,
    }
    process.stdout.write(`${JSON.stringify(result)}\n`)
  } finally {
    await pool.close()
    const exited = new Promise((resolvePromise) => child.once('exit', resolvePromise))
    child.kill('SIGTERM')
    await exited
    rmSync(directory, { recursive: true, force: true })
  }
}

await main()
