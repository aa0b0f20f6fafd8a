"""The roles a person can hold, from the registries, and what each means to relying parties."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Role:
    """A registry role, its eduPerson affiliations and its primary affiliation."""

    name: str
    label: object
    eduperson: tuple[str, ...]
    primary: str
    student: bool = False


ROLES: dict[str, Role] = {
    role.name: role
    for role in (
        Role("undergraduate", _l("Undergraduate student"), ("student", "member"), "student", True),
        Role("postgraduate", _l("Postgraduate student"), ("student", "member"), "student", True),
        Role("doctoral", _l("Doctoral candidate"), ("student", "member"), "student", True),
        Role("faculty", _l("Faculty member"), ("faculty", "employee", "member"), "faculty"),
        Role("emeritus", _l("Emeritus or retired faculty"), ("faculty", "member"), "faculty"),
        Role("staff", _l("Permanent staff"), ("staff", "employee", "member"), "staff"),
        Role("teaching_staff", _l("Teaching staff"), ("faculty", "employee", "member"), "faculty"),
        Role("academic_fellow", _l("Academic fellow"), ("faculty", "employee", "member"), "faculty"),
        Role("lecturer_407", _l("Lecturer under P.D. 407/80"), ("faculty", "employee", "member"),
             "faculty"),
        Role("teaching_experience", _l("Teaching-experience programme member"),
             ("faculty", "employee", "member"), "faculty"),
        Role("postdoc", _l("Postdoctoral researcher"), ("employee", "member"), "employee"),
        Role("researcher", _l("Researcher"), ("employee", "member"), "employee"),
        Role("contractor", _l("Contractor"), ("affiliate",), "affiliate"),
        Role("collaborator", _l("Scientific collaborator"), ("affiliate",), "affiliate"),
        Role("alumnus", _l("Alumnus"), ("alum",), "alum"),
    )
}

#: Order in which a person's primary affiliation is chosen when they hold several roles.
PRIMARY_ORDER = ("faculty", "staff", "employee", "student", "affiliate", "alum", "member")

#: Student registry enrollmentType values and the role each means.
ENROLLMENT_TYPES = {
    "undergraduate": "undergraduate",
    "postgraduate": "postgraduate",
    "doctoral": "doctoral",
}


def eduperson_affiliations(roles: list[str]) -> list[str]:
    """The eduPersonAffiliation values of a set of roles, without repeats, in a stable order."""
    values: list[str] = []
    for name in roles:
        for value in ROLES[name].eduperson:
            if value not in values:
                values.append(value)
    return values


def primary_affiliation(roles: list[str]) -> str | None:
    """The eduPersonPrimaryAffiliation of a set of roles."""
    primaries = {ROLES[name].primary for name in roles}
    return next((value for value in PRIMARY_ORDER if value in primaries), None)
