// An independent SAML service provider (node-saml, passport-saml's core) on its defaults,
// driven over stdin/stdout. It never talks to the IdP itself: the test carries the messages.
// Argument: a JSON object {entity_id, acs, slo, sso_url, slo_url, idp_cert, sp_key?, sp_cert?}
//   (sp_key/sp_cert: the SP decrypts assertions and publishes that certificate for encryption)
// Protocol (one JSON object per line):
//   out {"event":"metadata","xml":"..."}        the SP's metadata, for the IdP
//   out {"event":"authorize","url":"..."}       the browser goes there (HTTP-Redirect)
//   in  {"SAMLResponse":"...","RelayState":"..."}  what the IdP's page posts to the ACS
//   out {"event":"login","profile":{...}}       the validated assertion
//   in  {"query":"SAMLRequest=...&Signature=..."}  the IdP's LogoutRequest (HTTP-Redirect),
//       or {"SAMLRequest":"..."}                    (HTTP-POST, node-saml's own binding)
//   out {"event":"logout","profile":{...}}      the validated LogoutRequest
//   any failure: {"event":"error","message":"..."}
import { SAML } from '@node-saml/node-saml'
import readline from 'node:readline'

const given = JSON.parse(process.argv[2])
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]()
const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const hear = async () => JSON.parse((await lines.next()).value)

// Only what an SP must say about itself and its IdP; every other option stays as shipped
// (Response and Assertion signatures required, Audience checked, no clock skew, ...).
const options = {
  issuer: given.entity_id,
  callbackUrl: given.acs,
  logoutCallbackUrl: given.slo,
  entryPoint: given.sso_url,
  logoutUrl: given.slo_url,
  idpCert: given.idp_cert
}
if (given.sp_key) options.decryptionPvk = given.sp_key
const saml = new SAML(options)

async function main () {
  say({ event: 'metadata', xml: saml.generateServiceProviderMetadata(given.sp_cert || null) })
  say({ event: 'authorize', url: await saml.getAuthorizeUrlAsync('relay-1', undefined, {}) })
  const { profile, loggedOut } = await saml.validatePostResponseAsync(await hear())
  say({ event: 'login', profile, loggedOut })
  const request = await hear()
  const logout = request.query === undefined
    ? await saml.validatePostRequestAsync(request)
    : await saml.validateRedirectAsync(Object.fromEntries(new URLSearchParams(request.query)),
      request.query)
  say({ event: 'logout', profile: logout.profile, loggedOut: logout.loggedOut })
}

main().then(() => process.exit(0)).catch((err) => {
  say({ event: 'error', message: String(err && err.message) })
  process.exit(1)
})
