"""The sheets and columns of the submission workbook (docs/workbook.md) as data.

Each column says its English key, its Persian header, whether a row needs it, how its cells are
parsed (`kind`, see cells.py) and whether a cell may hold several values. Headers are matched on
either the key or the Persian header after normalize_key, so `شناسه خدمت`, `شناسه‌خدمت` and
`service_id` name the same column.
"""

from __future__ import annotations

from dataclasses import dataclass

from khadamat.normalize import normalize_key

# kinds: text (kept as written), code, agency (an agency code), digits (a service ID), int,
# decimal, money, bool, date, enum (a SKOS concept of `scheme`), item_kind, legal (a legal
# reference), mission (a mission code), iri.


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False
    kind: str = "text"
    multi: bool = False
    scheme: str | None = None  # for kind == "enum": the khc: scheme's local name


@dataclass(frozen=True)
class SheetSpec:
    key: str
    name: str  # the Persian sheet name
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


def _c(
    key: str,
    header: str,
    kind: str = "text",
    *,
    required: bool = False,
    multi: bool = False,
    scheme: str | None = None,
) -> Column:
    return Column(key, header, required, kind, multi, scheme)


AGENCIES = SheetSpec(
    "agencies",
    "دستگاه‌ها",
    (
        _c("code", "کد دستگاه", "code", required=True),
        _c("name", "نام دستگاه", required=True),
        _c("parent", "کد دستگاه مادر", "agency"),
        _c("kind", "نوع دستگاه", "enum", scheme="agency-kind"),
        _c("province", "استان"),
        _c("county", "شهرستان"),
        _c("website", "پایگاه اینترنتی", "iri"),
    ),
)

LAWS = SheetSpec(
    "laws",
    "قوانین و مقررات",
    (
        _c("code", "کد مقرره", "code", required=True),
        _c("title", "عنوان"),
        _c("kind", "نوع", "enum", scheme="law-kind"),
        _c("authority", "مرجع تصویب"),
        _c("number", "شماره"),
        _c("date", "تاریخ تصویب", "date"),
        _c("article", "ماده", "code"),
        _c("part", "تبصره/بند"),
        _c("text", "متن"),
    ),
)

MISSIONS = SheetSpec(
    "missions",
    "ماموریت‌ها",
    (
        _c("code", "کد ماموریت", "code", required=True),
        _c("agency", "کد دستگاه", "agency", required=True),
        _c("title", "عنوان ماموریت", required=True),
        _c("legal_basis", "مبنای قانونی", "legal", required=True, multi=True),
    ),
)

