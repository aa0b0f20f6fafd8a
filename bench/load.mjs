// The load generator of bench/oidc_tokens.py: POSTs form bodies read from stdin (one JSON
// object per line: {"form": {...}}) to 127.0.0.1:<port><path> with <concurrency> requests
// in flight over keep-alive connections (as an RP's HTTP client pools them; the same for every
// server), and prints one JSON line:
// {"seconds", "latencies_ms": [...], "answers": [status, body-json-or-null]...}.
import http from 'node:http'
import readline from 'node:readline'

const [port, path, concurrency, authorization] = process.argv.slice(2)
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) })
const forms = []
for await (const line of readline.createInterface({ input: process.stdin })) {
  if (line.trim()) forms.push(new URLSearchParams(JSON.parse(line).form).toString())
}

function post (body) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint()
    const req = http.request({
      host: '127.0.0.1', port: Number(port), path, method: 'POST', agent,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': Buffer.byteLength(body),
        authorization
      }
    }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6
        let json = null
        try { json = JSON.parse(Buffer.concat(chunks).toString()) } catch {}
        resolve([ms, res.statusCode, json])
      })
    })
    req.on('error', (err) => resolve([0, 0, { error: String(err) }]))
    req.end(body)
  })
}

const latencies = new Array(forms.length)
const answers = new Array(forms.length)
let next = 0
const started = process.hrtime.bigint()
await Promise.all(Array.from({ length: Number(concurrency) }, async () => {
  while (next < forms.length) {
    const index = next++
    const [ms, status, json] = await post(forms[index])
    latencies[index] = ms
    answers[index] = [status, json]
  }
}))
const seconds = Number(process.hrtime.bigint() - started) / 1e9
process.stdout.write(JSON.stringify({ seconds, latencies_ms: latencies, answers }) + '\n')
