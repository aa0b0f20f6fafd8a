"""Every setting, lifetime and limit of Kleidi, with its default.

Settings are read, in this order (later wins):

1. the defaults below;
2. a TOML file named by ``KLEIDI_CONFIG`` (keys are the names below, upper case);
3. environment variables ``KLEIDI_<NAME>`` (parsed to the type of the default);
4. the mapping given to ``create_app(config)`` (tests).

Defaults that an operator must change (the secret key, the keys) are generated in
development and fail fast in production: see :func:`check_production`.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Defaults:
    """The documented defaults. Every name here may be overridden."""

    # -- Deployment -----------------------------------------------------------------------
    #: "development" (generates missing keys), "testing" or "production" (fails fast).
    ENV = "development"
    #: The public base URL of the IdP, without a trailing slash.
    BASE_URL = "http://127.0.0.1:5000"
    #: Flask's secret key (CSRF tokens). Generated into KEYS_DIR in development.
    SECRET_KEY = ""
    #: SQLAlchemy URL. Empty: SQLite in instance/kleidi.sqlite3.
    DATABASE_URL = ""
    #: Redis URL (redis://host:6379/0, or redis+sentinel://host:26379,host2:26379/service/0
    #: for the master the Sentinels name). Empty: an in-process store (one process only).
    REDIS_URL = ""
    #: Prefix of every key Kleidi writes to the store.
    STORE_PREFIX = "kleidi:"
    #: Where keys and certificates are read from (and generated to in development).
    KEYS_DIR = str(ROOT / "keys")
    #: Where SP metadata files are read from.
    METADATA_DIR = str(ROOT / "metadata")
    #: Log level of the JSON log on standard error.
    LOG_LEVEL = "INFO"
    #: Trust X-Forwarded-For/-Proto from this many proxies in front (0: none).
    PROXY_COUNT = 0

    # -- Institution ----------------------------------------------------------------------
    ORGANIZATION_NAME_EL = "Πανεπιστήμιο Κλειδί"
    ORGANIZATION_NAME_EN = "Kleidi University"
    ORGANIZATION_URL = "https://www.example.edu"
    #: The scope of scoped identifiers (published as shibmd:Scope).
    SCOPE = "example.edu"
    #: The institution's own mail domains: a recovery email may not be in them.
    INSTITUTION_DOMAINS = ["example.edu", "upnet.example.edu"]
    #: Account domain per role (configuration, as the mission says).
    ROLE_DOMAINS = {
        "undergraduate": "upnet.example.edu",
        "postgraduate": "upnet.example.edu",
        "doctoral": "upnet.example.edu",
        "*": "example.edu",
    }
    #: schacHomeOrganizationType value.
    HOME_ORGANIZATION_TYPE = "urn:schac:homeOrganizationType:int:university"
    #: Where people write when something fails, and what the error page asks them to include.
    SUPPORT_EMAIL = "helpdesk@example.edu"

    # -- Look and feel: branding, time zone, privacy notice -------------------------------
    #: A folder of templates searched before the built-in ones: a file there with the path
    #: of a built-in template (e.g. "login/login.html", "brand/logo.html") replaces it, so an
    #: institution restyles any page without forking (see docs/branding.md). Empty: none.
    TEMPLATES_DIR = ""
    #: The logo in the page header: a path on this site (e.g. served by the reverse proxy) or
    #: a data:image/ URI, as the content security policy loads images from nowhere else (an
    #: inline SVG in TEMPLATES_DIR/brand/logo.html works too); empty: none.
    LOGO_URL = ""
    #: Colours of the pages (CSS hex, #rgb or #rrggbb): the accent of links and buttons, the
    #: text on buttons, the error colour. Each must keep a contrast of 4.5:1 with its
    #: background (WCAG AA), checked at start-up.
    BRAND_COLOURS = {"accent": "#0b4f8a", "on_accent": "#ffffff", "error": "#a4161a"}
    #: Where activation problems are sent (the office that keeps the student registry), as
    #: opposed to SUPPORT_EMAIL (the helpdesk), which handles everything else.
    ACTIVATION_SUPPORT_EMAIL = "registry@example.edu"
    #: The institution's time zone: every time a person reads is shown in it.
    TIME_ZONE = "Europe/Athens"
    #: The privacy notice, per language, linked from every page (login, activation, consent...).
    PRIVACY_NOTICE_URL = {"el": "https://www.example.edu/el/privacy",
                          "en": "https://www.example.edu/en/privacy"}

    # -- Sessions -------------------------------------------------------------------------
    #: The session cookie. When BASE_URL is https it is sent as "__Host-" + this name
    #: (Secure, Path=/, no Domain: only this host can set or read it).
    SESSION_COOKIE_NAME = "kleidi_session"
    #: A session unused for this long ends.
    SESSION_IDLE_SECONDS = 30 * 60
    #: No session lives longer than this, used or not.
    SESSION_ABSOLUTE_SECONDS = 8 * 3600
    #: A session's last-seen time is written back at most this often (keeps SSO fast).
    SESSION_TOUCH_SECONDS = 60
    #: Language cookie (el or en), kept for a year; Secure when BASE_URL is https.
    LANGUAGE_COOKIE_NAME = "kleidi_lang"
    LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600
    #: Strict-Transport-Security max-age, sent only when BASE_URL is https (at least a year).
    HSTS_SECONDS = 365 * 24 * 3600

    # -- Login ----------------------------------------------------------------------------
    #: A login interaction (a protocol request waiting for the user) lives this long.
    INTERACTION_TTL_SECONDS = 30 * 60
    #: Failures per username and client address before backoff starts.
    LOGIN_FAILURES_PER_USER_IP = 5
    #: Failures per client address (any username) before backoff starts.
    LOGIN_FAILURES_PER_IP = 50
    #: The window over which failures are counted.
    LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60
    #: Backoff after the threshold: doubles per failure, from 1 s up to this.
    LOGIN_MAX_BACKOFF_SECONDS = 15 * 60
    #: Failures for one username from browsers it never signed in with (from any address)
    #: before their shared backoff starts (1 s, doubling up to LOGIN_MAX_BACKOFF_SECONDS);
    #: the owner is told by email when it starts.
    LOGIN_FAILURES_PER_ACCOUNT = 10
    #: Consecutive failures for one username from such browsers after which they are refused
    #: until a sign-in succeeds or the password is set anew (NIST SP 800-63B 5.2.2: <= 100).
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 100
    #: Those failures are forgotten this long after the first of them, success or not.
    LOGIN_ACCOUNT_FAILURE_MEMORY_SECONDS = 30 * 24 * 3600
    #: Device cookie (OWASP "device cookies"): a browser that signed in to an account carries
    #: a signed token for it, and failures elsewhere do not slow it down ("__Host-" + this
    #: name when BASE_URL is https).
    LOGIN_DEVICE_COOKIE_NAME = "kleidi_device"
    #: A device token lives this long after the sign-in that issued (or renewed) it.
    LOGIN_DEVICE_COOKIE_SECONDS = 180 * 24 * 3600
    #: Accounts one browser remembers (a shared computer keeps the most recent ones).
    LOGIN_DEVICE_ACCOUNTS = 5
    #: Consecutive wrong passwords through one device token before it counts as unknown.
    LOGIN_DEVICE_MAX_FAILURES = 10

    # -- Passwords (argon2id, OWASP's recommended parameters) -----------------------------
    ARGON2_MEMORY_KIB = 19456
    ARGON2_TIME_COST = 2
    ARGON2_PARALLELISM = 1

    # -- Identifiers ----------------------------------------------------------------------
    #: Length of a new AcademicID (alphanumeric, at most 64 for eduPersonUniqueId).
    ACADEMIC_ID_LENGTH = 32
    #: Secret that keys pairwise identifiers. Generated into KEYS_DIR in development.
    PAIRWISE_SECRET = ""

    # -- Usernames ------------------------------------------------------------------------
    #: Student usernames: department code and registration number (str.format fields).
    STUDENT_USERNAME_PATTERN = "{department:04d}{registration:08d}"
    #: What a student username must look like once made (rejects overlong registry values).
    STUDENT_USERNAME_REGEX = r"\d{12}"

    # -- Registries -----------------------------------------------------------------------
    #: Default region for phone numbers without a country code.
    PHONE_REGION = "GR"

    # -- Lifecycle: validity, deactivation, services, webhooks ----------------------------
    #: Where new AcademicIDs come from: "local" (issued here) or "central" (asked of the
    #: issuer at ACADEMIC_ID_ISSUER_URL, so that the ID follows the person between
    #: institutions). An AcademicID carried by a registry feed always wins.
    ACADEMIC_ID_ISSUER = "local"
    #: The central issuer's endpoint: POST JSON {"institution", "amka", "ssn", "ssn_country",
    #: "birth_date", "family_name", "given_name"}, answer {"academic_id": "..."}.
    ACADEMIC_ID_ISSUER_URL = ""
    #: The Authorization header sent to the issuer (e.g. "Bearer ...").
    ACADEMIC_ID_ISSUER_AUTH = ""
    #: How long to wait for the issuer before activation says it is unavailable.
    ACADEMIC_ID_ISSUER_TIMEOUT_SECONDS = 5
    #: Validity per role: "life" (no end), "active" (while the registry says so),
    #: "contract" (until the contract's end date), or {"years": N} (N years from activation).
    #: "keeps": services that survive the end (the account then moves to the alumni state).
    VALIDITY = {
        "undergraduate": {"rule": "active", "keeps": ["email", "alumni"]},
        "postgraduate": {"rule": "active", "keeps": ["email", "alumni"]},
        "doctoral": {"rule": "active", "keeps": ["email", "alumni"]},
        "faculty": {"rule": "life"},
        "emeritus": {"rule": "life"},
        "teaching_staff": {"rule": "active", "keeps": ["email"]},
        "staff": {"rule": "active"},
        "academic_fellow": {"rule": "contract"},
        "lecturer_407": {"rule": "contract"},
        "teaching_experience": {"rule": "contract"},
        "postdoc": {"rule": {"years": 2}},
        "researcher": {"rule": {"years": 2}},
        "contractor": {"rule": {"years": 2}},
        "collaborator": {"rule": {"years": 2}},
        "alumnus": {"rule": "life", "alumni": True},
    }
    #: Student registry enrollmentStatus values that end the affiliation; "graduated" also
    #: starts the alumnus affiliation. "suspended" disables the account.
    REGISTRY_ENDED_STATUSES = ["graduated", "transferred", "withdrawn", "deleted", "inactive"]
    REGISTRY_SUSPENDED_STATUSES = ["suspended"]
    #: A --full import may end at most this share of a registry's active affiliations
    #: unless forced (a truncated feed must not end everyone).
    REGISTRY_FULL_MAX_ENDED_SHARE = 0.05
    #: When a registry ends a role that lasts while active (a graduation, a resignation),
    #: the account stays valid this many days more, so that the warnings come ahead.
    LIFECYCLE_NOTICE_DAYS = 30
    #: Warning emails this many days before an account's end (each sent once).
    LIFECYCLE_WARNING_DAYS = [30, 7]
    #: Days after the end before the account is deactivated.
    LIFECYCLE_GRACE_DAYS = 14
    #: How often `kleidi worker` runs the lifecycle (seconds; 0: never).
    LIFECYCLE_RUN_SECONDS = 24 * 3600
    #: Who receives proof of continued membership, and the proof each role gives (the
    #: evidence kinds an extension may record).
    LIFECYCLE_OFFICE_EMAIL = "accounts@example.edu"
    EVIDENCE = {
        "certificate_of_studies": ["undergraduate", "postgraduate", "doctoral"],
        "supervisor_certificate_and_declaration": ["postdoc", "researcher", "contractor",
                                                   "collaborator"],
        "contract": ["contractor", "academic_fellow", "lecturer_407", "teaching_experience",
                     "collaborator"],
        "appointment_decision": ["academic_fellow", "lecturer_407", "teaching_experience",
                                 "faculty", "teaching_staff", "staff"],
    }
    #: The services catalogue: who is eligible (roles, "*" for all), who has it by default,
    #: whether it survives the end of the affiliation, its eduPersonEntitlement value
    #: ({domain}: the IdP's scope), and the relying parties (SAML entityIDs, OIDC client ids)
    #: an account in the alumni state may still sign in to through it.
    SERVICES = {
        "email": {"eligible": ["*"], "default": ["*"], "survives": True,
                  "entitlement": "urn:mace:{domain}:service:email", "relying_parties": []},
        "mailing_lists": {"eligible": ["*"], "default": ["*"], "survives": False,
                          "entitlement": "urn:mace:{domain}:service:lists",
                          "relying_parties": []},
        "vpn": {"eligible": ["*"], "default": ["*"], "survives": False,
                "entitlement": "urn:mace:{domain}:service:vpn", "relying_parties": []},
        "eduroam": {"eligible": ["*"], "default": ["*"], "survives": False,
                    "entitlement": "urn:mace:{domain}:service:eduroam", "relying_parties": []},
        "esecretariat": {"eligible": ["undergraduate", "postgraduate", "doctoral", "faculty",
                                      "staff", "teaching_staff"],
                         "default": ["faculty", "staff", "teaching_staff"], "survives": False,
                         "entitlement": "urn:mace:{domain}:service:esecretariat",
                         "relying_parties": []},
        "software": {"eligible": ["*"], "default": [], "survives": False,
                     "entitlement": "urn:mace:{domain}:service:software-licences",
                     "relying_parties": []},
        "alumni": {"eligible": ["alumnus"], "default": ["alumnus"], "survives": True,
                   "entitlement": "urn:mace:{domain}:service:alumni", "relying_parties": []},
    }
    #: Systems told of every service change and lifecycle event, by signed webhook:
    #: {name: {"url": ..., "secret": ..., "events": ["service.*", "account.*"]}}.
    WEBHOOKS = {}

    # -- Operators' console and non-personal accounts (manage/) ------------------------
    #: Roles whose members may request non-personal accounts (faculty, heads of units).
    NONPERSONAL_OWNER_ROLES = ["faculty", "emeritus", "teaching_staff", "staff"]
    #: The only services of a non-personal account (its sign-ins reach only their relying
    #: parties, never another federated one).
    NONPERSONAL_SERVICES = ["email", "mailing_lists"]
    #: The names a non-personal account may have (lower case, checked before the request).
    NONPERSONAL_USERNAME_REGEX = r"[a-z][a-z0-9.-]{2,30}[a-z0-9]"

    # -- OpenID Connect provider (idp/oidc) -----------------------------------------------
    #: The issuer identifier; empty means BASE_URL (must then stay stable forever).
    OIDC_ISSUER = ""
    #: An authorization code must be exchanged within this time (RFC 6749 suggests <= 10 min).
    OIDC_CODE_TTL_SECONDS = 60
    #: How long a used code is remembered, so that its replay revokes what it issued.
    OIDC_CODE_REPLAY_MEMORY_SECONDS = 24 * 3600
    #: Lifetime of an (opaque) access token.
    OIDC_ACCESS_TOKEN_TTL_SECONDS = 10 * 60
    #: Lifetime of an ID token.
    OIDC_ID_TOKEN_TTL_SECONDS = 10 * 60
    #: Absolute lifetime of a refresh-token family, however often it is rotated.
    OIDC_REFRESH_ABSOLUTE_SECONDS = 14 * 24 * 3600
    #: A private_key_jwt assertion may be valid for at most this long (its jti is kept as long).
    OIDC_ASSERTION_MAX_SECONDS = 10 * 60
    #: Lifetime of a back-channel logout token.
    OIDC_LOGOUT_TOKEN_TTL_SECONDS = 2 * 60
    #: How long the IdP waits for a client's back-channel logout endpoint.
    OIDC_BACKCHANNEL_TIMEOUT_SECONDS = 3
    #: Cache-Control max-age of the JWKS; a next key is published at least this long first.
    OIDC_JWKS_MAX_AGE_SECONDS = 5 * 60
    #: A retired key stays published for the ID token lifetime plus this grace.
    OIDC_KEY_RETAIN_GRACE_SECONDS = 24 * 3600
    #: Ended (expired or revoked) grants are kept this long, then `kleidi oidc purge` deletes them.
    OIDC_GRANT_RETENTION_SECONDS = 30 * 24 * 3600
    #: A worker keeps a registered client's settings this long before reading them again.
    OIDC_CLIENT_CACHE_SECONDS = 10
    #: acr values the provider can satisfy (advertised in discovery); a password login is sfa,
    #: a login with the second factor (idp.mfa) mfa.
    OIDC_ACR_VALUES = ["https://refeds.org/profile/sfa", "https://refeds.org/profile/mfa"]

    # -- mypassword: second factor, re-authentication, account page ----------------------
    #: Key that encrypts TOTP secrets and keys recovery-code hashes. Read from
    #: KEYS_DIR/mfa_secret_key when empty (generated there outside production).
    MFA_SECRET_KEY = ""
    #: Issuer shown in authenticator apps (empty: ORGANIZATION_NAME_EN).
    TOTP_ISSUER = ""
    #: TOTP codes are accepted this many 30-second steps before or after now.
    TOTP_VALID_WINDOW = 1
    #: Time allowed between the password and the code at login.
    MFA_PENDING_SECONDS = 5 * 60
    #: Wrong codes allowed in one login before it must start again.
    MFA_ATTEMPTS_PER_LOGIN = 5
    #: Wrong codes per account within MFA_FAILURE_WINDOW_SECONDS before the second step
    #: refuses to check codes until the window passes (a password alone never gets in).
    MFA_FAILURES_PER_ACCOUNT = 10
    MFA_FAILURE_WINDOW_SECONDS = 15 * 60
    #: An enrolment not confirmed with a first code within this time must start again.
    MFA_ENROLMENT_SECONDS = 15 * 60
    #: Recovery codes issued at enrolment (each works once).
    RECOVERY_CODE_COUNT = 10
    #: Changing contacts or removing the second factor needs a login (or a password
    #: confirmation) at most this long ago.
    REAUTH_SECONDS = 5 * 60
    #: Sign-in events shown on the account page.
    ACCOUNT_ACTIVITY_COUNT = 20
    #: A forgotten-password procedure must finish within this time.
    RECOVERY_FLOW_SECONDS = 25 * 60
    #: The first step of a recovery never answers sooner than this, whether or not the
    #: username and contact match (so a real send cannot be told apart by its timing).
    RECOVERY_IDENTIFY_MIN_SECONDS = 0.3
    #: Recoveries one client address may start per hour (each writes a flow record).
    RECOVERY_STARTS_PER_IP_HOUR = 30
    #: Verifying a new contact with its PIN must finish within this time.
    CONTACT_FLOW_SECONDS = 15 * 60

    # -- Activation, PINs, passwords and messages (self-service) ---------------------------
    #: Roles that can activate an account online (the activation page's choices): "student"
    #: (the student registry) and "staff" (the HR registry's roles, with a mobile or an email
    #: on record; those without one are told to apply for an account instead).
    ACTIVATION_ROLES = ["student", "staff"]
    #: An activation must be finished within this long of starting it (longer than a PIN
    #: lives, shorter than an idle session, which holds the flow's binding to the browser).
    ACTIVATION_FLOW_SECONDS = 25 * 60
    #: Activations one client address may start per hour (each writes a flow record).
    ACTIVATION_STARTS_PER_IP_HOUR = 60
    #: The identify step answers no sooner than this, matching data or not (no timing oracle).
    ACTIVATION_IDENTIFY_MIN_SECONDS = 0.1
    #: A PIN works once and only this long (uregister: 15 minutes).
    PIN_TTL_SECONDS = 15 * 60
    #: Wrong PINs that end the flow (counted per flow, across resends).
    PIN_MAX_ATTEMPTS = 5
    #: PINs that one flow may ask for again after the first (2: three sends in all). A person
    #: whose PIN does not arrive can ask twice more, then start again.
    PIN_RESENDS_PER_FLOW = 2
    #: A new PIN may be asked for this long after the previous one at the earliest (the page
    #: shows the wait): messages take a while, and a burst of sends is what pumping looks like.
    PIN_RESEND_WAIT_SECONDS = 60
    #: PINs per contact (mobile or email typed) per hour and per day: two procedures of three
    #: sends each fit in an hour; past a limit the page says how long to wait.
    PIN_SENDS_PER_CONTACT_HOUR = 6
    PIN_SENDS_PER_CONTACT_DAY = 10
    #: PINs per client address per hour and per day (a university NAT is one address).
    PIN_SENDS_PER_IP_HOUR = 30
    PIN_SENDS_PER_IP_DAY = 100
    #: SMS messages per hour, all flows together; past it SMS stop and the log alerts.
    SMS_HOURLY_BUDGET = 300
    #: Passwords: minimum length, the length the page recommends, maximum length.
    PASSWORD_MIN_LENGTH = 10
    PASSWORD_RECOMMENDED_LENGTH = 15
    PASSWORD_MAX_LENGTH = 256
    #: A Bloom filter of refused passwords (empty: the shipped idp/data list).
    PASSWORD_BLOCKLIST = ""
    #: Words of the institution a password may not be built on, besides its names, scope and
    #: domains (which are always refused): its city, abbreviations, nicknames; in any case,
    #: with or without accents (e.g. ["Πάτρα", "upatras", "panteion"]).
    PASSWORD_INSTITUTION_WORDS = []
    #: Email gateway: "smtp", "dev" (kept for `kleidi outbox`), or empty: smtp if SMTP_URL.
    EMAIL_GATEWAY = ""
    #: smtp://user:password@host:port (add ?starttls=1 to upgrade) or smtps://...
    SMTP_URL = ""
    #: The From address of email.
    MAIL_FROM = "noreply@example.edu"
    #: SMS gateway: "http", "dev", or empty: http if SMS_HTTP_URL is set.
    SMS_GATEWAY = ""
    #: The provider's endpoint; one POST per message.
    SMS_HTTP_URL = ""
    #: The Authorization header sent to it (e.g. "Bearer ..." or "Basic ...").
    SMS_HTTP_AUTH = ""
    #: The request body: a template with $to, $text and $sender (quoted for the content type).
    SMS_HTTP_BODY = '{"to": $to, "text": $text, "from": $sender}'
    SMS_HTTP_CONTENT_TYPE = "application/json"
    #: The sender name or number shown on the phone.
    SMS_SENDER = "Kleidi"
    #: Delivery tries before a message is given up (logged as an error).
    OUTBOX_MAX_ATTEMPTS = 8
    #: Backoff after a failed try: this, doubled per try, at most the maximum.
    OUTBOX_BACKOFF_SECONDS = 30
    OUTBOX_BACKOFF_MAX_SECONDS = 3600
    #: In development, deliver from a thread inside the web server; otherwise (and always
    #: in production) `kleidi worker` delivers.
    OUTBOX_INPROCESS_WORKER = True

    # -- SAML identity provider (idp.saml) ------------------------------------------------
    #: The IdP's entityID. Empty: BASE_URL + "/saml/metadata".
    SAML_ENTITY_ID = ""
    #: How often (seconds) a process checks METADATA_DIR, the SP tables, the federation
    #: sources and the SAML key files for changes (a server process: in a background thread).
    SAML_METADATA_CHECK_SECONDS = 5
    #: The published IdP metadata is valid for this many days (its validUntil).
    SAML_METADATA_VALID_DAYS = 7
    #: Largest SAML message accepted, in bytes (after base64 decoding and inflating).
    SAML_MAX_MESSAGE_BYTES = 100_000
    #: A request's IssueInstant may be this old at most...
    SAML_REQUEST_MAX_AGE_SECONDS = 300
    #: ...or this far ahead of our clock (skew allowed in both directions).
    SAML_CLOCK_SKEW_SECONDS = 60
    #: An assertion may be used by the SP for this long (SubjectConfirmationData NotOnOrAfter).
    SAML_ASSERTION_LIFETIME_SECONDS = 300
    #: Require every AuthnRequest and LogoutRequest to be signed, whatever the SP's metadata says.
    SAML_REQUIRE_SIGNED_REQUESTS = False
    #: Block cipher of encrypted assertions (xmlenc URI): AES-256-GCM; 3DES is never used.
    SAML_DATA_ENCRYPTION = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
    #: During Single Logout, how long the page waits for the other SPs before answering.
    SAML_LOGOUT_WAIT_SECONDS = 5
    #: A pending logout across SPs is kept this long (seconds).
    SAML_LOGOUT_TTL_SECONDS = 600
    #: What the IdP's metadata says about it (mdui), per language.
    SAML_DISPLAY_NAME = {"el": "Κλειδί: ταυτοποίηση χρηστών", "en": "Kleidi single sign-on"}
    SAML_DESCRIPTION = {"el": "Η υπηρεσία ταυτοποίησης του ιδρύματος",
                        "en": "The institution's identity provider"}
    SAML_INFORMATION_URL = {"el": "https://www.example.edu/el/sso",
                            "en": "https://www.example.edu/en/sso"}
    SAML_PRIVACY_URL = {"el": "https://www.example.edu/el/privacy",
                        "en": "https://www.example.edu/en/privacy"}
    #: Logo (an https URL, 80x60) published in the metadata.
    SAML_LOGO_URL = "https://www.example.edu/logo-80x60.png"
    #: Contacts published in the metadata; the security one carries the SIRTFI type.
    SAML_TECHNICAL_CONTACT = "mailto:sso-admin@example.edu"
    SAML_SECURITY_CONTACT = "mailto:security@example.edu"

    # -- Federation metadata sources (idp.saml.sources, kleidi metadata) -------------------
    #: A source added without --refresh is fetched again this often (seconds).
    SAML_METADATA_REFRESH_SECONDS = 3600
    #: After a failed refresh (the last good copy stays in use) it is tried again this soon.
    SAML_METADATA_RETRY_SECONDS = 600
    #: How long fetching an aggregate may take before it counts as failed.
    SAML_METADATA_FETCH_TIMEOUT_SECONDS = 60
    #: Largest aggregate accepted, in bytes (eduGAIN's is under 100 MB).
    SAML_METADATA_SOURCE_MAX_BYTES = 200_000_000
    #: An MDQ service must answer within this time (a person is waiting).
    SAML_MDQ_TIMEOUT_SECONDS = 5
    #: Largest MDQ answer accepted, in bytes.
    SAML_MDQ_MAX_BYTES = 2_000_000
    #: An entity from an MDQ service is kept for its cacheDuration, at most this long.
    SAML_MDQ_MAX_CACHE_SECONDS = 6 * 3600
    #: An entityID the MDQ service does not know is not asked for again for this long.
    SAML_MDQ_NEGATIVE_SECONDS = 60
    #: Requests one process may send to MDQ services per minute (forged issuers cannot turn
    #: the IdP into a flood against the federation's service).
    SAML_MDQ_FETCHES_PER_MINUTE = 60

    # -- Relying parties: the registration portal, review and key rollover ---------------
    #: eduPerson affiliations whose holders may register services at /rp.
    RP_REGISTRATION_AFFILIATIONS = ["staff", "faculty"]
    #: Largest metadata file accepted by the portal, in bytes.
    RP_METADATA_MAX_BYTES = 200_000
    #: A client's keys fetched from its jwks_uri (private_key_jwt) are kept this long.
    OIDC_JWKS_URI_CACHE_SECONDS = 5 * 60
    #: A staged SAML signing certificate must be published this long before `kleidi keys
    #: saml activate` lets it sign (SPs and federations refresh the IdP's metadata daily).
    SAML_KEY_ROLLOVER_NOTICE_SECONDS = 2 * 24 * 3600

    # -- Staff applications and the account office (idp.identity.applications) -----------
    #: Roles that staff and other members apply for online (every staff role: ΕΕΠ is
    #: teaching_staff and ΠΔ 407/80 lecturer_407, two roles with different validity).
    APPLICATION_ROLES = ["faculty", "emeritus", "staff", "teaching_staff", "lecturer_407",
                         "academic_fellow", "teaching_experience", "postdoc", "researcher",
                         "contractor", "collaborator"]
    #: Roles whose application gives the contract period and the supervising faculty member.
    APPLICATION_CONTRACT_ROLES = ["contractor", "collaborator"]
    #: Identity documents the office checks in person (the application names one of them).
    APPLICATION_DOCUMENTS = ["id_card", "passport", "residence_permit"]
    #: Evidence the office must see, per role, besides the identity document, before the
    #: account is handed over ("*": every role). Contractors: a solemn declaration of the
    #: kind and duration of the collaboration and the university's certificate of the role.
    APPLICATION_EVIDENCE = {"contractor": ["solemn_declaration", "role_certificate"],
                            "collaborator": ["solemn_declaration", "role_certificate"]}
    #: Applications one client address may submit per hour.
    APPLICATIONS_PER_IP_HOUR = 10
    #: Status look-ups (serial and secret) per client address, and per serial, per hour.
    APPLICATION_STATUS_LOOKUPS_PER_IP_HOUR = 20
    APPLICATION_STATUS_LOOKUPS_PER_SERIAL_HOUR = 10
    #: The hand-over's one-time set-password link (and the code printed with it) works once
    #: and only this long.
    HANDOVER_LINK_SECONDS = 72 * 3600
    #: Set-password codes tried per client address per hour (right or wrong).
    HANDOVER_CODE_TRIES_PER_IP_HOUR = 20
    #: Staff usernames: str.format fields {given}, {family} (Latin letters, lower case) and
    #: {given_initial}; a number is added when taken. No username is ever issued twice.
    STAFF_USERNAME_PATTERN = "{given_initial}{family}"
    STAFF_USERNAME_MAX_LENGTH = 20
    #: One personal account per person: when its affiliations entitle it to several domains
    #: (ROLE_DOMAINS), the first of these wins (a staff member who is also a student).
    DOMAIN_PRECEDENCE = ["example.edu", "upnet.example.edu"]

    # -- Reliability: outages, readiness, metrics, shared keys ---------------------------
    #: The Retry-After (seconds) of the 503 answered while the database or the store is down.
    OUTAGE_RETRY_AFTER_SECONDS = 30
    #: Seconds to wait for a new PostgreSQL connection before the request answers 503.
    DATABASE_CONNECT_TIMEOUT_SECONDS = 5
    #: /metrics answers a request with "Authorization: Bearer <this>" (empty: no token)...
    METRICS_TOKEN = ""
    #: ...or from an address in these networks (e.g. ["10.0.5.0/24"]: the monitoring network;
    #: behind a proxy, the address it forwards). Neither set: /metrics does not exist.
    METRICS_NETWORKS = []


#: Settings that hold secrets: never logged, never shown.
SECRET_SETTINGS = {"SECRET_KEY", "PAIRWISE_SECRET", "SMTP_URL", "SMS_HTTP_AUTH",
                   "MFA_SECRET_KEY", "ACADEMIC_ID_ISSUER_AUTH", "WEBHOOKS"}
SECRET_SETTINGS |= {"METRICS_TOKEN"}


def defaults() -> dict:
    """The defaults as a fresh dict (lists and dicts copied)."""
    return {
        name: json.loads(json.dumps(value))
        for name, value in vars(Defaults).items()
        if name.isupper()
    }


def load(overrides: dict | None = None, environ: os._Environ | dict | None = None) -> dict:
    """Build the configuration: defaults < KLEIDI_CONFIG file < KLEIDI_* env < overrides.

    A value that cannot be read raises :class:`ConfigurationError` naming the setting and
    the form it must have."""
    environ = os.environ if environ is None else environ
    config = defaults()
    path = environ.get("KLEIDI_CONFIG")
    if path:
        config.update(_read_file(path))
    for name, default in list(config.items()):
        raw = environ.get(f"KLEIDI_{name}")
        if raw is not None:
            config[name] = _parse(raw, default, name)
    config.update(overrides or {})
    return config


def _read_file(path: str) -> dict:
    try:
        with open(path, "rb") as handle:
            return {key.upper(): value for key, value in tomllib.load(handle).items()}
    except OSError as error:
        raise ConfigurationError(f"KLEIDI_CONFIG: cannot read {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"KLEIDI_CONFIG: {path} is not valid TOML ({error})") from None


def _parse(raw: str, default, name: str):
    """Parse an environment value to the type of its default."""
    if isinstance(default, bool):
        if raw.lower() not in {"1", "0", "true", "false", "yes", "no"}:
            raise ConfigurationError(f"KLEIDI_{name} must be true or false, not {raw!r}")
        return raw.lower() in {"1", "true", "yes"}
    if isinstance(default, int | float):
        kind = type(default)
        try:
            return kind(raw)
        except ValueError:
            form = "a whole number" if kind is int else "a number"
            raise ConfigurationError(f"KLEIDI_{name} must be {form}, not {raw!r}") from None
    if isinstance(default, list | dict):
        form = f"a JSON {'array' if isinstance(default, list) else 'object'}"
        try:
            value = json.loads(raw)
        except ValueError:
            raise ConfigurationError(f"KLEIDI_{name} must be {form}, not {raw!r}") from None
        if not isinstance(value, type(default)):
            raise ConfigurationError(f"KLEIDI_{name} must be {form}")
        return value
    return raw


class ConfigurationError(RuntimeError):
    """Kleidi cannot start with this configuration; the message says what to set."""


def check_production(config: dict) -> None:
    """Refuse to run in production with settings that only suit development."""
    if config["ENV"] != "production":
        return
    missing = [name for name in ("SECRET_KEY", "PAIRWISE_SECRET") if not config.get(name)]
    if missing:
        names = ", ".join(f"KLEIDI_{name}" for name in missing)
        raise ConfigurationError(f"production needs {names}: set them (long random values)")
    if not config["BASE_URL"].startswith("https://"):
        raise ConfigurationError("production needs KLEIDI_BASE_URL to be an https:// URL")
