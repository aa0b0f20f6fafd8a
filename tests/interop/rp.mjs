// An independent relying party (openid-client, OpenID Certified) driven over stdin/stdout.
// Arguments: <issuer> <redirect_uri>
//            <auth method: default|client_secret_basic|client_secret_post|private_key_jwt|none>
//            <ID token alg: RS256|ES256>
// "default" gives openid-client the secret and lets it choose (client_secret_post in v6).
// Protocol (one JSON object per line):
//   out {"event":"jwk","jwk":{...}}            only for private_key_jwt: register this key
//   in  {"client_id":"...","client_secret":"..."}
//   out {"event":"authorize","url":"..."}      the test's browser goes there
//   in  {"callback":"<redirect_uri?code=...>"}
//   out {"event":"done", ...results, "end_session_url"}  or  {"event":"error","message":"..."}
import * as client from 'openid-client'
import * as jose from 'jose'
import readline from 'node:readline'

const [issuer, redirectUri, method, idTokenAlg] = process.argv.slice(2)
const afterLogout = new URL('/signed-out', redirectUri).href
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]()
const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const hear = async () => JSON.parse((await lines.next()).value)

async function clientAuth () {
  if (method === 'private_key_jwt') {
    const { privateKey, publicKey } = await crypto.subtle.generateKey(
      { name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
    const jwk = { ...(await crypto.subtle.exportKey('jwk', publicKey)), alg: 'ES256', kid: 'rp-1' }
    say({ event: 'jwk', jwk })
    const registered = await hear()
    return [registered, client.PrivateKeyJwt({ key: privateKey, kid: 'rp-1' })]
  }
  const registered = await hear()
  if (method === 'none') return [registered, client.None()]
  if (method === 'default') return [registered, undefined]
  if (method === 'client_secret_post') {
    return [registered, client.ClientSecretPost(registered.client_secret)]
  }
  return [registered, client.ClientSecretBasic(registered.client_secret)]
}

async function main () {
  const [registered, auth] = await clientAuth()
  const metadata = { id_token_signed_response_alg: idTokenAlg }
  if (method === 'default') metadata.client_secret = registered.client_secret
  const config = await client.discovery(new URL(issuer), registered.client_id, metadata, auth,
    { execute: [client.allowInsecureRequests] })  // loopback test server: http
  client.enableNonRepudiationChecks(config)  // verify ID token signatures against jwks_uri
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email eduperson',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    max_age: '600'
  })
  say({ event: 'authorize', url: url.href })
  const { callback } = await hear()
  const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce,
    idTokenExpected: true, maxAge: 600
  })
  const claims = tokens.claims()
  // A second, separate check of the signature with jose against the published JWKS.
  const jwks = jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri))
  const verified = await jose.jwtVerify(tokens.id_token, jwks, {
    issuer: config.serverMetadata().issuer, audience: registered.client_id
  })
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
  const userinfoAfter = await client.fetchUserInfo(config, refreshed.access_token, claims.sub)
  say({
    event: 'done',
    claims,
    header: verified.protectedHeader,
    scope: tokens.scope,
    userinfo,
    refreshed: {
      new_refresh_token: refreshed.refresh_token !== tokens.refresh_token,
      new_access_token: refreshed.access_token !== tokens.access_token,
      expires_in: refreshed.expires_in
    },
    userinfo_after_refresh: userinfoAfter,
    end_session_url: client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token, post_logout_redirect_uri: afterLogout, state: 'bye'
    }).href
  })
}

main().then(() => process.exit(0)).catch((err) => {
  say({ event: 'error', message: String(err && err.message), code: err && err.code,
        cause: err && err.cause ? String(err.cause.message || err.cause) : undefined })
  process.exit(1)
})
