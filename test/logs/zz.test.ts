import { it } from 'vitest'
import { signUpWithCli } from '../helpers/cli.js'
import { postgresUrl } from '../helpers/database.js'
import { startServer } from '../helpers/server.js'
it('x', async () => {
  const databaseUrl = postgresUrl()
  console.log('a')
  const first = await startServer({ databaseUrl })
  console.log('b', first.url)
  const second = await startServer({ databaseUrl })
  console.log('c', second.url)
  const { user } = await signUpWithCli(first.url, 'scale@example.com', { workspaceName: 'Scale' })
  console.log('d')
  const r = await user.run(['apps', 'create', 'Portal', '--json'])
  console.log('e', r.stdout, r.stderr)
  await first.stop(); console.log('f'); await second.stop(); console.log('g')
  console.log(first.output().slice(-2000))
})
