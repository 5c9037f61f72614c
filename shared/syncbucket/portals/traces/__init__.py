"""TRACES: its client (captcha, login, pre-auth) and one module part per file."""
