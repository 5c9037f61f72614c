"""The coordinator service: HTTP API, fair dispatcher loop and reaper loop.

Composition root only (docs/architecture.md, "Layout"): every rule lives in ``syncbucket``; this
package wires
the library together (:mod:`.container`), translates it to HTTP (:mod:`.app` and the
``routes_*`` modules) and runs it (:mod:`.main`, ``python -m syncbucket_coordinator``).
"""
