"""Credentials and their limits: passwords and the password policy, PINs, throttling."""
