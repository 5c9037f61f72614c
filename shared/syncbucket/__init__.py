"""SyncBucket: synchronise Indian TDS portal data for thousands of clients in one run.

This package is the library every service imports; it is never run on its own.
"""

__version__ = "0.1.0"