SERVICES = SheetSpec(
    "services",
    "شناسنامه خدمات",
    (
        _c("agency", "کد دستگاه", "agency", required=True),
        _c("title", "عنوان خدمت", required=True),
        _c("service_id", "شناسه خدمت", "digits"),
        _c("parent_service", "شناسه خدمت مادر", "digits"),
        _c("item_kind", "خدمت/وظیفه", "item_kind"),
        _c("nature", "ماهیت", "enum", scheme="nature"),
        _c("description", "شرح خدمت"),
        _c("recipients", "خدمت‌گیرندگان"),
        _c("audience", "نوع خدمت", "enum", multi=True, scheme="audience"),
        _c("subtypes", "زیرگروه‌های خدمت", multi=True),
        _c("life_events", "رویدادهای مرتبط", "enum", multi=True, scheme="life-event"),
        _c("trigger", "نحوه آغاز خدمت", "enum", scheme="trigger"),
        _c("channels", "کانال‌های ارائه", "enum", multi=True, scheme="channel"),
        _c("offices", "تعداد مراکز حضوری", "int"),
        _c("counter_offices", "تعداد دفاتر پیشخوان", "int"),
        _c("e_level", "روش ارائه الکترونیکی", "enum", scheme="e-level"),
        _c("in_person_reason", "ضرورت مراجعه حضوری"),
        _c("annual_recipients", "تعداد خدمت‌گیرندگان سالانه", "int"),
        _c("scope", "گستره", "enum", scheme="scope"),
        _c("frequency", "تواتر", "decimal"),
        _c("duration_days", "مدت زمان ارائه (روز)", "decimal"),
        _c("direct_cost", "هزینه مستقیم (ریال)", "money"),
        _c("full_cost", "بهای تمام‌شده (ریال)", "money"),
        _c("bank_account", "شماره حساب", "code"),
        _c("inter_agency", "همکاری بین‌دستگاهی", "bool"),
        _c("authentication", "احراز هویت", "enum", multi=True, scheme="auth"),
        _c("benefits", "مزایای الکترونیکی‌شدن"),
        _c("problems", "مشکلات ارائه"),
        _c("missions", "کد ماموریت", "mission", multi=True),
        _c("legal_basis", "مبنای قانونی", "legal", multi=True),
        _c("conditions", "شرایط متقاضی"),
        _c("documents", "مدارک مورد نیاز", multi=True),
        _c("provider_unit", "واحد ارائه‌کننده"),
        _c("referral_place", "محل مراجعه"),
        _c("response_place", "محل دریافت پاسخ"),
        _c("average_time", "زمان میانگین"),
        _c("counter_actions", "اقدامات دفاتر پیشخوان"),
        _c("tariff", "تعرفه"),
        _c("steps", "مراحل انجام کار"),
        _c("start_electronic", "شروع الکترونیکی", "bool"),
        _c("production_electronic", "تولید الکترونیکی", "bool"),
        _c("delivery_electronic", "تحویل الکترونیکی", "bool"),
        _c("system", "سامانه"),
        _c("office_automation", "اتوماسیون اداری", "bool"),
        _c("smart_level", "سطح هوشمندی", "enum", scheme="maturity"),
        _c("general_unit", "واحد عمومی", "bool"),
        _c("verified_on", "تاریخ تایید شناسنامه", "date"),
    ),
)

INQUIRIES = SheetSpec(
    "inquiries",
    "استعلام‌ها",
    (
        _c("service_id", "شناسه خدمت", "digits", required=True),
        _c("title", "عنوان استعلام", required=True),
        _c("agency", "کد دستگاه پاسخ‌دهنده", "agency", required=True),
        _c("kind", "نوع استعلام", "enum", scheme="inquiry"),
    ),
)

LICENSES = SheetSpec(
    "licenses",
    "مجوزها",
    (
        _c("code", "کد مجوز", "code", required=True),
        _c("title", "عنوان مجوز", required=True),
        _c("agency", "کد دستگاه", "agency", required=True),
        _c("service_id", "شناسه خدمت", "digits"),
    ),
)

COUNTERS = SheetSpec(
    "counters",
    "دفاتر پیشخوان",
    (
        _c("service_id", "شناسه خدمت", "digits", required=True),
        _c("office_code", "کد دفتر", "code", required=True),
        _c("office_name", "نام دفتر"),
        _c("province", "استان"),
        _c("county", "شهرستان"),
        _c("address", "نشانی", required=True),
    ),
)

SHEETS: tuple[SheetSpec, ...] = (AGENCIES, LAWS, MISSIONS, SERVICES, INQUIRIES, LICENSES, COUNTERS)


def match_key(text: object) -> str:
    """The form a sheet name or header is compared in: normalize_key, '_' and '-' ignored."""
    return normalize_key(str(text)).replace("_", "").replace("-", "")


_SHEET_INDEX: dict[str, SheetSpec] = {
    match_key(name): spec for spec in SHEETS for name in (spec.key, spec.name)
}


def sheet_spec(name: str) -> SheetSpec | None:
    """The spec of a sheet named by its English key or Persian name (None if unknown)."""
    return _SHEET_INDEX.get(match_key(name))


def header_index(spec: SheetSpec) -> dict[str, Column]:
    """Every accepted spelling of a header of this sheet → its column."""
    return {match_key(name): col for col in spec.columns for name in (col.key, col.header)}
