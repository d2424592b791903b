"""The plan folder's files and their columns (SPEC.md, "Output: a plan folder"), defined once.

Every writer (plan/write.py, resolve/output.py) and every reader (plan/read.py, plan/view.py, resolve's
reading of the plan in force, the verifier) takes names and columns from here, so a column can
be neither misspelt nor forgotten in one of them. (The verifier shares only the format with the
rest of ektp-opt; its reading of the rules stays its own.)
"""

from __future__ import annotations

APPOINTMENTS = "appointments.csv"
DEVICES = "devices.csv"
SUMMARY = "summary.json"
HOME_VISITS = "home_visits.csv"
DIAGNOSIS = "diagnosis.json"
CHANGES = "changes.csv"
REINVITE = "reinvite.csv"
BACKLOG = "backlog.csv"

APPOINTMENT_COLUMNS = (
    "kk_id",
    "kelurahan_code",
    "home_kecamatan",
    "site_kecamatan",
    "date",
    "shift",
    "device_id",
    "members",
)
DEVICE_COLUMNS = ("device_id", "kecamatan", "delivery_date", "available_from")
HOME_VISIT_COLUMNS = ("kk_id", "date", "device_id", "kelurahan_code", "order")
CHANGE_COLUMNS = ("kk_id", "old_date", "old_shift", "old_device", "new_date", "new_shift", "new_device", "reason")
BACKLOG_COLUMNS = ("kk_id", "kelurahan_code", "site_kecamatan", "missed_date", "date", "shift", "device_id", "members")
REINVITE_COLUMNS = ("kelurahan_code", "new_date", "kk", "residents")
