// node-oidc-provider configured like Kleidi for the token benchmark: code flow with S256 PKCE,
// client_secret_basic, RS256 ID tokens, rotating refresh tokens; logins finish automatically.
// Usage: node node_op.mjs <port> <client_id> <client_secret> <redirect_uri>
import Provider from 'oidc-provider'
import * as jose from 'jose'

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2)
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

const provider = new Provider(`http://127.0.0.1:${port}`, {
  adapter: MapAdapter,
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

provider.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'))
