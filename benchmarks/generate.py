"""A deterministic generator of synthetic national service catalogs (issue 2 §6).

Every benchmark of the project (loading, validation, gap and duplicate queries) runs on what this
module writes: a submission exactly as docs/workbook.md specifies (a folder of CSV files
with the spec's English keys as headers, or one .xlsx with Persian headers), plus `truth.csv`, the
list of defects planted on purpose, so that a benchmark can check it finds them and nothing else.

    python -m benchmarks.generate --services 50000 --seed 1 --out DIR [--format csv|xlsx]
        [--defect-rate 0.02] [--rate expired_card=0.05 …] [--split-per-family]

The same seed gives byte-identical files: one `random.Random(seed)` drives every choice and
nothing iterates a set or reads the clock. See benchmarks/README.md for the catalog's shape and the
defect definitions; the reference date of "expired" is REFERENCE_DATE below.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import random
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jdatetime
from khadamat.loader.columns import SHEETS, SheetSpec

from benchmarks import lexicon as lx
from khadamat.normalize import normalize_text

GENERATOR_VERSION = "2"  # bump whenever the output of a given seed changes
# Cards verified more than a year before this date are expired (۱۴۰۵/۰۸/۰۱). Clean cards are
# verified within the 300 days before it, so validating "today" stays clean until late 2026.
REFERENCE_DATE = dt.date(2026, 10, 23)
DEFAULT_RATE = 0.02

# Planted defects, in the order they are planted (each service carries at most one).
SERVICE_DEFECTS = (
    "no_service_id",
    "no_legal_basis",
    "foreign_mission",
    "duplicate_title",
    "near_duplicate_title",
    "expired_card",
    "task_with_recipient",
    "electronic_stage_not_electronic",
    "fee_without_bank_account",
    "delegated_without_counter",
    "inter_agency_without_process_inquiry",
    "smart_with_documents",
    "general_unit_service",
)
LICENSE_DEFECTS = ("license_without_service_id", "license_missing_service")
DEFECTS = SERVICE_DEFECTS + LICENSE_DEFECTS
TRUTH_COLUMNS = ("defect", "agency_code", "service_id", "row_key", "title", "related")

CORPUS_MISSION_REFS = (
    "csml:16",
    "csml:36",
    "csml:5",
    "ndiml:10",
    "circ-29168:4",
    "sac-1126446:1",
    "res-200-145:9",
    "ara-roadmap:24",
)
CORPUS_COUNTER_REFS = (
    "csml:38",
    "reg-egov-services:14",
    "reg-egov-services:14:تبصره ۱",
    "fifth-plan:46:بند ج جزء ۲",
    "reg-counters:4",
)
CORPUS_SERVICE_REFS = ("circ-29168:10", "reg-egov-services:21", "res-206-93-7740:2", "csml:36")

YES, NO = "بله", "خیر"
ONLINE, FORMS, OFFLINE = "برخط", "اطلاع‌رسانی و دریافت فرم", "غیرالکترونیکی"
IN_PERSON, COUNTER, PORTAL, MOBILE, RURAL = "حضوری", "پیشخوان", "درگاه اینترنتی", "تلفن همراه", "ICT روستایی"
_FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


# --------------------------------------------------------------------------- the model
@dataclass
class Agency:
    code: str
    name: str
    kind: str
    parent: str
    province: str = ""
    county: str = ""
    website: str = ""
    family: int = 0  # index into lexicon.FAMILIES
    owner: str = ""  # nearest ancestor (or self) that is not a unit
    number: int = 0  # 5-digit prefix of its service IDs
    is_unit: bool = False
    weight: int = 0  # share of the catalog's services (0 for units)
    units: list[str] = field(default_factory=list)  # every unit below it (owners only)
    missions: list[str] = field(default_factory=list)


@dataclass
class Service:
    """One card item: `row` holds the services-sheet cells; the rest is what the generator knows."""

    row: dict[str, str]
    agency: str  # the row's agency
    owner: str
    family: int
    sid: str
    subject: str
    is_task: bool = False
    is_sub: bool = False
    has_subs: bool = False
    defect: str = ""
    related: str = ""
    delegated: bool = False
    inter_agency: bool = False
    row_number: int = 0


@dataclass
class Catalog:
    """Everything one run writes; rows are dicts keyed by the spec's English column keys."""

    agencies: list[Agency]
    laws: list[dict[str, str]]
    missions: list[dict[str, str]]
    services: list[Service]
    delivery: list[tuple[str, Service]]  # (unit code, service it delivers)
    inquiries: list[dict[str, str]]
    licenses: list[dict[str, str]]
    counters: list[dict[str, str]]
    truth: list[dict[str, str]]
    params: dict[str, object]


# --------------------------------------------------------------------------- formatting helpers
def persian(text: object) -> str:
    return str(text).translate(_FA_DIGITS)


def jalali(rng: random.Random, date: dt.date) -> str:
    """A date as agencies type it: mostly Jalali (Persian or Latin digits), sometimes ISO."""
    roll = rng.random()
    if roll < 0.05:
        return date.isoformat()
    text = _jalali_text(date)
    return persian(text) if roll < 0.55 else text


@lru_cache(maxsize=4096)
def _jalali_text(date: dt.date) -> str:
    return jdatetime.date.fromgregorian(date=date).strftime("%Y/%m/%d")


def rials(rng: random.Random, amount: int) -> str:
    """Money as written on cards: Latin, Persian with ٬ separators, or Latin with commas."""
    roll = rng.random()
    if roll < 0.4:
        return str(amount)
    if roll < 0.8:
        return persian(f"{amount:,}".replace(",", "٬"))
    return f"{amount:,}"


