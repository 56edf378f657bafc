"""Use cases of the monitoring service, behind small ports."""
