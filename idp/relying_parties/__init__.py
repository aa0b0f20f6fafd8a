"""Relying parties registered by their admins and approved by the operators.

An RP admin (a signed-in person whose affiliation ``RP_REGISTRATION_AFFILIATIONS`` allows)
registers a SAML SP or an OIDC client with the attributes it needs and why
(:mod:`.registration`); the operators with the ``federation`` role approve it with a release
or reject it (:mod:`.review`). What a protocol must do for it lives in that protocol's
adapter, reached through :mod:`.kinds`.
"""


def init_app(app) -> None:
    """The ``kleidi rp`` commands (the kinds are registered by the SAML and OIDC adapters)."""
    from idp.relying_parties import cli, codes  # noqa: F401 (codes: defined at import)

    cli.init_app(app)
