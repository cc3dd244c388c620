"""Intervention projects that resolve risk factors (lighting, pruning, community alarms)."""
