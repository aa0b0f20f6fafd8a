// node-oidc-provider configured like Kleidi for the token benchmark: code flow with S256 PKCE,
// client_secret_basic, RS256 ID tokens, rotating refresh tokens; logins finish automatically.
// Usage: node node_op.mjs <port> <client_id> <client_secret> <redirect_uri> [<redis_url> <prefix>]
// Without a Redis URL everything stays in this process's memory; with one, in Redis under keys
// starting with <prefix> (the caller deletes them afterwards), as several instances would share it.
import Provider from 'oidc-provider'
import Redis from 'ioredis'
import * as jose from 'jose'

const [port, clientId, clientSecret, redirectUri, redisUrl, prefix = ''] = process.argv.slice(2)
const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true })
const signing = { ...(await jose.exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'bench' }

// Storage without eviction (the built-in development adapter is an LRU that drops codes under
// load, which would count as failures). Like Kleidi's store: a map with expiry.
const models = new Map()
class MapAdapter {
  constructor (name) { this.name = name; if (!models.has(name)) models.set(name, new Map()) }
  get store () { return models.get(this.name) }
  async upsert (id, payload, expiresIn) {
    this.store.set(id, { payload, expires: expiresIn ? Date.now() + expiresIn * 1000 : Infinity })
    if (payload.grantId) grants.set(payload.grantId, [...(grants.get(payload.grantId) || []), [this.name, id]])
    if (payload.uid) uids.set(payload.uid, id)
  }
  async find (id) {
    const item = this.store.get(id)
    if (!item || item.expires < Date.now()) return undefined
    return item.payload
  }
  async findByUid (uid) { const id = uids.get(uid); return id ? this.find(id) : undefined }
  async findByUserCode () { return undefined }
  async consume (id) { const item = this.store.get(id); if (item) item.payload.consumed = Math.floor(Date.now() / 1000) }
  async destroy (id) { this.store.delete(id) }
  async revokeByGrantId (grantId) {
    for (const [name, id] of grants.get(grantId) || []) models.get(name).delete(id)
    grants.delete(grantId)
  }
}
const grants = new Map()
const uids = new Map()

// node-oidc-provider's adapter interface over Redis. Every model instance is one JSON value
// under <prefix><model>:<id> with the lifetime node-oidc-provider gives (expiresIn, seconds);
// those that get consumed are hashes ({payload, consumed}) so that consuming one is a single
// field write. A set per grant lists the keys of its codes and tokens (revokeByGrantId), and
// a session's uid points at its id (findByUid), each living as long as what it points at.
const redis = redisUrl ? new Redis(redisUrl) : null
const consumable = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'PushedAuthorizationRequest', 'PreAuthorizedCode'])
const grantable = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'PreAuthorizedCode'])
redis?.defineCommand('consumeIfPresent', {
  numberOfKeys: 1,
  // Only a value still there is marked: HSET alone would leave a bare hash without a lifetime.
  lua: "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HSET', KEYS[1], 'consumed', ARGV[1]) end return 0"
})

class RedisAdapter {
  constructor (name) { this.name = name }
  key (id) { return `${prefix}${this.name}:${id}` }

  async upsert (id, payload, expiresIn) {
    const key = this.key(id)
    const json = JSON.stringify(payload)
    const ttl = expiresIn ? ['EX', expiresIn] : []
    const multi = redis.multi()
    if (consumable.has(this.name)) {
      multi.del(key).hset(key, 'payload', json)
      if (expiresIn) multi.expire(key, expiresIn)
    } else {
      multi.set(key, json, ...ttl)
    }
    if (grantable.has(this.name) && payload.grantId) {
      const grantKey = `${prefix}grant:${payload.grantId}`
      multi.sadd(grantKey, key)
      // The set outlives its longest-lived member: a first lifetime, then only longer ones.
      if (expiresIn) multi.expire(grantKey, expiresIn, 'NX').expire(grantKey, expiresIn, 'GT')
      else multi.persist(grantKey)
    }
    if (this.name === 'Session') multi.set(`${prefix}sessionUid:${payload.uid}`, id, ...ttl)
    if (payload.userCode) multi.set(`${prefix}userCode:${payload.userCode}`, id, ...ttl)
    for (const [error] of await multi.exec()) if (error) throw error
  }

  async find (id) {
    if (!consumable.has(this.name)) {
      const json = await redis.get(this.key(id))
      return json ? JSON.parse(json) : undefined
    }
    const [json, consumed] = await redis.hmget(this.key(id), 'payload', 'consumed')
    if (!json) return undefined
    return consumed ? { ...JSON.parse(json), consumed: Number(consumed) } : JSON.parse(json)
  }

  async findByUid (uid) {
    const id = await redis.get(`${prefix}sessionUid:${uid}`)
    return id ? this.find(id) : undefined
  }

  async findByUserCode (userCode) {
    const id = await redis.get(`${prefix}userCode:${userCode}`)
    return id ? this.find(id) : undefined
  }

  async consume (id) {
    await redis.consumeIfPresent(this.key(id), Math.floor(Date.now() / 1000))
  }

  async destroy (id) { await redis.del(this.key(id)) }

  async revokeByGrantId (grantId) {
    const grantKey = `${prefix}grant:${grantId}`
    const keys = await redis.smembers(grantKey)
    await redis.del(...keys, grantKey)
  }
}

const provider = new Provider(`http://127.0.0.1:${port}`, {
  adapter: redis ? RedisAdapter : MapAdapter,
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic'
  }],
  jwks: { keys: [signing] },
  cookies: { keys: ['bench-cookie-key-not-secret'] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, name: 'Bench Person', email: 'bench@example.edu' })
  }),
  issueRefreshToken: async () => true,
  rotateRefreshToken: true,
  ttl: { AuthorizationCode: 600, AccessToken: 600, IdToken: 600, RefreshToken: 14 * 24 * 3600 },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` }
})
provider.proxy = false

// The login page: sign "bench-user" in and grant the requested scopes, no questions asked.
provider.use(async (ctx, next) => {
  if (!ctx.path.startsWith('/interaction/')) return next()
  const details = await provider.interactionDetails(ctx.req, ctx.res)
  const grant = new provider.Grant({ accountId: 'bench-user', clientId: details.params.client_id })
  grant.addOIDCScope(details.params.scope)
  const grantId = await grant.save()
  await provider.interactionFinished(ctx.req, ctx.res,
    { login: { accountId: 'bench-user' }, consent: { grantId } },
    { mergeWithLastSubmission: false })
})

await redis?.ping()  // fail here, not on the first request, if Redis is not there
provider.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'))
