"""The ``syncbucket`` command line: administration, serving and (later) runs."""
