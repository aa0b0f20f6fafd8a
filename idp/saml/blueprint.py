"""The /saml blueprint; sso, logout and the metadata view add their routes to it at import."""

from flask import Blueprint, Response

bp = Blueprint("saml", __name__, url_prefix="/saml")


@bp.get("/metadata")
def metadata_document() -> Response:
    """The IdP's signed metadata."""
    from idp.saml import metadata

    response = Response(metadata.signed_metadata(), mimetype="application/samlmetadata+xml")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
