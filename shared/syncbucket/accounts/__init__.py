"""A firm's staff: accounts, passwords, sign-in with throttling, and web sessions.

errors.py       AccountError and its kinds, each message a person can act on
passwords.py    argon2 hashing, the password rule, one-time passwords
users.py        create, list, disable, enable, reset, change role / password
signin.py       check e-mail + password behind the throttle; same answer for all failures
web_sessions.py open, resolve (idle and absolute expiry), close; the session's CSRF token
"""
