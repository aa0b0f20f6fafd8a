"""Error codes of the console's pages (the gate's are in :mod:`manage.access`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from idp.errors import define

define("MANAGE-004", 404, _l("No such account"),
       _l("No account has this username. Check it, or search for the person by name or "
          "registration number."))
define("MANAGE-007", 400, _l("A reason is needed"),
       _l("Every action in the console is recorded with its reason. Go back, write the "
          "reason and try again."))
