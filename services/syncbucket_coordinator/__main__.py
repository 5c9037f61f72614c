"""``python -m syncbucket_coordinator [--host H] [--port P]``."""

from syncbucket_coordinator.main import main

main()
