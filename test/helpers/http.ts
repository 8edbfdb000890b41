import http from 'node:http'

/**
 * POST a JSON body in two parts with a pause between them, over a real socket: the request is in
 * flight (headers received, body incomplete) during `pauseMs`. `duringPause` runs once the first
 * part is sent (e.g. to send SIGTERM to the server).
 */
export function trickledPost(options: {
  port: number | string
  path: string
  headers: Record<string, string>
  first: string
  rest: string
  pauseMs: number
  duringPause?: () => void
}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: options.port, path: options.path, method: 'POST', headers: options.headers },
      (res) => {
        let body = ''
        res.on('data', (d) => {
          body += d
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      },
    )
    req.on('error', reject)
    req.write(options.first)
    options.duringPause?.()
    setTimeout(() => req.end(options.rest), options.pauseMs)
  })
}
