"""Time zones offered in the profile: where these teams work, most likely first."""
TIMEZONES = [
    "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Urumqi", "Asia/Singapore",
    "Asia/Tokyo", "Asia/Seoul", "Asia/Bangkok", "Asia/Jakarta", "Asia/Kolkata", "Asia/Dubai",
    "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "UTC",
]
