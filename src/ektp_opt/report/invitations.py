"""Invitation letters (surat undangan perekaman e-KTP), one per KK, in the order a lurah's staff
walk them out: lingkungan by lingkungan. As a PDF to print, or as a CSV distribution list."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import numpy as np

from ektp_opt.errors import InputError
from ektp_opt.inputs.households import Households
from ektp_opt.inputs.scenario import LoadedScenario
from ektp_opt.plan.view import Plan
from ektp_opt.report.roster import shift_times
from ektp_opt.safety.csvwrite import csv_text

HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
         "November", "Desember")  # fmt: skip
BRING = (
    "Surat undangan ini.",
    "Kartu Keluarga (KK) asli.",
    "KTP lama (bila ada) dari setiap anggota keluarga yang wajib KTP.",
    "Semua anggota keluarga yang tercantum pada undangan ini hadir bersama.",
)
CANNOT_COME = (
    "Apabila tidak dapat hadir pada waktu tersebut, silakan datang pada hari kerja berikutnya ke "
    "kantor camat yang sama. Anda akan dilayani pada kursi cadangan (antrean susulan) bila ada waktu "
    "luang, atau pada hari-hari susulan sebelum batas akhir perekaman. Hubungi kantor kelurahan untuk "
    "keterangan lebih lanjut."
)


HOME_NOTE = (
    "Kunjungan rumah ini untuk anggota keluarga yang tidak dapat datang ke kantor camat. Bila pada "
    "hari itu tidak ada orang di rumah, hubungi kantor kelurahan agar kunjungan dijadwalkan ulang."
)


def tanggal(day: dt.date) -> str:
    """ "Kamis, 18 Agustus 2011"."""
    return f"{HARI[day.weekday()]}, {day.day} {BULAN[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class Letter:
    kk_id: str
    kelurahan: str
    kelurahan_name: str
    lingkungan: int
    members: int
    date: dt.date
    shift: int
    start: dt.time
    end: dt.time
    office: str
    deadline: dt.date
    home_visit: bool = False  # shift is then the visit's place in the day's route
    scheduled: bool = True  # False: a home visit no portable device could be planned for yet


def letters(view: Plan, ls: LoadedScenario, households: Households, kelurahan: str) -> list[Letter]:
    if kelurahan not in view.kelurahan:
        raise InputError("--kelurahan", None, f"{kelurahan} is not a kelurahan of {ls.scenario.name}")
    kel = view.kelurahan.index(kelurahan)
    index = {k: i for i, k in enumerate(households.kk_id.tolist())}
    rows = np.flatnonzero(view.kel == kel)
    ling = np.array([households.lingkungan[index[k]] if k in index else 0 for k in view.kk_id[rows].tolist()])
    order = rows[np.lexsort((view.kk_id[rows], view.shift[rows], view.day[rows], ling))]
    ling_of = dict(zip(rows.tolist(), ling.tolist(), strict=True))
    names = {k.code: k.name for k in ls.admin.kecamatan}
    kel_name = next(k.name for k in ls.admin.kelurahan if k.code == kelurahan)
    out = []
    members = dict(zip(households.kk_id.tolist(), households.members.tolist(), strict=True))
    cal = ls.scenario.calendar
    for visit in view.home_visits:
        if visit.kelurahan_code != kelurahan:
            continue
        when = visit.date or ls.scenario.deadline
        kk = visit.kk_id
        hv_ling = int(households.lingkungan[index[kk]]) if kk in index else 0
        out.append(
            Letter(kk, kelurahan, kel_name, hv_ling, int(members.get(kk, 0)), when, visit.order or 0,
                   cal.day_start, cal.day_end, "Kunjungan rumah (perekaman keliling)", ls.scenario.deadline,
                   home_visit=True, scheduled=visit.date is not None)
        )  # fmt: skip
    for i in order.tolist():
        site = view.kecamatan[view.site[i]]
        a, b = shift_times(ls, site)[int(view.shift[i]) - 1]
        out.append(
            Letter(
                str(view.kk_id[i]), kelurahan, kel_name, int(ling_of[i]), int(view.members[i]),
                view.days[int(view.day[i])], int(view.shift[i]), a, b, f"Kantor Camat {names.get(site, site)}",
                ls.scenario.deadline,
            )
        )  # fmt: skip
    if not out:
        raise InputError("--kelurahan", None, f"{kelurahan} has no KK in this plan: no letters to print")
    return sorted(out, key=lambda x: (x.lingkungan, x.date, x.home_visit, x.shift, x.kk_id))


def distribution_csv(items: list[Letter]) -> str:
    header = ("lingkungan", "kk_id", "members", "date", "shift", "start", "end", "office")
    rows = (
        (x.lingkungan, x.kk_id, x.members, x.date if x.scheduled else "", x.shift, f"{x.start:%H:%M}",
         f"{x.end:%H:%M}", x.office)
        for x in items
    )  # fmt: skip
    return csv_text(header, rows)


REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"


def _register_fonts() -> None:
    """DejaVu Sans, embedded: it covers Latin, Greek, Cyrillic and more, so a name such as
    "Đức" or "Ёлка" prints as written (Helvetica showed ■). Taken from matplotlib's own fonts."""
    from pathlib import Path

    import matplotlib
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if REGULAR in pdfmetrics.getRegisteredFontNames():
        return
    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(REGULAR, str(ttf / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(ttf / "DejaVuSans-Bold.ttf")))


