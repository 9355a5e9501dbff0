"""Store visits (PDCA): planning, route, check-in/out, steps, follow-ups."""
