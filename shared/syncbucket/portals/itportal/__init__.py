"""The IT portal (e-filing): its client (two-step login) and one module part per file."""