def letters_pdf(items: list[Letter], city: str) -> bytes:
    """One A4 page per KK (reportlab canvas: thousands of pages in seconds)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.pdfgen import canvas

    _register_fonts()

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=1)
    c.setCreator("ektp-opt")  # lets a later run recognise the file as its own (safety/atomic.py)
    c.setTitle(f"Undangan perekaman e-KTP {items[0].kelurahan if items else ''}")
    width, height = A4
    for x in items:
        y = height - 2.5 * cm
        c.setFont(BOLD, 13)
        c.drawCentredString(width / 2, y, "SURAT UNDANGAN PEREKAMAN KTP ELEKTRONIK (e-KTP)")
        y -= 0.6 * cm
        c.setFont(REGULAR, 10)
        c.drawCentredString(width / 2, y, f"Kelurahan {x.kelurahan_name} ({x.kelurahan}) - {city}")
        y -= 1.4 * cm
        c.setFont(REGULAR, 11)
        for text in (
            "Kepada Yth. Kepala Keluarga",
            f"Nomor KK: {x.kk_id}",
            f"Lingkungan: {x.lingkungan}",
            f"Jumlah anggota keluarga yang wajib rekam e-KTP: {x.members} orang",
        ):
            c.drawString(2.5 * cm, y, text)
            y -= 0.6 * cm
        y -= 0.4 * cm
        if x.home_visit:
            intro = "Dengan hormat, petugas perekaman e-KTP akan datang ke rumah Bapak/Ibu pada:"
            rows = (
                ("Hari/tanggal", tanggal(x.date) if x.scheduled else "akan diberitahukan kemudian"),
                ("Waktu", f"antara pukul {x.start:%H.%M} - {x.end:%H.%M}, kunjungan ke-{x.shift} hari itu"),
                ("Tempat", "rumah Bapak/Ibu (alamat pada Kartu Keluarga)"),
            )
        else:
            intro = "Dengan hormat, keluarga Bapak/Ibu diundang untuk perekaman e-KTP pada:"
            rows = (
                ("Hari/tanggal", tanggal(x.date)),
                ("Waktu", f"Sesi {x.shift}, pukul {x.start:%H.%M} - {x.end:%H.%M}"),
                ("Tempat", x.office),
            )
        c.drawString(2.5 * cm, y, intro)
        y -= 0.9 * cm
        c.setFont(BOLD, 12)
        for label, value in rows:
            c.drawString(3 * cm, y, f"{label}")
            c.drawString(6.5 * cm, y, f": {value}")
            y -= 0.7 * cm
        y -= 0.5 * cm
        c.setFont(BOLD, 11)
        c.drawString(2.5 * cm, y, "Harap membawa:")
        c.setFont(REGULAR, 11)
        for n, item in enumerate(BRING, start=1):
            y -= 0.6 * cm
            c.drawString(3 * cm, y, f"{n}. {item}")
        y -= 1.0 * cm
        c.setFont(BOLD, 11)
        c.drawString(2.5 * cm, y, "Bila berhalangan hadir:")
        c.setFont(REGULAR, 10)
        text = c.beginText(3 * cm, y - 0.6 * cm)
        note = HOME_NOTE if x.home_visit else CANNOT_COME
        for line in _wrap(note + f" Batas akhir perekaman: {tanggal(x.deadline)}.", 90):
            text.textLine(line)
        c.drawText(text)
        c.setFont(REGULAR, 8)
        c.drawString(2.5 * cm, 1.5 * cm, f"KK {x.kk_id} · {x.kelurahan} · lingkungan {x.lingkungan}")
        c.showPage()
    c.save()
    return buf.getvalue()


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines
