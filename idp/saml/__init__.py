"""SAML 2.0 identity provider: a thin layer over pysaml2's Server on the Kleidi core."""
