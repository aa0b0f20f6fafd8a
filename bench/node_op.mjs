// node-oidc-provider configured like Kleidi for the token benchmark: code flow with S256 PKCE,
// client_secret_basic, RS256 ID tokens, rotating refresh tokens; logins finish automatically.
// Usage: node node_op.mjs <port> <client_id> <client_secret> <redirect_uri>
import Provider from 'oidc-provider'
import * as jose from 'jose'

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2)
const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true })
const signing = { ...(await jose.exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'bench' }

const provider = new Provider(`http://127.0.0.1:${port}`, {
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
