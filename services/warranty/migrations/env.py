from kit.migrations import run_env
from warranty.tables import metadata

run_env(metadata)
