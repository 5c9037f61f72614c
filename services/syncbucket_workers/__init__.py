"""The portal worker pools: ``dramatiq syncbucket_workers.<portal> --queues portal.<portal>``.

Each pool module (:mod:`.traces`, :mod:`.itportal`) is a composition root: importing it
builds the settings, the broker (set as Dramatiq's global broker, which the ``dramatiq``
CLI reads) and the worker's dependencies, and declares the actors. ``syncbucket worker
--portal <portal>`` execs exactly that command.
"""
