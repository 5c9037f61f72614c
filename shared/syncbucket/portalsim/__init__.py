"""A simulator of TRACES and the IT portal: real field names, deterministic data, faults.

Embed it with :func:`syncbucket.portalsim.server.start_simulator`; the wire contract is
``docs/portal-simulator.md``.
"""
