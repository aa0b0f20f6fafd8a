"""Staff applications (MUSSA) and the account office.

Staff and other members who are not students apply online (:mod:`.submission`): they get a
serial number per year and a status secret by email, and follow the application with both
(:mod:`.status`). The account office (:mod:`.office`) approves, which creates or links the
person, the affiliation and the one personal account; verifies the person's identity in
person, with the evidence their role needs; and hands the account over (:mod:`.handover`) as
a one-time set-password link and code: the office never knows a password. Every step is
audited, recorded in the application's history and emailed to the applicant in their
language (:mod:`.notices`). The pages under ``/manage`` and ``kleidi applications`` call the
same functions.
"""

from __future__ import annotations


def init_app(app) -> None:
    """The office's commands, the error codes of applications and their labels in pages."""
    from idp.identity.applications import cli, codes, labels  # noqa: F401

    cli.init_app(app)
    app.add_template_global(labels.status, "application_status_label")
    app.add_template_global(labels.document, "application_document_label")
    app.add_template_global(labels.evidence, "application_evidence_label")
    app.add_template_filter(labels.evidence, "application_evidence_label")
    app.add_template_global(labels.role, "application_role_label")
