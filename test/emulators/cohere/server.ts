import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A loopback stand-in for Cohere's Chat API v2 (`POST /v2/chat`), faithful to the protocol the
 * `cohere-ai` client speaks: bearer auth, the JSON request body (model, messages, response_format
 * with json_schema), a response of { id, finish_reason, message: { role, content: [{ type: 'text',
 * text }] }, usage }, and Cohere's error bodies ({ message }) with their status codes (401, 400, 429).
 * Each request is answered by `respond` from the question (the last user message); the server
 * records every request it received so tests can check what was sent (the model card, the schema).
 */
export type CohereReply =
  | { plan: unknown }
  | { text: string }
  | { status: number; message: string }
  | { delayMs: number; reply: CohereReply }

export interface ChatRequestSeen {
  authorization: string | undefined
  body: {
    model?: string
    messages?: { role: string; content: string }[]
    response_format?: { type?: string; json_schema?: Record<string, unknown> }
  }
}

export interface FakeCohere {
  url: string
  requests: ChatRequestSeen[]
  close(): Promise<void>
}

const API_KEY = 'test-cohere-key'
export const FAKE_COHERE_KEY = API_KEY

export async function startFakeCohere(respond: (question: string) => CohereReply): Promise<FakeCohere> {
  const requests: ChatRequestSeen[] = []
  const sockets = new Set<import('node:net').Socket>()
  const server: Server = createServer((req, res) => {
    void handle(req, res)
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const send = (status: number, body: unknown) => {
      if (res.destroyed) return
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (req.method !== 'POST' || req.url !== '/v2/chat') return send(404, { message: 'not found' })
    let body: ChatRequestSeen['body']
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequestSeen['body']
    } catch {
      return send(400, { message: 'invalid request: body is not JSON' })
    }
    requests.push({ authorization: req.headers.authorization, body })
    if (req.headers.authorization !== `Bearer ${API_KEY}`) return send(401, { message: 'invalid api token' })
    if (!body.model || !Array.isArray(body.messages) || body.messages.length === 0)
      return send(400, { message: 'invalid request: model and messages are required' })
    if (body.response_format?.type !== 'json_object' || typeof body.response_format.json_schema !== 'object')
      return send(400, {
        message: 'invalid request: expected a json_object response_format with a json_schema',
      })
    const question = [...body.messages].reverse().find((m) => m.role === 'user')?.content ?? ''
    let reply = respond(question)
    for (let hops = 0; 'delayMs' in reply && hops < 10; hops++) {
      const { delayMs, reply: next } = reply
      await new Promise((r) => setTimeout(r, delayMs))
      if (res.destroyed) return
      reply = next
    }
    if ('delayMs' in reply) return send(500, { message: 'emulator: too many delays' })
    if ('status' in reply) return send(reply.status, { message: reply.message })
    const text = 'plan' in reply ? JSON.stringify(reply.plan) : reply.text
    send(200, {
      id: `chat-${requests.length}`,
      finish_reason: 'COMPLETE',
      message: { role: 'assistant', content: [{ type: 'text', text }] },
      usage: {
        billed_units: { input_tokens: 100, output_tokens: 20 },
        tokens: { input_tokens: 120, output_tokens: 20 },
      },
    })
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}
