"""Makes the test helpers (``training_fakes``, ``training_trainers``) importable,
also inside spawned trainer processes (they inherit ``sys.path``)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
