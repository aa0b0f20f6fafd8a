"""Importing registry feeds with `kleidi registry import`."""

import csv
import json

import sqlalchemy as sa

from idp import db
from idp.identity.models import RegistryRecord

HEADER = ["registrationID", "departmentID", "firstNameEl", "lastNameEl", "firstNameEn",
          "lastNameEn", "fatherFirstNameEl", "birthDate", "SSN", "SSNCOUNTRY", "TIN",
          "TINCOUNTRY", "extEmail", "mobilePhone", "enrollmentStatus", "enrollmentType",
          "inscriptionAcYear"]
GOOD = ["00012345", "1512", "Μαρία", "Παπαδοπούλου", "Maria", "Papadopoulou", "Γιώργος",
        "2001-05-17", "17050112345", "GR", "090000045", "GR", "maria@example.org",
        "6912345678", "active", "undergraduate", "2024-2025"]


def _csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _row(**changes):
    row = dict(zip(HEADER, GOOD, strict=True))
    row.update(changes)
    return [row[name] for name in HEADER]


def _records(app):
    with app.app_context():
        records = {r.registration_id: r for r in db.session().scalars(sa.select(RegistryRecord))}
        db.session().expunge_all()
        return records


def test_good_rows_are_imported_and_normalised(app, tmp_path):
    path = _csv(tmp_path / "students.csv", [_row()])
    result = app.test_cli_runner().invoke(args=["registry", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "created 1, updated 0, unchanged 0, rejected 0" in result.output
    record = _records(app)["00012345"]
    assert record.mobile_phone == "+306912345678"
    assert record.role == "undergraduate" and record.ssn == "17050112345"
    assert record.birth_date.isoformat() == "2001-05-17"


def test_bad_rows_are_reported_with_line_and_reason_and_good_rows_still_import(app, tmp_path):
    rows = [
        _row(),
        _row(registrationID="00000002", SSN="17050112340"),     # Luhn check fails
        _row(registrationID="00000003", TIN="090000046"),       # AFM check digit fails
        _row(registrationID="00000004", mobilePhone="2101234567"),  # a landline
        _row(registrationID="00000005", extEmail="not-an-email"),
        _row(registrationID="00000006", SSN="", SSNCOUNTRY="", TIN="", TINCOUNTRY=""),
    ]
    path = _csv(tmp_path / "students.csv", rows)
    result = app.test_cli_runner().invoke(args=["registry", "import", str(path)])
    assert result.exit_code == 1
    assert f"{path}:3: SSN is not a valid AMKA" in result.output
    assert f"{path}:4: TIN is not a valid AFM" in result.output
    assert f"{path}:5: mobilePhone is not a valid mobile number" in result.output
    assert f"{path}:6: extEmail is not a valid address" in result.output
    assert "created 2, updated 0, unchanged 0, rejected 4" in result.output
    assert set(_records(app)) == {"00012345", "00000006"}


def test_reimporting_the_same_file_changes_nothing(app, tmp_path):
    path = _csv(tmp_path / "students.csv", [_row(), _row(registrationID="00000002")])
    runner = app.test_cli_runner()
    runner.invoke(args=["registry", "import", str(path)])
    before = {k: (r.id, r.imported_at) for k, r in _records(app).items()}
    again = runner.invoke(args=["registry", "import", str(path)])
    assert "created 0, updated 0, unchanged 2, rejected 0" in again.output
    assert {k: (r.id, r.imported_at) for k, r in _records(app).items()} == before


def test_a_changed_row_updates_its_record(app, tmp_path):
    runner = app.test_cli_runner()
    runner.invoke(args=["registry", "import", str(_csv(tmp_path / "a.csv", [_row()]))])
    changed = _csv(tmp_path / "b.csv", [_row(mobilePhone="+30 697 000 0000")])
    result = runner.invoke(args=["registry", "import", str(changed)])
    assert "created 0, updated 1, unchanged 0" in result.output
    assert _records(app)["00012345"].mobile_phone == "+306970000000"


def test_json_feed_and_hr_registry(app, tmp_path):
    path = tmp_path / "hr.json"
    path.write_text(json.dumps([
        {"registrationID": "HR1", "departmentID": "1512", "firstNameEl": "Ελένη",
         "lastNameEl": "Νικολάου", "role": "postdoc", "contractStart": "2025-09-01",
         "contractEnd": "2027-08-31"},
        {"registrationID": "HR2", "firstNameEl": "Κώστας", "lastNameEl": "Μακρής",
         "role": "astronaut"},
    ]), encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=["registry", "import", "--registry", "hr", str(path)])
    assert f"{path}:2: role must be one of" in result.output
    record = _records(app)["HR1"]
    assert record.role == "postdoc" and record.contract_end.isoformat() == "2027-08-31"


def test_duplicate_rows_in_one_file_are_refused(app, tmp_path):
    path = _csv(tmp_path / "students.csv", [_row(), _row(firstNameEn="Other")])
    result = app.test_cli_runner().invoke(args=["registry", "import", str(path)])
    assert f"{path}:3: registrationID appears twice" in result.output
    assert _records(app)["00012345"].first_name_en == "Maria"


def test_unknown_columns_are_refused(app, tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps([{"registrationID": "1", "password": "x"}]))
    result = app.test_cli_runner().invoke(args=["registry", "import", str(path)])
    assert "unknown columns: password" in result.output
