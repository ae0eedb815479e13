"""Pipelines: YAML specs of scheduled report runs (pipelines/*.yaml), and the logic that decides what is due.

A scheduler only calls the command line (`insights pipeline due --run`, e.g. hourly); the specs decide
what runs when. Modules: `periods` (what a run covers), `spec` (parsing and validation), `schedule`
(cron, due and catch-up), `run` (running through the report runner), `cli` (the commands).
See docs/scheduling.md.
"""
