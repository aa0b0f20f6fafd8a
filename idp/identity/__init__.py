"""The identity core: people, affiliations, accounts, roles, usernames, the AcademicID and the
registries they come from."""
