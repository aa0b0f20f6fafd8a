"""Logging in and out through the login page."""

import re

from idp import db
from idp.models import Account, AuditEvent

import sqlalchemy as sa


def test_login_page_has_the_form(client):
    page = client.get("/login")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'name="username"' in body and 'name="password"' in body
    assert 'autocomplete="current-password"' in body


def test_login_success_then_logout(client, make_account, login, csrf):
    username, password = make_account()
    response = login(client, username, password)
    assert response.status_code == 302
    home = client.get(response.headers["Location"], follow_redirects=True)
    assert f"{username}@example.edu" in home.get_data(as_text=True)
    page = client.get("/logout")
    client.post("/logout", data={"csrf_token": csrf(page)})
    assert client.get("/").headers["Location"].endswith("/login")
