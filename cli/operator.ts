import { EXIT } from '../shared/errors.js'
import type { ApiClient, ApiResponse, RequestOptions } from './client.js'
import { CliError } from './errors.js'

/**
 * Sends a request to an operator route. The server returns 404 to anyone who is not an operator,
 * so this adds a hint on how the server names operators.
 */
export async function operatorRequest<T = any>(
  client: ApiClient,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<ApiResponse<T>> {
  try {
    return await client.request<T>(method, path, options)
  } catch (error) {
    if (error instanceof CliError && error.exitCode === EXIT.notFound && error.message.startsWith('no route for ')) {
      throw new CliError('you are not an operator of this server', EXIT.notFound, {
        ...error.details,
        hint: "operators are the verified email addresses listed in the server's FLEXPA_OPERATOR_EMAILS",
      })
    }
    throw error
  }
}
