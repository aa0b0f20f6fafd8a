"""Error pages of the OpenID provider (listed in docs/errors.md).

Only failures that must not be redirected to the client get a page: an unknown
client or a redirect URI that is not registered (OAuth 2.0 4.1.2.1), a request
too broken to answer, an RP-initiated logout that cannot be honoured.
"""

from flask_babel import lazy_gettext as _l

from idp.errors import define

define("OIDC-001", 400, _l("Unknown service"),
       _l("The service that sent you here is not registered with this login service. "
          "Go back to it and tell its administrators."))
define("OIDC-002", 400, _l("Invalid return address"),
       _l("The service that sent you here asked to return to an address it has not "
          "registered, so you were not sent anywhere. Tell the service's administrators."))
define("OIDC-003", 400, _l("Invalid login request"),
       _l("The service that sent you here made a request this login service cannot accept. "
          "Go back to it and try again; if it keeps happening, tell its administrators."))
define("OIDC-004", 400, _l("Sign-out request not accepted"),
       _l("The service that sent you here made a sign-out request that cannot be verified, "
          "so you are still signed in. To sign out, close the browser."))
