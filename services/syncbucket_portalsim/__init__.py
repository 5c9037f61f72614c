"""The portal simulator service: TRACES and the IT portal on one HTTP server (port 8090)."""
