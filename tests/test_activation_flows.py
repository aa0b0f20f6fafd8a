"""The flow state machine of idp.flows: its table, its refusals, its expiry, its clean-up."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from idp import clock, db, errors, flows
from idp.credentials import pins

flows.register_kind("test-kind", initial="a", lifetime="ACTIVATION_FLOW_SECONDS",
                    transitions={"a": {"b"}, "b": {"b", "done"}})


def test_a_kind_must_declare_every_state_it_names():
    with pytest.raises(ValueError, match="undeclared"):
        flows.register_kind("broken", initial="a", lifetime="X", transitions={"a": {"zzz"}})


def test_moves_follow_the_table(ctx):
    flow = flows.start("test-kind")
    with pytest.raises(flows.IllegalTransition) as refused:
        flows.advance(flow, "done")
    assert refused.value.entry.code == "FLOW-003" and flow.state == "a"
    flows.advance(flow, "b", note="kept")
    flows.advance(flow, "b")
    flows.advance(flow, "done")
    assert flow.data == {"note": "kept"}
    with pytest.raises(flows.IllegalTransition):
        flows.advance(flow, "b")  # done is final


def test_every_live_state_may_fail_and_failed_flows_cannot_be_loaded(ctx):
    flow = flows.start("test-kind", data={"personal": "data"})
    db.session().commit()
    flows.fail(flow, "test")
    db.session().expire_all()
    with pytest.raises(errors.KleidiError) as stopped:
        flows.load(flow.id, "test-kind")
    assert stopped.value.entry.code == "FLOW-004"
    assert db.session().get(flows.Flow, flow.id).data == {"reason": "test"}


def test_expired_flow_refuses_to_move(app, ctx, clock):
    flow = flows.start("test-kind")
    clock.advance(app.config["ACTIVATION_FLOW_SECONDS"] + 1)
    with pytest.raises(errors.KleidiError) as expired:
        flows.advance(flow, "b")
    assert expired.value.entry.code == "FLOW-002"


def test_load_checks_kind_and_expected_state(ctx):
    flow = flows.start("test-kind")
    db.session().commit()
    assert flows.load(flow.id, "test-kind", expect="a") is flow
    with pytest.raises(errors.KleidiError, match="FLOW-001"):
        flows.load(flow.id, "activation")
    with pytest.raises(errors.KleidiError, match="FLOW-003"):
        flows.load(flow.id, "test-kind", expect={"b", "done"})


def test_purge_deletes_long_expired_flows_and_their_pins(app, ctx):
    old, fresh = flows.start("test-kind"), flows.start("test-kind")
    db.session().flush()
    pins.issue(old, "test", contact="x", ip=None)
    old.expires_at = clock.now() - timedelta(days=2)
    db.session().commit()
    assert flows.purge_expired() == 1
    assert db.session().scalars(sa.select(flows.Flow.id)).all() == [fresh.id]
    assert db.session().scalar(sa.select(sa.func.count()).select_from(pins.Pin)) == 0
