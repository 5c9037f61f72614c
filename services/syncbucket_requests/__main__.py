"""``python -m syncbucket_requests``."""

import sys

from syncbucket_requests.main import main

sys.exit(main())
