"""``python -m syncbucket_stack`` (``make stack``): every SyncBucket process in the foreground."""