def canonical(title: str) -> str:
    """The key two titles are 'the same' under: normalized, synonyms folded, no spaces."""
    words = normalize_text(title).split(" ")
    return "".join(lx.CANONICAL.get(w, w) for w in words)


def join(values: Iterable[str]) -> str:
    return "؛".join(values)


# --------------------------------------------------------------------------- sizes
def hierarchy_size(services: int) -> tuple[int, int]:
    """How many ministry families and provinces a catalog of that size spans."""
    families = max(2, min(len(lx.FAMILIES), round(services / 500)))
    provinces = max(2, min(len(lx.PROVINCES), round(services / 300)))
    return families, provinces


# --------------------------------------------------------------------------- agencies
class _Builder:
    """Holds the random source and the indexes while one catalog is generated."""

    def __init__(self, services: int, seed: int, rates: Mapping[str, float]) -> None:
        self.rng = random.Random(seed)
        self.n = services
        self.seed = seed
        self.rates = rates
        self.agencies: list[Agency] = []
        self.by_code: dict[str, Agency] = {}
        self.laws: list[dict[str, str]] = []
        self.law_count = 0
        self.agency_refs: dict[str, list[str]] = {}
        self.missions: list[dict[str, str]] = []
        self.mission_family: dict[str, int] = {}
        self.titles: set[str] = set()
        self.services: list[Service] = []
        self.by_sid: dict[str, Service] = {}

    # agencies ---------------------------------------------------------------------
    def add_agency(self, agency: Agency) -> Agency:
        agency.number = 10000 + len(self.agencies)
        self.agencies.append(agency)
        self.by_code[agency.code] = agency
        return agency

    def build_agencies(self, n_families: int, n_provinces: int) -> None:
        rng = self.rng
        provinces = lx.PROVINCES[:n_provinces]
        for f_index, fam in enumerate(lx.FAMILIES[:n_families]):
            code = f"{fam.slug}"
            top = self.add_agency(
                Agency(
                    code,
                    fam.name,
                    fam.kind,
                    "",
                    website=f"https://www.{fam.slug}.gov.ir",
                    family=f_index,
                    owner=code,
                    weight=3,
                )
            )
            self.add_units(top, fam.unit_name, provinces, counties=f_index % 2 == 0)
            n_aff = rng.randint(2, min(6, len(fam.affiliates)))
            for name, kind, slug in fam.affiliates[:n_aff]:
                aff = self.add_agency(
                    Agency(
                        f"{code}.{slug}",
                        name,
                        kind,
                        code,
                        website=f"https://www.{slug}.ir",
                        family=f_index,
                        owner=f"{code}.{slug}",
                        weight=2,
                    )
                )
                if rng.random() < 0.3:
                    self.add_units(aff, name.split(" ", 1)[-1], provinces, counties=False)
                if rng.random() < 0.25:
                    sub_name = (
                        f"شرکت خدمات فنی و مهندسی {name}" if kind != lx.COMPANY else f"مؤسسه آموزشی {name}"
                    )
                    sub_kind = lx.COMPANY if kind != lx.COMPANY else lx.INSTITUTE
                    sub_code = f"{aff.code}.s1"
                    self.add_agency(
                        Agency(
                            sub_code, sub_name, sub_kind, aff.code, family=f_index, owner=sub_code, weight=1
                        )
                    )

    def add_units(
        self, owner: Agency, unit_name: str, provinces: Sequence[tuple[str, tuple[str, ...]]], counties: bool
    ) -> None:
        for p_index, (province, county_names) in enumerate(provinces, start=1):
            prov = self.add_agency(
                Agency(
                    f"{owner.code}.p{p_index:02d}",
                    f"اداره کل {unit_name} استان {province}",
                    lx.PROVINCIAL_UNIT,
                    owner.code,
                    province=province,
                    family=owner.family,
                    owner=owner.code,
                    is_unit=True,
                )
            )
            owner.units.append(prov.code)
            if not counties:
                continue
            for c_index, county in enumerate(county_names[: self.rng.randint(1, 3)], start=1):
                unit = self.add_agency(
                    Agency(
                        f"{prov.code}.c{c_index}",
                        f"اداره {unit_name} شهرستان {county}",
                        lx.COUNTY_UNIT,
                        prov.code,
                        province=province,
                        county=county,
                        family=owner.family,
                        owner=owner.code,
                        is_unit=True,
                    )
                )
                owner.units.append(unit.code)

    # laws -------------------------------------------------------------------------
    def build_laws(self) -> None:
        """Per family a law and its regulation; per affiliate its statute. Codes gen-law-NNN."""
        for agency in self.agencies:
            if agency.is_unit:
                continue
            fam = lx.FAMILIES[agency.family]
            if agency.parent == "":
                instruments = [
                    (
                        f"قانون وظایف و اختیارات {agency.name}",
                        "قانون",
                        "مجلس شورای اسلامی",
                        persian(self.rng.randint(1000, 9999)),
                    ),
                    (
                        f"آیین‌نامه اجرایی قانون وظایف و اختیارات {agency.name}",
                        "آیین‌نامه",
                        "هیئت وزیران",
                        persian(f"{self.rng.randint(10000, 99999)}/ت{self.rng.randint(10000, 99999)}هـ"),
                    ),
                ]
            else:
                instruments = [
                    (
                        f"اساسنامه {agency.name}",
                        self.rng.choice(("قانون", "مصوبه")),
                        self.rng.choice(("مجلس شورای اسلامی", "هیئت وزیران")),
                        persian(self.rng.randint(100, 99999)),
                    )
                ]
            refs: list[str] = []
            for title, kind, authority, number in instruments:
                refs.extend(self.add_law(title, kind, authority, number, agency.name, fam.subjects))
            self.agency_refs[agency.code] = refs

    def add_law(
        self, title: str, kind: str, authority: str, number: str, holder: str, subjects: Sequence[str]
    ) -> list[str]:
        rng = self.rng
        self.law_count += 1
        code = f"gen-law-{self.law_count:03d}"
        approved = dt.date(rng.randint(1990, 2022), rng.randint(1, 12), rng.randint(1, 28))
        self.laws.append(
            law_row(
                code, title=title, kind=kind, authority=authority, number=number, date=jalali(rng, approved)
            )
        )
        refs = []
        for article in range(1, rng.randint(5, 12) + 1):
            subject = rng.choice(subjects)
            action = rng.choice(lx.ARTICLE_ACTIONS)
            text = f"{holder} موظف است در حوزه {subject} نسبت به {action} اقدام نماید."
            self.laws.append(law_row(code, article=str(article), text=text))
            refs.append(f"{code}:{article}")
            if rng.random() < 0.3:
                part = f"تبصره {persian(1)}"
                note = "دستورالعمل اجرایی این ماده ظرف سه ماه تهیه و ابلاغ می‌شود."
                self.laws.append(law_row(code, article=str(article), part=part, text=note))
                refs.append(f"{code}:{article}:{part}")
        return refs

    # missions ---------------------------------------------------------------------
    def build_missions(self, main_counts: Mapping[str, int]) -> None:
        """Each owner gets as many missions as its services can all realize (no mission gap)."""
        rng = self.rng
        for agency in self.agencies:
            if agency.is_unit:
                continue
            cap = 8 if agency.parent == "" else 5
            count = max(1, min(cap, main_counts.get(agency.code, 1) // 3))
            subjects = rng.sample(lx.FAMILIES[agency.family].subjects, k=count)
            own_refs = self.agency_refs[agency.code]
            for i, subject in enumerate(subjects, start=1):
                code = f"{agency.code}.ms{i}"
                refs = [rng.choice(own_refs)]
                if rng.random() < 0.35:
                    refs.append(rng.choice(CORPUS_MISSION_REFS))
                title = rng.choice(lx.MISSION_TEMPLATES).format(s=subject)
                self.missions.append(
                    {"code": code, "agency": agency.code, "title": title, "legal_basis": join(refs)}
                )
                self.mission_family[code] = agency.family
                agency.missions.append(code)

    # services ---------------------------------------------------------------------
    def allocate(self) -> dict[str, int]:
        """Items per agency: owners share most by weight, units get a few of their own."""
        rng = self.rng
        owners = [a for a in self.agencies if not a.is_unit]
        units = [a for a in self.agencies if a.is_unit]
        unit_share = round(self.n * 0.08) if units else 0
        counts = {a.code: 1 for a in owners}
        rest = self.n - len(owners) - unit_share
        if rest < 0:
            raise ValueError(f"--services {self.n} is too small for {len(owners)} agencies")
        for agency in rng.choices(owners, weights=[a.weight for a in owners], k=rest):
            counts[agency.code] += 1
        for agency in rng.choices(units, k=unit_share) if unit_share else []:
            counts[agency.code] = counts.get(agency.code, 0) + 1
        return counts

    def new_title(self, family: int, is_task: bool, subject: str | None = None) -> tuple[str, str]:
        """A title unique in the whole catalog after normalization and synonym folding."""
        rng = self.rng
        subjects = lx.FAMILIES[family].subjects
        for attempt in range(200):
            chosen = subject if subject and attempt < 20 else rng.choice(subjects)
            if is_task:
                head = rng.choice(lx.TASK_TITLES)
            elif rng.random() < 0.6:
                head = f"{rng.choices(lx.DOC_VERBS, lx.DOC_VERB_WEIGHTS)[0]} {rng.choice(lx.DOCUMENTS)}"
            else:
                head = rng.choice(lx.PROCESS_TITLES)
            suffix = rng.choice(lx.SUFFIXES)
            title = " ".join(p for p in (head, chosen, suffix) if p)
            if attempt >= 100:
                title += f" (مرحله {persian(attempt - 99)})"
            key = canonical(title)
            if key not in self.titles:
                self.titles.add(key)
                return title, chosen
        raise RuntimeError("could not find a unique title")  # pragma: no cover - 200 draws

    def build_services(self, counts: Mapping[str, int]) -> None:
        for agency in self.agencies:
            remaining = counts.get(agency.code, 0)
            serial = 0
            while remaining > 0:
                serial += 1
                is_task = not agency.is_unit and self.rng.random() < 0.1
                main = self.make_service(agency, serial, 0, is_task)
                remaining -= 1
                if not is_task and remaining >= 2 and self.rng.random() < 0.15:
                    n_subs = self.rng.randint(1, min(4, remaining - 1))
                    main.has_subs = True
                    for sub in range(1, n_subs + 1):
                        self.make_service(agency, serial, sub, False, parent=main)
                    remaining -= n_subs

    def make_service(
        self, agency: Agency, serial: int, sub: int, is_task: bool, parent: Service | None = None
    ) -> Service:
        owner = self.by_code[agency.owner]
        title, subject = self.new_title(agency.family, is_task, parent.subject if parent else None)
        if serial > 9999:
            raise ValueError(f"{agency.code} would need more than 9999 service IDs; use fewer --services")
        sid = f"{agency.number}{serial:04d}{sub:02d}"
        service = Service(
            {},
            agency.code,
            owner.code,
            agency.family,
            sid,
            subject,
            is_task=is_task,
            is_sub=parent is not None,
        )
        service.row = self.card(service, agency, owner, title, parent)
        self.services.append(service)
        self.by_sid[sid] = service
        return service

    def card(
        self, s: Service, agency: Agency, owner: Agency, title: str, parent: Service | None
    ) -> dict[str, str]:
        """Every field of the card, filled the way real cards are (optional ones often empty)."""
        rng = self.rng
        scope = (
            "شهرستانی"
            if agency.kind == lx.COUNTY_UNIT
            else "استانی"
            if agency.is_unit
            else rng.choices(("ملی", "استانی"), (4, 1))[0]
        )
        missions = [owner.missions[len(self.services) % len(owner.missions)]]
        if len(owner.missions) > 1 and rng.random() < 0.2:
            other = rng.choice(owner.missions)
            if other not in missions:
                missions.append(other)
        legal = []
        if rng.random() < 0.5:
            legal.append(rng.choice(self.agency_refs[owner.code]))
        if rng.random() < 0.1:
            legal.append(rng.choice(CORPUS_SERVICE_REFS))
        row = {
            "agency": agency.code,
            "title": title,
            "service_id": "" if s.is_task else s.sid,  # a task takes no service ID (art. 2 item 7)
            "parent_service": parent.sid if parent else "",
            "item_kind": "وظیفه" if s.is_task else "خدمت",
            "nature": rng.choices(("حاکمیتی", "تصدی‌گری"), (3, 2))[0],
            "scope": scope,
            "missions": join(missions),
            "legal_basis": join(legal),
            "verified_on": jalali(rng, REFERENCE_DATE - dt.timedelta(days=rng.randint(0, 300))),
            "office_automation": NO if rng.random() < 0.2 else "",
            "general_unit": NO if rng.random() < 0.25 else "",
            "frequency": rng.choice(("1", "2", "0.5", "12")) if rng.random() < 0.4 else "",
            "duration_days": rng.choice(("1", "3", "7", "10", "15", "30", "0.5"))
            if rng.random() < 0.6
            else "",
        }
        if s.is_task:
            row.update(self.task_fields(title))
        else:
            row.update(self.service_fields(s, title))
            if s.delegated and rng.random() < 0.5:  # delegation to counters has its own basis
                row["legal_basis"] = join([*legal, rng.choice(CORPUS_COUNTER_REFS)])
        return row

    def task_fields(self, title: str) -> dict[str, str]:
        rng = self.rng
        online = rng.random() < 0.4
        return {
            "description": f"{title} در چارچوب وظایف قانونی دستگاه و بدون خدمت‌گیرنده بیرونی انجام می‌شود.",
            "trigger": rng.choice(("زمان معین", "تصمیم دستگاه")),
            "e_level": ONLINE if online else OFFLINE,
            **self.stages(online),
            "system": "سامانه مدیریت عملکرد" if online else "",
            "steps": join(rng.sample(("جمع‌آوری داده", "تحلیل", "تهیه گزارش", "ارسال به مراجع ذی‌ربط"), k=3))
            if rng.random() < 0.3
            else "",
        }

    @staticmethod
    def stages(online: bool) -> dict[str, str]:
        """Stage flags: cards tick them for electronic services and mostly leave them blank otherwise."""
        flag = YES if online else ""
        return {"start_electronic": flag, "production_electronic": flag, "delivery_electronic": flag}

    def service_fields(self, s: Service, title: str) -> dict[str, str]:
        """The fields of the card itself (Appendix B), as agencies fill them."""
        rng = self.rng
        e_level = rng.choices((ONLINE, FORMS, OFFLINE), (45, 30, 25))[0]
        online = e_level == ONLINE
        channels = []
        if not online or rng.random() < 0.3:
            channels.append(IN_PERSON)
        if online:
            channels.append(PORTAL)
            if rng.random() < 0.2:
                channels.append(MOBILE)
        s.delegated = rng.random() < 0.2
        if s.delegated:
            channels.append(COUNTER)
        if rng.random() < 0.03:
            channels.append(RURAL)
        s.inter_agency = rng.random() < 0.3
        fee = rng.random() < 0.4
        direct = rng.randint(5, 500) * 10000 if fee else 0
        recipients = rng.sample(lx.RECIPIENTS, k=rng.choice((1, 1, 2)))
        smart = online and rng.random() < 0.06
        if smart:  # a smart service takes no document and waits on no other agency (art. 2 item 24)
            s.inter_agency = False
        audience = ["G2B"] if "حقوقی" in recipients[0] or "شرکت" in recipients[0] else ["G2C"]
        if rng.random() < 0.1:
            audience.append(rng.choice(("G2G", "B2C") if audience[0] == "G2B" else ("G2B",)))
        in_person = IN_PERSON in channels
        row = {
            "description": f"این خدمت با عنوان «{title}» به {recipients[0]} مطابق ضوابط مربوط ارائه می‌شود.",
            "recipients": join(recipients),
            "audience": join(audience),
            "subtypes": rng.choice(lx.SUBTYPES) if rng.random() < 0.25 else "",
            "life_events": join(rng.sample(lx.LIFE_EVENTS, k=1 if rng.random() < 0.8 else 2))
            if rng.random() < 0.6
            else "",
            "trigger": rng.choices(("درخواست متقاضی", "رویداد مشخص"), (9, 1))[0],
            "channels": join(channels),
            "offices": str(rng.randint(1, 40)) if in_person and rng.random() < 0.6 else "",
            "counter_offices": str(rng.randint(5, 900)) if s.delegated else "",
            "e_level": e_level,
            "in_person_reason": rng.choice(lx.IN_PERSON_REASONS)
            if not online or (in_person and rng.random() < 0.5)  # why a visit, unless fully online
            else "",
            "annual_recipients": str(rng.choice((120, 800, 2500, 15000, 90000, 400000)) + rng.randint(0, 99))
            if rng.random() < 0.7
            else "",
            "direct_cost": rials(rng, direct) if fee else "",
            "full_cost": rials(rng, direct * rng.randint(2, 6)) if fee and rng.random() < 0.4 else "",
            "bank_account": f"4001{rng.randint(10**11, 10**12 - 1)}" if fee else "",
            "inter_agency": YES if s.inter_agency else NO,
            "authentication": join(
                ["حقیقی"] if audience[0] == "G2C" else ["حقوقی", "حقیقی"][: rng.randint(1, 2)]
            ),
            "benefits": join(rng.sample(lx.BENEFITS, k=2)) if online and rng.random() < 0.2 else "",
            "problems": rng.choice(lx.PROBLEMS) if rng.random() < 0.1 else "",
            "documents": "" if smart else join(rng.sample(lx.DOCUMENTS_REQUIRED, k=rng.choice((1, 1, 2, 3)))),
            **self.stages(online),
            "system": f"سامانه جامع {lx.FAMILIES[s.family].unit_name}" if online else "",
            "smart_level": persian(rng.randint(1, 3)) if smart else "",
        }
        if rng.random() < 0.25:
            row.update(self.description_table(s, online))
        return row

    def description_table(self, s: Service, online: bool) -> dict[str, str]:
        """The service description table (شرح خدمات), which a quarter of the cards come with."""
        rng = self.rng
        return {
            "conditions": join(rng.sample(lx.CONDITIONS, k=rng.randint(1, 2))),
            "provider_unit": rng.choice(
                ("اداره کل صدور مجوزها", "معاونت توسعه مدیریت", "دفتر فناوری اطلاعات", "معاونت فنی")
            ),
            "referral_place": "دفاتر پیشخوان دولت" if s.delegated else PORTAL if online else "ادارات شهرستان",
            "response_place": rng.choice(
                ("پست", "درگاه اینترنتی دستگاه", "دفتر پیشخوان محل مراجعه", "پیامک")
            ),
            "average_time": f"حداکثر {persian(rng.choice((3, 7, 10, 15, 30)))} روز کاری",
            "counter_actions": join(rng.sample(lx.COUNTER_ACTIONS, k=3)) if s.delegated else "",
            "tariff": "بر اساس تعرفه مصوب دفاتر پیشخوان" if s.delegated else "",
            "steps": join(lx.STEPS[: rng.randint(3, len(lx.STEPS))]),
        }


# --------------------------------------------------------------------------- defects
class _Planter:
    """Plants each defect on its own services (disjoint), at round(rate × population)."""

    def __init__(self, builder: _Builder) -> None:
        self.b = builder
        self.rng = builder.rng
        self.used: set[str] = set()

    def count(self, name: str, population: int) -> int:
        return round(self.b.rates.get(name, 0.0) * population)

    def pick(self, name: str, eligible: Callable[[Service], bool]) -> list[Service]:
        wanted = self.count(name, self.b.n)
        pool = [s for s in self.b.services if s.sid not in self.used and eligible(s)]
        if wanted > len(pool):
            raise ValueError(f"cannot plant {wanted} × {name}: only {len(pool)} eligible services")
        chosen = self.rng.sample(pool, k=wanted)
        for s in chosen:
            self.used.add(s.sid)
            s.defect = name
        return chosen

    def plant_all(self) -> None:
        for name in SERVICE_DEFECTS:
            getattr(self, name)()
        self.cover_missions()

    def cover_missions(self) -> None:
        """Give a mission whose only services lost it (no_legal_basis) to a clean service of its agency."""
        realized = {m for s in self.b.services for m in s.row["missions"].split("؛") if m}
        for mission in self.b.missions:
            if mission["code"] in realized:
                continue
            clean = [s for s in self.b.services if s.owner == mission["agency"] and not s.defect]
            target = self.rng.choice(clean)
            target.row["missions"] = join([*target.row["missions"].split("؛"), mission["code"]])

    def no_service_id(self) -> None:
        for s in self.pick("no_service_id", lambda s: not s.is_task and not s.has_subs and not s.is_sub):
            s.row.update(service_id="", inter_agency=NO, counter_offices="")
            s.row["channels"] = join(c for c in s.row.get("channels", "").split("؛") if c and c != COUNTER)
            s.delegated = s.inter_agency = False
            s.row["counter_actions"] = s.row["tariff"] = ""

    def no_legal_basis(self) -> None:
        for s in self.pick("no_legal_basis", lambda s: not s.is_task):
            s.row.update(missions="", legal_basis="")

    def foreign_mission(self) -> None:
        others = [m["code"] for m in self.b.missions]
        for s in self.pick("foreign_mission", lambda s: True):
            foreign = [m for m in others if self.b.mission_family[m] != s.family]
            s.related = self.rng.choice(foreign)
            s.row["missions"] = join([*s.row["missions"].split("؛"), s.related])

    def _duplicate(self, name: str, variant: Callable[[str], str], usable: Callable[[Service], bool]) -> None:
        """Retitle each target after a clean service of another non-unit agency of its family."""
        targets = self.pick(name, lambda s: s.agency == s.owner and not s.is_task and not s.has_subs)
        originals: dict[int, list[Service]] = {}
        for s in self.b.services:
            if s.agency == s.owner and not s.is_task and usable(s):
                originals.setdefault(s.family, []).append(s)
        for s in targets:
            pool = [o for o in originals.get(s.family, []) if o.owner != s.owner and o.sid not in self.used]
            if not pool:
                raise ValueError(f"no original for {name} in the family of {s.agency}")
            original = self.rng.choice(pool)
            self.used.add(original.sid)  # an original stays clean: never a target of another defect
            s.row["title"] = variant(original.row["title"])
            s.related = original.sid

    def duplicate_title(self) -> None:
        def surface(title: str) -> str:
            text = title.replace("ی", "ي", 1).replace("ک", "ك").replace("\u200c", " ")
            return text if text != title else title + " "

        self._duplicate("duplicate_title", surface, lambda o: True)

    def near_duplicate_title(self) -> None:
        def swap(title: str) -> str:
            words = title.split(" ")
            for i, word in enumerate(words):
                if word in lx.SYNONYMS:
                    words[i] = lx.SYNONYMS[word]
                    return " ".join(words).replace("\u200c", " ")
            raise AssertionError(title)

        self._duplicate(
            "near_duplicate_title", swap, lambda o: any(w in lx.SYNONYMS for w in o.row["title"].split(" "))
        )

    def expired_card(self) -> None:
        for s in self.pick("expired_card", lambda s: True):
            days = self.rng.randint(400, 1100)
            s.row["verified_on"] = jalali(self.rng, REFERENCE_DATE - dt.timedelta(days=days))

    def task_with_recipient(self) -> None:
        for s in self.pick("task_with_recipient", lambda s: s.is_task):
            s.row["recipients"] = self.rng.choice(lx.RECIPIENTS)

    def electronic_stage_not_electronic(self) -> None:
        for s in self.pick(
            "electronic_stage_not_electronic",
            lambda s: s.row.get("e_level") == ONLINE and not s.is_task and not s.row.get("smart_level"),
        ):
            s.row[self.rng.choice(("production_electronic", "delivery_electronic"))] = NO

    def fee_without_bank_account(self) -> None:
        for s in self.pick("fee_without_bank_account", lambda s: bool(s.row.get("direct_cost"))):
            s.row["bank_account"] = ""

    def delegated_without_counter(self) -> None:
        self.pick("delegated_without_counter", lambda s: s.delegated)

    def inter_agency_without_process_inquiry(self) -> None:
        for s in self.pick("inter_agency_without_process_inquiry", lambda s: not s.is_task):
            s.inter_agency = True
            s.row["inter_agency"] = YES

    def smart_with_documents(self) -> None:
        for s in self.pick(
            "smart_with_documents", lambda s: s.row.get("e_level") == ONLINE and not s.is_task
        ):
            s.row["smart_level"] = persian(self.rng.randint(1, 3))
            s.row["inter_agency"], s.inter_agency = NO, False
            s.row["documents"] = join(self.rng.sample(lx.DOCUMENTS_REQUIRED, k=2))

    def general_unit_service(self) -> None:
        for s in self.pick("general_unit_service", lambda s: True):
            s.row["general_unit"] = YES


# --------------------------------------------------------------------------- related sheets
def build_delivery(b: _Builder) -> list[tuple[str, Service]]:
    """Units deliver some of their owner's services under the same ID; every unit delivers one."""
    rng = b.rng
    rows: list[tuple[str, Service]] = []
    by_owner: dict[str, list[Service]] = {}
    for s in b.services:
        if s.agency == s.owner and s.row["service_id"] and not s.is_sub:
            by_owner.setdefault(s.owner, []).append(s)
    busy: set[str] = {s.agency for s in b.services}
    for agency in b.agencies:
        if not agency.units or agency.code not in by_owner:
            continue
        for s in by_owner[agency.code]:
            if rng.random() < 0.12:
                for unit in rng.sample(agency.units, k=min(len(agency.units), rng.randint(1, 2))):
                    rows.append((unit, s))
                    busy.add(unit)
        for unit in agency.units:
            if unit not in busy:
                rows.append((unit, rng.choice(by_owner[agency.code])))
    return rows


def build_inquiries(b: _Builder) -> list[dict[str, str]]:
    rng = b.rng
    slugs = {a.code.rsplit(".", 1)[-1]: a.code for a in b.agencies if not a.is_unit}
    owners = [a.code for a in b.agencies if not a.is_unit]
    rows = []
    for s in b.services:
        if not s.row["service_id"] or s.is_task:
            continue
        if s.inter_agency:
            kinds = (
                ["آنی"] * rng.randint(0, 1)
                if s.defect == "inter_agency_without_process_inquiry"
                else ["فرآیندی"] + ["آنی"] * rng.randint(0, 1)
            )
        else:
            kinds = ["آنی"] if rng.random() < 0.2 else []
        for kind in kinds:
            topic, slug = rng.choice(lx.INQUIRY_TOPICS)
            answer = slugs.get(slug) or rng.choice(owners)
            rows.append({"service_id": s.sid, "title": topic, "agency": answer, "kind": kind})
    return rows


def counter_offices(b: _Builder) -> dict[str, list[dict[str, str]]]:
    """Two to four counter offices per county of every province in the catalog."""
    rng = b.rng
    offices: dict[str, list[dict[str, str]]] = {}
    provinces = {a.province for a in b.agencies if a.province}
    for p_index, (province, counties) in enumerate(lx.PROVINCES, start=1):
        if province not in provinces:
            continue
        for c_index, county in enumerate(counties, start=1):
            for n in range(1, rng.randint(2, 4) + 1):
                code = f"{p_index:02d}{c_index:02d}{n:03d}"
                offices.setdefault(province, []).append(
                    {
                        "office_code": code,
                        "office_name": f"دفتر پیشخوان خدمات دولت شماره {persian(n)} {county}",
                        "province": province,
                        "county": county,
                        "address": f"{county}، خیابان {rng.choice(lx.STREETS)}، "
                        f"پلاک {persian(rng.randint(1, 400))}",
                    }
                )
    return offices


def build_counters(b: _Builder) -> list[dict[str, str]]:
    rng = b.rng
    offices = counter_offices(b)
    provinces = sorted(offices)
    rows = []
    for s in b.services:
        if not s.delegated or s.defect == "delegated_without_counter" or not s.row["service_id"]:
            continue
        agency = b.by_code[s.agency]
        pool = offices.get(agency.province) or offices[rng.choice(provinces)]
        for office in rng.sample(pool, k=min(len(pool), rng.choice((1, 1, 2, 3)))):
            rows.append({"service_id": s.sid, **office})
    return rows


def build_licenses(b: _Builder) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Licenses of the portal for the services that issue one; returns (rows, truth rows)."""
    rng = b.rng
    rows = []
    for s in b.services:
        title = s.row["title"]
        if (
            s.defect
            or s.is_task
            or not title.startswith("صدور ")
            or title.startswith("صدور المثنی")
            or rng.random() > 0.7
        ):
            continue
        rows.append(
            {
                "code": str(20000000 + len(rows) + 1),
                "title": title.removeprefix("صدور "),
                "agency": s.owner,
                "service_id": s.sid,
            }
        )
    truth = []
    free = list(range(len(rows)))
    for name in LICENSE_DEFECTS:
        wanted = round(b.rates.get(name, 0.0) * len(rows))
        for index in sorted(rng.sample(free, k=wanted)):
            free.remove(index)
            row = rows[index]
            row["service_id"] = (
                ""
                if name == "license_without_service_id"
                else f"{19000 + rng.randint(0, 999)}{rng.randint(1, 9999):04d}00"
            )
            truth.append(
                {
                    "defect": name,
                    "agency_code": row["agency"],
                    "service_id": row["service_id"],
                    "row_key": f"licenses!{index + 2}",
                    "title": row["title"],
                    "related": row["code"],
                }
            )
    return rows, truth


# --------------------------------------------------------------------------- assembly
def services_in_order(
    agencies: Sequence[Agency], services: Sequence[Service], delivery: Sequence[tuple[str, Service]]
) -> list[tuple[str, Service]]:
    """Rows of the services sheet agency by agency; each unit lists what it delivers after its own."""
    by_agency: dict[str, list[tuple[str, Service]]] = {a.code: [] for a in agencies}
    for s in services:
        if s.agency in by_agency:
            by_agency[s.agency].append((s.agency, s))
    for unit, s in delivery:
        if unit in by_agency:
            by_agency[unit].append((unit, s))
    return [pair for a in agencies for pair in by_agency[a.code]]


def generate(services: int, seed: int = 1, rates: Mapping[str, float] | None = None) -> Catalog:
    """Build a catalog of `services` card items (the unit rows delivering them come on top)."""
    chosen = {name: DEFAULT_RATE for name in DEFECTS}
    chosen.update(rates or {})
    unknown = sorted(set(chosen) - set(DEFECTS))
    if unknown:
        raise ValueError(f"unknown defects {unknown}; known: {', '.join(DEFECTS)}")
    b = _Builder(services, seed, chosen)
    n_families, n_provinces = hierarchy_size(services)
    b.build_agencies(n_families, n_provinces)
    b.build_laws()
    counts = b.allocate()
    b.build_missions(counts)
    b.build_services(counts)
    _Planter(b).plant_all()
    delivery = build_delivery(b)
    inquiries = build_inquiries(b)
    counters = build_counters(b)
    licenses, license_truth = build_licenses(b)
    for number, (agency, s) in enumerate(services_in_order(b.agencies, b.services, delivery), start=2):
        if agency == s.agency:
            s.row_number = number
    truth = [
        {
            "defect": s.defect,
            "agency_code": s.agency,
            "service_id": s.row["service_id"],
            "row_key": f"services!{s.row_number}",
            "title": s.row["title"],
            "related": s.related,
        }
        for s in b.services
        if s.defect
    ]
    truth.sort(key=lambda t: (DEFECTS.index(t["defect"]), int(t["row_key"].split("!")[1])))
    params = {
        "services": services,
        "seed": seed,
        "generator_version": GENERATOR_VERSION,
        "reference_date": REFERENCE_DATE.isoformat(),
        "families": n_families,
        "provinces": n_provinces,
        "rates": {k: chosen[k] for k in DEFECTS},
    }
    return Catalog(
        b.agencies,
        b.laws,
        b.missions,
        b.services,
        delivery,
        inquiries,
        licenses,
        counters,
        truth + license_truth,
        params,
    )


# --------------------------------------------------------------------------- writing
def law_row(code: str, **cells: str) -> dict[str, str]:
    """One row of the laws sheet: an instrument row carries the title..date cells, an article or
    part row the article, part and text cells; the others stay empty, as the sheet expects."""
    row = dict.fromkeys(("title", "kind", "authority", "number", "date", "article", "part", "text"), "")
    unknown = cells.keys() - row.keys()
    if unknown:
        raise TypeError(f"not a column of the laws sheet: {', '.join(sorted(unknown))}")
    return {"code": code, **row, **cells}


def agency_row(a: Agency) -> dict[str, str]:
    return {
        "code": a.code,
        "name": a.name,
        "parent": a.parent,
        "kind": a.kind,
        "province": a.province,
        "county": a.county,
        "website": a.website,
    }


def sheet_rows(
    catalog: Catalog, keep: Callable[[str], bool] | None = None
) -> dict[str, list[dict[str, str]]]:
    """The rows of every sheet, optionally only those of the agencies `keep` accepts."""
    ok = keep or (lambda _code: True)
    agencies = [a for a in catalog.agencies if ok(a.code)]
    by_sid = {s.sid: s for s in catalog.services}
    services = [
        s.row if agency == s.agency else {**s.row, "agency": agency}
        for agency, s in services_in_order(agencies, catalog.services, catalog.delivery)
    ]
    law_codes = {
        ref.split(":")[0] for m in catalog.missions if ok(m["agency"]) for ref in m["legal_basis"].split("؛")
    }
    law_codes |= {ref.split(":")[0] for r in services for ref in r["legal_basis"].split("؛")}

    def service_ok(sid: str) -> bool:
        return sid in by_sid and ok(by_sid[sid].agency) and bool(by_sid[sid].row["service_id"])

    return {
        "agencies": [agency_row(a) for a in agencies],
        "laws": [r for r in catalog.laws if keep is None or r["code"] in law_codes],
        "missions": [m for m in catalog.missions if ok(m["agency"])],
        "services": services,
        "inquiries": [r for r in catalog.inquiries if keep is None or service_ok(r["service_id"])],
        "licenses": [r for r in catalog.licenses if ok(r["agency"])],
        "counters": [r for r in catalog.counters if keep is None or service_ok(r["service_id"])],
    }


def csv_bytes(spec: SheetSpec, rows: Sequence[Mapping[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    keys = [c.key for c in spec.columns]
    writer.writerow(keys)
    writer.writerows([row.get(k, "") for k in keys] for row in rows)
    return buffer.getvalue().encode("utf-8")


def write_csv_folder(out: Path, sheets: Mapping[str, list[dict[str, str]]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for spec in SHEETS:
        (out / f"{spec.key}.csv").write_bytes(csv_bytes(spec, sheets[spec.key]))


def write_xlsx(path: Path, sheets: Mapping[str, list[dict[str, str]]]) -> None:
    """One workbook, Persian sheet names and headers; zip entries get a fixed time (determinism)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    fixed = dt.datetime(2026, 1, 1)
    workbook.properties.created = workbook.properties.modified = fixed
    for spec in SHEETS:
        sheet = workbook.create_sheet(spec.name)
        sheet.append([c.header for c in spec.columns])
        for row in sheets[spec.key]:
            sheet.append([row.get(c.key, "") or None for c in spec.columns])
    raw = io.BytesIO()
    workbook.save(raw)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _fix_core_dates(data)
            entry = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, data)


def _fix_core_dates(data: bytes) -> bytes:
    import re

    return re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)", rb"\g<1>2026-01-01T00:00:00Z\g<2>", data)


