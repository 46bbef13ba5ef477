"""Intake's use cases: load, apply the domain rules, save, stage events — inside the caller's unit of work.

``tickets`` (open, change, find, thread a customer's message), ``customers`` (match, caller card,
contact history, duplicates and merge), ``complaints`` (by agents, the API and negative surveys),
``sla`` (policy settings, timers, compliance) and ``activity`` (facts from other services).
"""
