from kit.migrations import run_env

from ledger.app import metadata

run_env(metadata)