def write_truth(path: Path, truth: Sequence[Mapping[str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=TRUTH_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(truth)
    path.write_bytes(buffer.getvalue().encode("utf-8"))


def submission_path(out: Path, fmt: str = "csv") -> Path:
    """What to load: OUT/submission/ (a CSV folder) or OUT/submission.xlsx; truth.csv stays outside."""
    return out / ("submission.xlsx" if fmt == "xlsx" else "submission")


def write_submission(path: Path, sheets: Mapping[str, list[dict[str, str]]], fmt: str) -> None:
    if fmt == "xlsx":
        write_xlsx(path, sheets)
    else:
        write_csv_folder(path, sheets)


def write_catalog(catalog: Catalog, out: Path, fmt: str = "csv", split_per_family: bool = False) -> Path:
    """Write the submission, OUT/truth.csv and OUT/manifest.json (and OUT/families/ if asked).

    The loader refuses a CSV that is not a sheet of the spec, so the truth file and the manifest
    live next to the submission, not inside it. Returns the submission's path.
    """
    out.mkdir(parents=True, exist_ok=True)
    sheets = sheet_rows(catalog)
    path = submission_path(out, fmt)
    write_submission(path, sheets, fmt)
    write_truth(out / "truth.csv", catalog.truth)
    manifest = {
        **catalog.params,
        "format": fmt,
        "submission": path.name,
        "rows": {name: len(rows) for name, rows in sheets.items()},
        "defects": {d: sum(1 for t in catalog.truth if t["defect"] == d) for d in DEFECTS},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8")
    if split_per_family:
        for family in [a for a in catalog.agencies if a.parent == ""]:
            codes = {a.code for a in catalog.agencies if a.family == family.family}
            family_sheets = sheet_rows(catalog, codes.__contains__)
            write_submission(submission_path(out / "families" / family.code, fmt), family_sheets, fmt)
    return path


# --------------------------------------------------------------------------- CLI
def parse_rates(values: Sequence[str], default: float) -> dict[str, float]:
    rates = {name: default for name in DEFECTS}
    for item in values:
        name, _, value = item.partition("=")
        if name not in rates or not value:
            raise argparse.ArgumentTypeError(f"--rate wants NAME=RATE with NAME one of {', '.join(DEFECTS)}")
        rates[name] = float(value)
    return rates


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--services", type=int, default=1000, help="card items (services and tasks)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="folder to write the submission into")
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--defect-rate", type=float, default=DEFAULT_RATE, help="rate of every defect")
    parser.add_argument(
        "--rate",
        action="append",
        default=[],
        metavar="NAME=RATE",
        help=f"rate of one defect ({', '.join(DEFECTS)})",
    )
    parser.add_argument(
        "--split-per-family",
        action="store_true",
        help="also write one submission per ministry family under OUT/families/",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    try:
        rates = parse_rates(args.rate, args.defect_rate)
        catalog = generate(args.services, args.seed, rates)
    except (ValueError, argparse.ArgumentTypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_catalog(catalog, args.out, args.format, args.split_per_family)
    print(
        f"{args.services} services, {len(catalog.agencies)} agencies, {len(catalog.truth)} planted defects "
        f"→ {args.out} in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
