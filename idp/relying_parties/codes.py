"""The RP-xxx error codes of relying-party registration (listed in docs/errors.md)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from idp.errors import define

define("RP-001", 400, _l("The metadata cannot be used"),
       _l("The SAML metadata is not well-formed, does not follow the SAML metadata schema, "
          "or describes no SAML 2.0 service provider."))
define("RP-002", 400, _l("An address is not secure"),
       _l("Every AssertionConsumerService, redirect and logout address must use https "
          "(http only on a loopback address, for development)."))
define("RP-003", 400, _l("A key is too weak"),
       _l("Every certificate in the metadata must hold an RSA key of at least 2048 bits or an "
          "elliptic-curve key."))
define("RP-004", 409, _l("This service is already registered"),
       _l("An SP with this entityID is already registered, or an edit tried to change the "
          "entityID. Register a new service instead."))
define("RP-005", 400, _l("The client settings cannot be used"),
       _l("Check the redirect URIs (all on one host), the token endpoint authentication method "
          "and its keys (jwks or jwks_uri)."))
define("RP-006", 400, _l("Something is missing"),
       _l("Give the service's name in Greek and English, a technical and a security contact "
          "email, and a reason for every attribute you ask for."))
define("RP-007", 403, _l("You may not register services"),
       _l("Registering services is open to staff and faculty. Ask the helpdesk if you need it."))
define("RP-008", 404, _l("No such service"),
       _l("There is no service with this number among the ones you own."))
define("RP-009", 400, _l("No such co-owner"),
       _l("No account that may own services has this username."))
define("RP-010", 409, _l("Not possible in this state"),
       _l("The service is not in a state that allows this. Reload the page to see where it is."))
define("RP-011", 400, _l("Release beyond the request"),
       _l("Only attributes the service asked for can be approved."))
define("RP-012", 400, _l("A reason is needed"),
       _l("A rejection must say why, so that the owners can fix it."))
define("RP-013", 404, _l("No such test person"),
       _l("No account has this username. Choose an existing account to preview the release."))
define("RP-014", 409, _l("This registration cannot be withdrawn"),
       _l("Only a registration that was never approved (a draft, a submitted or a rejected "
          "one) can be withdrawn. A service that was approved keeps serving its approved "
          "version: to stop it, ask the operators to remove it."))
define("RP-015", 400, _l("A reason is needed"),
       _l("An operator who withdraws a registration must say why: the owners are told."))
define("RP-016", 404, _l("This service is not served"),
       _l("No SAML service provider or OpenID Connect client is registered with this identifier: "
          "it was removed already, or it was never registered. An SP from a metadata file or a "
          "federation is removed there."))
define("RP-017", 400, _l("A reason is needed"),
       _l("Removing a service must say why: it is kept in the audit trail and told to the "
          "service's owners."))
