"""The households and each plan version's appointments as compressed numpy archives
(campaign/arrays.py): status, forecast and re-plan read one archive instead of 650 k rows.

A store made before this revision gets them from its own rows.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from ektp_opt.campaign.arrays import HOUSEHOLDS, households_archive, plan_archive, plan_name
    from ektp_opt.campaign.snapshot import days

    table = op.create_table(
        "arrays",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )
    conn = op.get_bind()
    hh = conn.execute(sa.text("SELECT kk_id, kelurahan_code, kecamatan, members FROM households")).all()
    if not hh:
        return
    kk, kel, home, members = (list(c) for c in zip(*hh, strict=True))
    rows = [{"name": HOUSEHOLDS, "content": households_archive(kk, kel, home, members)}]
    ordered = sorted(kk)
    import numpy as np

    sorted_kk = np.array(ordered, dtype=str)
    for (version,) in conn.execute(sa.text("SELECT version FROM plan_versions")).all():
        appt = conn.execute(
            sa.text("SELECT kk_id, date, shift, device_id, site_kecamatan FROM appointments WHERE version = :v"),
            {"v": version},
        ).all()
        if not appt:
            continue
        a_kk, a_day, a_shift, a_dev, a_site = (list(c) for c in zip(*appt, strict=True))
        rows.append(
            {"name": plan_name(version), "content": plan_archive(sorted_kk, a_kk, days(a_day), a_shift, a_dev, a_site)}
        )
    op.bulk_insert(table, rows)
