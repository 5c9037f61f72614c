"""The web app: Client Master, Sync Bucket, live run pages, history and admin.

Server-rendered pages (Jinja2) with htmx for partial updates and Server-Sent Events for
live progress; the front-end files are vendored (``static/vendor``, see its MANIFEST)
and nothing is loaded from the internet. Every page calls the same library functions as
the API and the CLI; the only reads of its own are the library's read models.

    context.py     what the pages share (templates, progress hub, policies, cipher)
    identity.py    the signed-in user from the session cookie; roles; CSRF
    errors.py      library errors -> HTML pages (API paths keep their JSON)
    wording.py     numbers, dates and statuses in words
    forms.py       form fields -> library requests (filters, selections, edits)
    progress.py    one progress computation per watched run per tick, fanned out
    pages_*.py     one module per area: sign-in, clients, bucket, runs, schedules, admin
"""

from __future__ import annotations
