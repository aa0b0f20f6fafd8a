"""The states of a relying party's registration and the moves between them.

draft -> submitted -> approved -> active, or submitted -> rejected. An owner's edit moves any
state back to draft; an RP that was approved before keeps serving its approved version
(``RelyingParty.approved``) whatever state its edit is in.
"""

from __future__ import annotations

from idp.errors import KleidiError

TRANSITIONS = {
    "draft": {"submitted", "draft"},
    "submitted": {"approved", "rejected", "draft"},
    "approved": {"active"},
    "rejected": {"draft"},
    "active": {"draft"},
}


def advance(rp, state: str) -> None:
    """Move ``rp`` to ``state``; RP-010 if that move is not allowed from where it is."""
    if state not in TRANSITIONS.get(rp.state, set()):
        raise KleidiError("RP-010", relying_party=rp.identifier, state=rp.state, to=state)
    rp.state = state
