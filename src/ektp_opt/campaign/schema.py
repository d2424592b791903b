"""The campaign store's tables (SQLAlchemy Core), defined once.

One store is one campaign: the scenario it was planned for, every plan version with the date it
came into force, every recorded fact from the field, and the audit trail of each import. The
Alembic migrations in ``migrations/versions`` create exactly these tables; a test holds the two
together, so a column added here without a migration fails.

Facts carry the import that brought them (``import_id``), so the audit trail says who recorded what.
Natural keys are primary keys: the same fact recorded twice is one row.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

ID = String(64)  # kk_id and device_id: letters, digits, '-' and '.' (SPEC.md rule 8)
CODE = String(32)  # kecamatan and kelurahan codes

campaign = Table(
    "campaign",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1: one campaign per store
    Column("name", String(200), nullable=False),
    Column("city", String(200), nullable=False),
    Column("start", Date, nullable=False),
    Column("deadline", Date, nullable=False),
    Column("scenario_sha256", String(64), nullable=False),
    Column("households_sha256", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
)

# The scenario's files as they were (the TOML, its kecamatan and kelurahan CSVs, a households CSV
# where the scenario reads one): a re-plan lays them out again, so the store needs nothing else.
scenario_files = Table(
    "scenario_files",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("role", String(20), nullable=False),  # scenario, kecamatan, kelurahan, households
    Column("content", Text, nullable=False),
)

kecamatan = Table(
    "kecamatan",
    metadata,
    Column("code", CODE, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("shifts", Integer, nullable=False),
)

households = Table(
    "households",
    metadata,
    Column("kk_id", ID, primary_key=True),
    Column("kelurahan_code", CODE, nullable=False),
    Column("kecamatan", CODE, nullable=False),
    Column("members", Integer, nullable=False),
)

plan_versions = Table(
    "plan_versions",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("in_force_from", Date, nullable=False),
    Column("made_at", DateTime(timezone=True), nullable=False),
    Column("made_by", String(200), nullable=False),
    Column("source", String(20), nullable=False),  # init or replan
    Column("folder", Text, nullable=False),
    Column("summary", Text, nullable=False),  # the plan's summary.json
)

# A plan version's folder as it was written (appointments.csv, devices.csv, summary.json, the
# re-plan's files, and "scenario.toml": the scenario text that version was planned for).
plan_files = Table(
    "plan_files",
    metadata,
    Column("version", Integer, ForeignKey("plan_versions.version"), primary_key=True),
    Column("name", String(200), primary_key=True),
    Column("content", Text, nullable=False),
)

plan_devices = Table(
    "plan_devices",
    metadata,
    Column("version", Integer, ForeignKey("plan_versions.version"), primary_key=True),
    Column("device_id", ID, primary_key=True),
    Column("kecamatan", CODE, nullable=False),
    Column("delivery_date", Date, nullable=False),
    Column("available_from", Date, nullable=False),
)

appointments = Table(
    "appointments",
    metadata,
    Column("version", Integer, ForeignKey("plan_versions.version"), primary_key=True),
    Column("kk_id", ID, primary_key=True),
    Column("date", Date, nullable=False, index=True),
    Column("shift", Integer, nullable=False),
    Column("device_id", ID, nullable=False),
    Column("site_kecamatan", CODE, nullable=False),
    Column("members", Integer, nullable=False),
)

# Copies of the households and of each version's appointments as compressed numpy archives
# (campaign/arrays.py): written with the rows they copy, read instead of 650 k rows.
arrays = Table(
    "arrays",
    metadata,
    Column("name", String(40), primary_key=True),  # "households" or "plan-<version>"
    Column("content", LargeBinary, nullable=False),
)

imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("new_rows", Integer, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("as_of", Date, nullable=False),
    UniqueConstraint("sha256", name="uq_imports_sha256"),
)

enrolments = Table(
    "enrolments",
    metadata,
    Column("kk_id", ID, primary_key=True),
    Column("date", Date, primary_key=True, index=True),
    Column("shift", Integer, primary_key=True),
    Column("device_id", ID, primary_key=True),
    Column("residents", Integer, nullable=False),
    Column("import_id", Integer, ForeignKey("imports.id"), nullable=False),
)

device_shifts = Table(
    "device_shifts",
    metadata,
    Column("device_id", ID, primary_key=True),
    Column("date", Date, primary_key=True, index=True),
    Column("shift", Integer, primary_key=True),
    Column("status", String(4), nullable=False),  # up or down
    Column("reason", Text, nullable=False),
    Column("import_id", Integer, ForeignKey("imports.id"), nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("date", Date, primary_key=True),
    Column("kecamatan", CODE, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("import_id", Integer, ForeignKey("imports.id"), nullable=False),
)

invitations = Table(
    "invitations",
    metadata,
    Column("kk_id", ID, primary_key=True),
    Column("date", Date, primary_key=True),
    Column("status", String(10), nullable=False),  # delivered or returned
    Column("import_id", Integer, ForeignKey("imports.id"), nullable=False),
)
