"""Self-service: the procedures people run themselves, from the login page or signed in."""
