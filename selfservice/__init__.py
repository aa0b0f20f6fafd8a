"""Self-service flows reachable from the login page: activation, recovery, contacts, applications."""
