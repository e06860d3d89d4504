"""``python -m app`` does what the ``ponder`` command does."""

import sys

from app.main import main

sys.exit(main())
