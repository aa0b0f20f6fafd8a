"""The helpdesk removes a lost second factor from the command line."""

from mfa_helpers import enrol


def test_status_and_removal(app, clock, make_account, login):
    username, password = make_account()
    runner = app.test_cli_runner()
    assert "no second factor" in runner.invoke(args=["mfa", "status", username]).output
    enrol(app, clock, username)
    assert "10 unused recovery codes" in runner.invoke(args=["mfa", "status", username]).output
    refused = runner.invoke(args=["mfa", "remove", username])
    assert refused.exit_code != 0 and "--reason" in refused.output
    done = runner.invoke(args=["mfa", "remove", username, "--reason", "ticket 4711"])
    assert done.exit_code == 0, done.output
    assert login(app.test_client(), username, password).headers["Location"].endswith(
        "/login/continue")
    again = runner.invoke(args=["mfa", "remove", username, "--reason", "again"])
    assert again.exit_code != 0 and "no second factor" in again.output


def test_unknown_username(app):
    result = app.test_cli_runner().invoke(args=["mfa", "status", "nobody"])
    assert result.exit_code != 0 and "no account nobody" in result.output
