"""``python -m syncbucket_aggregator``."""

import sys

from syncbucket_aggregator.main import main

sys.exit(main())
