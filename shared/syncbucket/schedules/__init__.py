"""Periodic syncs ("schedules") of a firm: a cron expression in a time zone, a client
selection and modules; every due instant starts one run (``docs/schedules.md``).

One module per concept:

    errors.py    what a caller must fix (``InvalidSchedule`` names the field) or look up
    cron.py      cron expression + IANA time zone -> the next instants, in UTC, DST-safe
    spec.py      a schedule as asked for, validated into what the table stores
    manage.py    add, pause, resume, remove (every statement scoped to the firm)
    views.py     the read side: schedules with their recent fires, a firm's fire history
    firing.py    ``fire_due_schedules``: the coordinator's leader loop calls it every
                 ``scheduler_interval_seconds``; one transaction per fire

Exceptions (:mod:`.errors`)::

    ScheduleError
     +-- InvalidSchedule        a field the caller must change (``field`` + message)
     |    +-- ScheduleNameTaken  the firm already has a schedule of that name
     +-- ScheduleNotFound       no such schedule for this firm
"""
