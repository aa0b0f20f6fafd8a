"""Error codes of the SAML identity provider (listed in docs/errors.md, section SAML).

A refusal becomes one of these pages when no valid AssertionConsumerService is known to
answer to; otherwise the SP gets a SAML status (see idp.saml.sso).
"""

from flask_babel import lazy_gettext as _l

from idp.errors import define

#: The advice of every refusal that starting again at the service may cure.
START_AGAIN = _l("Go back to the service you were using and start again. If it keeps "
                 "happening, tell the helpdesk which service it was.")

define("SAML-001", 400, _l("Unknown service"),
       _l("The service that sent you here is not registered with this identity provider, so "
          "no login information can be sent to it. Its administrators must register it."))
define("SAML-002", 400, _l("Unreadable login request"),
       _l("The service sent a login request that could not be read."),
       START_AGAIN)
define("SAML-003", 400, _l("Login request refused"),
       _l("The login request contained content that is never accepted (document type "
          "declarations, entities, or it was too large)."),
       START_AGAIN)
define("SAML-004", 403, _l("Login request not signed correctly"),
       _l("The service must sign its requests and the signature was missing or did not "
          "verify with the key the service registered."),
       START_AGAIN)
define("SAML-005", 403, _l("Weak or unexpected signature"),
       _l("The request was signed with an algorithm or in a form that is not accepted "
          "(for example SHA-1)."),
       START_AGAIN)
define("SAML-006", 400, _l("Login request expired"),
       _l("The login request is too old, or dated in the future. Check that your computer's "
          "clock is right."),
       START_AGAIN)
define("SAML-007", 400, _l("Login request already used"),
       _l("This login request was already answered once and cannot be used again."),
       START_AGAIN)
define("SAML-008", 400, _l("Unknown return address"),
       _l("The service asked for the answer to be sent to an address it has not registered, "
          "so nothing was sent."))
define("SAML-009", 400, _l("Invalid state from the service"),
       _l("The service sent a RelayState longer than the 80 bytes the standard allows."),
       START_AGAIN)
define("SAML-010", 403, _l("Direct login not allowed"),
       _l("This service does not accept logins started here; start from the service itself."))
define("SAML-011", 400, _l("Unsupported request"),
       _l("The service asked for something this identity provider does not offer (a binding "
          "or a name identifier format)."),
       START_AGAIN)
define("SAML-013", 400, _l("No SAML message"),
       _l("This address expects a SAML message from a service and none was sent."))
define("SAML-014", 400, _l("Request meant for another server"),
       _l("The login request was addressed to a different identity provider."),
       START_AGAIN)
define("SAML-015", 410, _l("Logout already finished"),
       _l("This logout has ended or expired. You are logged out of this identity provider."))
define("SAML-016", 400, _l("Logout request unreadable"),
       _l("The service asked to log you out with an encrypted identifier that this identity "
          "provider could not decrypt, so you are still logged in here. To log out, close the "
          "browser."),
       START_AGAIN)
define("SAML-017", 503, _l("The service's registration cannot be checked"),
       _l("The service that sent you here is registered through a federation whose metadata "
          "service is not answering right now, so its registration could not be checked and "
          "nothing was sent to it."),
       _l("Try again in a few minutes. If it keeps happening, tell the helpdesk which service "
          "it was."))
