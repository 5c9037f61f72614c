"""What a firm hands to its clients: synced records as tables, CSV, and what changed.

columns.py   per module, the columns people read (label, path in the record, kind)
changes.py   the fields that differ between a record's previous and current content
records.py   a client's records per module, what the latest sync changed, firm exports
"""
