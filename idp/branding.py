"""The institution's look: its templates, logo, colours, time zone and privacy notice.

Everything here comes from configuration (``idp/config.py``, "Look and feel"), so that an
institution brands Kleidi without forking it:

* ``TEMPLATES_DIR`` is searched before the built-in templates, so any page (or a partial such
  as ``brand/logo.html``) can be replaced by a file of the same path;
* the colours are served as a small stylesheet, ``/brand.css`` (never inline styles: the
  pages keep working under a ``style-src 'self'`` content security policy);
* ``/favicon.ico`` answers for browsers that ask for it without reading the page.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, Flask, current_app, redirect, render_template, url_for
from flask_babel import format_datetime, get_locale
from jinja2 import ChoiceLoader, FileSystemLoader

from idp.config import ConfigurationError

bp = Blueprint("branding", __name__)

COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
#: WCAG AA contrast for normal text.
MIN_CONTRAST = 4.5
#: Which colour must stand out against which background (the stylesheet's pairs).
CONTRAST_PAIRS = (("accent", "#ffffff"), ("on_accent", "accent"), ("error", "#fdecec"),
                  ("error", "#ffffff"))


@bp.route("/brand.css")
def stylesheet():
    body = render_template("brand/brand.css", colours=current_app.config["BRAND_COLOURS"])
    return body, 200, {"Content-Type": "text/css; charset=utf-8",
                       "Cache-Control": "public, max-age=300"}


@bp.route("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="favicon.svg"), 301)


def privacy_url() -> str:
    """The privacy notice in the page's language (English, then any, as fallbacks)."""
    urls = current_app.config["PRIVACY_NOTICE_URL"]
    return urls.get(str(get_locale())) or urls.get("en") or next(iter(urls.values()), "")


def local_time(moment: datetime | None, pattern: str = "yyyy-MM-dd HH:mm") -> str:
    """``moment`` (UTC; naive values are UTC) in the institution's time zone."""
    if moment is None:
        return ""
    return format_datetime(moment, pattern)


def time_zone_name() -> str:
    return current_app.config["TIME_ZONE"]


def check(config: dict) -> None:
    """Refuse to start with colours that are not colours, too little contrast, a logo the
    pages could not load, or an unknown time zone: each would reach every page."""
    colours = config["BRAND_COLOURS"]
    for name in ("accent", "on_accent", "error"):
        if not COLOUR.fullmatch(str(colours.get(name, ""))):
            raise ConfigurationError(f"KLEIDI_BRAND_COLOURS: {name} must be a colour like #0b4f8a")
    for name, background in CONTRAST_PAIRS:
        ratio = contrast(colours[name], colours.get(background, background))
        if ratio < MIN_CONTRAST:
            raise ConfigurationError(
                f"KLEIDI_BRAND_COLOURS: {name} has a contrast of {ratio:.1f}:1 against "
                f"{background}; at least {MIN_CONTRAST}:1 is needed to be readable")
    logo = config["LOGO_URL"]
    if logo and not (logo.startswith("/") and not logo.startswith("//")
                     or logo.startswith("data:image/")):
        raise ConfigurationError("KLEIDI_LOGO_URL: a path on this site or a data:image/ URI "
                                 "(the content security policy loads images from nowhere else)")
    try:
        ZoneInfo(config["TIME_ZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(f"KLEIDI_TIME_ZONE: unknown time zone {config['TIME_ZONE']!r}") \
            from None


def contrast(first: str, second: str) -> float:
    """The WCAG 2 contrast ratio of two colours."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    channels = [int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def init_app(app: Flask) -> None:
    check(app.config)
    app.jinja_env.add_extension("jinja2.ext.do")
    if app.config["TEMPLATES_DIR"]:
        env = app.jinja_env
        env.loader = ChoiceLoader([FileSystemLoader(app.config["TEMPLATES_DIR"]), env.loader])
    app.register_blueprint(bp)
    app.add_template_global(privacy_url)
    app.add_template_global(time_zone_name)
    app.add_template_filter(local_time)
