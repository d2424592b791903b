"""Indexes on the dates of records: status and forecast read them by day.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_enrolments_date", "enrolments", ["date"])
    op.create_index("ix_device_shifts_date", "device_shifts", ["date"])
