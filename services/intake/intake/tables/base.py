"""The metadata every intake table registers on, and the platform tables (outbox, inbox, timers…)."""

from kit.tables import define_platform_tables, new_metadata

metadata = new_metadata()
platform = define_platform_tables(metadata)
