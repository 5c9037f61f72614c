"""The sync pipeline: runs, items, dispatch, outcomes, completion and events.

One module per step (see ``docs/pipeline.md``): :mod:`.runs` creates and cancels runs,
:mod:`.dispatcher` releases items fairly, :mod:`.aggregator` applies outcomes,
:mod:`.completion` claims a run's end exactly once, :mod:`.reaper` unsticks items,
:mod:`.outbox` and :mod:`.events` carry ``run.completed`` out, :mod:`.queries` reads.
Every function takes the caller's session (or a session factory when it owns its
transactions); none of them commits on a caller's behalf.

Exceptions (:mod:`.errors`)::

    PipelineError
     +-- RunRefused          a request the firm must change (``code`` + message)
     +-- RunNotFound         no such run for this firm
     +-- RecordCodecError    a record document that cannot be rebuilt
          +-- UnknownRecordType
"""
