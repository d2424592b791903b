"""The first campaign store: scenario, plan versions, the four kinds of record, the audit trail.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(64)
CODE = sa.String(32)
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("city", sa.String(200), nullable=False),
        sa.Column("start", sa.Date, nullable=False),
        sa.Column("deadline", sa.Date, nullable=False),
        sa.Column("scenario_sha256", sa.String(64), nullable=False),
        sa.Column("households_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "scenario_files",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
    )
    op.create_table(
        "kecamatan",
        sa.Column("code", CODE, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("shifts", sa.Integer, nullable=False),
    )
    op.create_table(
        "households",
        sa.Column("kk_id", ID, primary_key=True),
        sa.Column("kelurahan_code", CODE, nullable=False),
        sa.Column("kecamatan", CODE, nullable=False),
        sa.Column("members", sa.Integer, nullable=False),
    )
    op.create_table(
        "plan_versions",
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("in_force_from", sa.Date, nullable=False),
        sa.Column("made_at", WHEN, nullable=False),
        sa.Column("made_by", sa.String(200), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("folder", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
    )
    op.create_table(
        "plan_devices",
        sa.Column("version", sa.Integer, sa.ForeignKey("plan_versions.version"), primary_key=True),
        sa.Column("device_id", ID, primary_key=True),
        sa.Column("kecamatan", CODE, nullable=False),
        sa.Column("delivery_date", sa.Date, nullable=False),
        sa.Column("available_from", sa.Date, nullable=False),
    )
    op.create_table(
        "appointments",
        sa.Column("version", sa.Integer, sa.ForeignKey("plan_versions.version"), primary_key=True),
        sa.Column("kk_id", ID, primary_key=True),
        sa.Column("date", sa.Date, nullable=False, index=True),
        sa.Column("shift", sa.Integer, nullable=False),
        sa.Column("device_id", ID, nullable=False),
        sa.Column("site_kecamatan", CODE, nullable=False),
        sa.Column("members", sa.Integer, nullable=False),
    )
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("new_rows", sa.Integer, nullable=False),
        sa.Column("recorded_at", WHEN, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.UniqueConstraint("sha256", name="uq_imports_sha256"),
    )

    def fact() -> sa.Column[int]:
        return sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id"), nullable=False)

    op.create_table(
        "enrolments",
        sa.Column("kk_id", ID, primary_key=True),
        sa.Column("date", sa.Date, primary_key=True),
        sa.Column("shift", sa.Integer, primary_key=True),
        sa.Column("device_id", ID, primary_key=True),
        sa.Column("residents", sa.Integer, nullable=False),
        fact(),
    )
    op.create_table(
        "device_shifts",
        sa.Column("device_id", ID, primary_key=True),
        sa.Column("date", sa.Date, primary_key=True),
        sa.Column("shift", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(4), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        fact(),
    )
    op.create_table(
        "deliveries",
        sa.Column("date", sa.Date, primary_key=True),
        sa.Column("kecamatan", CODE, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        fact(),
    )
    op.create_table(
        "invitations",
        sa.Column("kk_id", ID, primary_key=True),
        sa.Column("date", sa.Date, primary_key=True),
        sa.Column("status", sa.String(10), nullable=False),
        fact(),
    )
