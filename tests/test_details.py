"""The details people trip over: services by name, the country list, SMS that fit one
segment, HEAD requests, the `kleidi` command's help and output, the authenticator link."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from mfa_helpers import account
from oidc_support import register

from idp import consent, db, messaging
from idp.messaging import gsm
from selfservice.activation.forms import countries
from selfservice.mypassword.notices import SMS_TEXTS

UI = ('<md:Extensions><mdui:UIInfo xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui">'
      '<mdui:DisplayName xml:lang="el">Ηλεκτρονική Τάξη</mdui:DisplayName>'
      '<mdui:DisplayName xml:lang="en">E-class</mdui:DisplayName></mdui:UIInfo></md:Extensions>')


def _with_names(xml: str) -> str:
    return re.sub(r"(<md:SPSSODescriptor[^>]*>)", lambda m: m.group(1) + UI, xml, count=1)


def _service_cells(body: str) -> list[str]:
    return re.findall(r'<td data-label="(?:Service|Υπηρεσία)">([^<]*)</td>', body)


def test_the_account_page_names_services_not_their_ids(app, client, tmp_path, make_account,
                                                       login):
    from saml_support import sp_metadata

    folder = tmp_path / "metadata"
    folder.mkdir()
    app.config.update(METADATA_DIR=str(folder), SAML_METADATA_CHECK_SECONDS=0)
    entity = "https://eclass.example.edu/shibboleth"
    (folder / "eclass.xml").write_text(_with_names(sp_metadata(entity, "https://eclass.example.edu/acs")))
    client_id, _ = register(app, name="Δηλώσεις Συγγραμμάτων")
    nameless, _ = register(app, redirect_uris=("https://books.example.org/cb",))
    username, password = make_account()
    with app.test_request_context():
        for party in (entity, client_id, nameless):
            consent.grant(account(username), party, ["display_name"])
        db.session().commit()
    login(client, username, password)
    greek = client.get("/account", headers={"Accept-Language": "el"}).get_data(as_text=True)
    english = client.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert _service_cells(greek) == ["Ηλεκτρονική Τάξη", "Δηλώσεις Συγγραμμάτων",
                                     "books.example.org"]
    assert _service_cells(english) == ["E-class", "Δηλώσεις Συγγραμμάτων", "books.example.org"]
    # the services table has a header for every column, the action one too (axe td-has-header)
    assert '<th scope="col"><span class="visually-hidden">Action</span></th>' in english


def test_the_country_list_has_countries_only_in_the_pages_alphabetical_order(app):
    with app.test_request_context(headers={"Accept-Language": "el"}):
        greek = countries()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        english = countries()
    codes = {choice.value for choice in greek}
    assert not codes & {"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB"}
    assert {"CY", "DE", "IT", "XK"} <= codes and greek[0].value == english[0].value == "GR"
    labels = [choice.label for choice in greek[1:]]
    # accents and case do not decide the order: "Άγιος ..." among the A's, not after Ω
    assert labels.index("Αγία Λουκία") < labels.index("Άγιος Μαρίνος") < labels.index("Αζερμπαϊτζάν")
    assert labels.index("Ομάν") < labels.index("Ουγγαρία") and labels[-1].startswith("Χ")
    assert [c.label for c in english[1:4]] == ["Afghanistan", "Åland Islands", "Albania"]


@pytest.mark.parametrize("language", ["el", "en"])
def test_every_sms_is_gsm_in_one_segment_and_names_the_institution(app, language):
    organization = app.config[f"ORGANIZATION_NAME_{language.upper()}"]
    with app.test_request_context():
        texts = [messaging.render("pin", "sms", language, pin="123456", minutes=15,
                                  service=service, organization=organization)[1]
                 for service in ("Account activation", "Password recovery",
                                 "Contact verification")]
        texts += [messaging.render("mypassword_notice", "sms", language, sms_text=text,
                                   username="151200012345", when="2026-12-02 18:45",
                                   support=app.config["SUPPORT_EMAIL"],
                                   organization=organization)[1]
                  for text in SMS_TEXTS.values()]
    for text in texts:
        assert gsm.encodable(text) and gsm.septets(text) <= gsm.SEGMENT, text
        assert gsm.to_gsm(organization) in text
    if language == "el":
        assert texts[0].startswith("ΠANEΠIΣTHMIO KΛEIΔI: ")  # Greek capitals, Latin twins


def test_gsm_keeps_what_fits_and_replaces_what_does_not():
    assert gsm.to_gsm("PIN 123456, valid 15 minutes.") == "PIN 123456, valid 15 minutes."
    assert gsm.to_gsm("Καλημέρα «φίλε» – ώρα") == 'KAΛHMEPA "ΦIΛE" - ΩPA'
    assert gsm.septets("€10") == 4


def test_head_is_answered_like_get(client):
    for path in ("/login", "/activate/", "/recovery", "/", "/no-such-page"):
        head, get = client.head(path), client.get(path)
        assert head.status_code == get.status_code, path
        assert head.data == b"" and head.headers["Content-Length"] == get.headers["Content-Length"]


def _kleidi(*args, keys: str, database="sqlite://"):
    return subprocess.run([sys.executable, "-c", "from idp.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={"PATH": "/usr/bin:/bin", "KLEIDI_ENV": "testing",
                               "KLEIDI_DATABASE_URL": database, "KLEIDI_SECRET_KEY": "x",
                               "KLEIDI_PAIRWISE_SECRET": "y", "KLEIDI_KEYS_DIR": keys})


def test_kleidi_help_shows_kleidis_commands_not_flasks_options(tmp_path):
    result = _kleidi("--help", keys=str(tmp_path))
    assert result.returncode == 0, result.stderr
    for command in ("init", "serve", "registry", "account", "worker", "outbox"):
        assert re.search(rf"^  {command} ", result.stdout, re.M), command
    for flask_option in ("--app", "--env-file", "--debug", "Flask"):
        assert flask_option not in result.stdout
    assert result.stderr == ""


def test_commands_log_readable_text_unless_asked_for_json(keys_dir, tmp_path):
    database = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    text = _kleidi("init", database=database, keys=str(keys_dir))
    assert text.returncode == 0, text.stderr
    assert "database ready" in text.stdout
    assert "info: Running upgrade" in text.stderr and '{"time"' not in text.stderr
    readable = _kleidi("demo", database=database, keys=str(keys_dir))
    assert "Demo accounts" in readable.stdout and '{"time"' not in readable.stderr
    as_json = _kleidi("demo", "--json", database=database, keys=str(keys_dir))
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)[0]["username"]
    assert all(json.loads(line) for line in as_json.stderr.splitlines())  # JSON logs too


def test_the_authenticator_link_beside_the_qr_code(app, client, csrf, make_account, login):
    username, password = make_account()
    login(client, username, password)
    page = client.get("/account/second-factor")
    client.post("/account/second-factor", data={"csrf_token": csrf(page)})
    setup = client.get("/account/second-factor/setup").get_data(as_text=True)
    link = re.search(r'<a class="otpauth" href="(otpauth://totp/[^"]+)"', setup)
    key = re.search(r'<code class="secret-key">([A-Z2-7 ]+)</code>', setup).group(1)
    assert link and f"secret={key.replace(' ', '')}" in link.group(1)
