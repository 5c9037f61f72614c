"""Deterministic portal data: same TAN, same documents; ``data_epoch`` changes a subset.

``rows(dataset, tan, epoch, change_ratio)`` is the one entry point; the generators live in
one module per portal area and register a :class:`~.dataset.Dataset` each.
"""

from syncbucket.portalsim.data.dataset import Row, changed_epochs, paginate, rows

__all__ = ["Row", "changed_epochs", "paginate", "rows"]
