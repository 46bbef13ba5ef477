import os
import sys
from pathlib import Path

# Test-support services (e.g. the ledger) are importable as top-level packages.
sys.path.insert(0, str(Path(__file__).parent / "support"))

os.environ.setdefault("ENVIRONMENT", "test")
