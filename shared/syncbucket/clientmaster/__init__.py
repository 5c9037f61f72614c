"""The client master: firms, their clients and the clients' portal credentials.

Business logic behind ``syncbucket firms`` and ``syncbucket clients``; the CLI only parses
arguments and prints what these functions return.
"""
