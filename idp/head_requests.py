"""HEAD answered exactly like GET, without the body (RFC 9110, section 9.3.2).

Flask sends HEAD to the GET view, but a view that tells GET from POST by ``request.method
== "GET"`` would treat HEAD as a form post (the login page answered HEAD with 400). Rather
than trust every view to remember HEAD, the request is run as a GET and its body dropped.
"""

from __future__ import annotations


class HeadAsGet:
    """WSGI middleware: run a HEAD request as GET, send the status and headers, no body."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "HEAD":
            return self.app(environ, start_response)
        body = self.app({**environ, "REQUEST_METHOD": "GET"}, start_response)
        try:
            for _chunk in body:  # a streamed body may call start_response only when iterated
                pass
        finally:
            if hasattr(body, "close"):
                body.close()
        return []
