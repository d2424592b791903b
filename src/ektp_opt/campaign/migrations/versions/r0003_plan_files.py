"""Every plan version's folder, file by file, and the scenario it was planned for: a re-plan lays
the plan in force out again exactly as it was written.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    files = op.create_table(
        "plan_files",
        sa.Column("version", sa.Integer, sa.ForeignKey("plan_versions.version"), primary_key=True),
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("content", sa.Text, nullable=False),
    )
    # A store made before this revision: each version's folder is read back from where it was
    # written, when it is still there (else that version cannot be re-planned from; status works).
    conn = op.get_bind()
    scenario = conn.execute(sa.text("SELECT content FROM scenario_files WHERE role = 'scenario'")).scalar()
    for version, folder in conn.execute(sa.text("SELECT version, folder FROM plan_versions")).all():
        path = Path(folder)
        if not (path / "appointments.csv").is_file():
            continue
        rows = [{"version": version, "name": "scenario.toml", "content": scenario or ""}]
        for f in sorted(path.iterdir()):
            if f.is_file() and not f.name.startswith("."):
                rows.append({"version": version, "name": f.name, "content": f.read_text(encoding="utf-8")})
        op.bulk_insert(files, rows)
