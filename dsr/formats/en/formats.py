"""English formats for DSR Hub: day month year, unambiguous on both sides of the Atlantic.

Only what differs from Django's ``django/conf/locale/en/formats.py``; the rest falls back to it.
"""

DATE_FORMAT = "j F Y"  # 15 January 2027
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
