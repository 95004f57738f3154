"""What the history, diff and dump/restore tests share: a store written by three submissions of
three principals (an admin, the editor of MCHT, the editor of ISIPO, each with a real token), and
the one `submit` those tests write through. Holds no tests itself.

`submit` goes through khadamat.submissions.submit, the one write path (`khadamat load` and
`POST /submissions` call it too).
"""

from __future__ import annotations

import csv
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from khadamat import submissions
from khadamat.accounts import Principal, Role, TokenStore, local_operator
from khadamat.config import Settings

ROOT = Path(__file__).resolve().parents[1]
BASIC = ROOT / "tests" / "fixtures" / "loader" / "basic"
BASE = "https://w3id.org/khadamat/id/"
SERVICE_HEADER = ["agency", "title", "service_id", "missions", "channels"]


def file_info(path: Path) -> dict[str, object]:
    data = path.read_bytes()
    return {"name": path.name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def submit(settings: Settings, paths: list[Path], principal: Principal) -> str:
    """Write one submission as `principal` through the one write path; the id of its version."""
    outcome = submissions.submit(settings, list(paths), principal)
    assert outcome.accepted, outcome.errors
    assert outcome.id is not None
    return outcome.id


def services_csv(folder: Path, rows: list[list[str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "services.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SERVICE_HEADER)
        writer.writerows(rows)
    return folder


@dataclass
class ThreeVersions:
    """A store after v000001 (admin: the basic catalog), v000002 (MCHT's editor: its one service
    under a new ID), v000003 (ISIPO's editor: one service retitled, one dropped, one added)."""

    settings: Settings
    tokens: TokenStore
    secrets: dict[str, str]  # who -> the token text
    principals: dict[str, Principal]
    folders: dict[str, Path]


def three_versions(tmp: Path) -> ThreeVersions:
    settings = Settings(store_dir=tmp / "store", base=BASE)
    settings.store_dir.mkdir(parents=True)
    tokens = TokenStore.for_store(settings.store_dir)
    secrets: dict[str, str] = {}
    principals: dict[str, Principal] = {"admin": local_operator()}
    for who, role, agency, name in (
        ("mcht", Role.EDITOR, "MCHT", "MCHT data officer"),
        ("isipo", Role.EDITOR, "ISIPO", "ISIPO data officer"),
        ("auditor", Role.AUDITOR, None, "Supervising organization auditor"),
    ):
        _, secret = tokens.add(role, name, agency)
        principal = tokens.verify(secret)
        assert principal is not None
        secrets[who], principals[who] = secret, principal
    folders = {"v1": tmp / "basic"}
    shutil.copytree(BASIC, folders["v1"])
    folders["v2"] = services_csv(
        tmp / "mcht",
        [["MCHT", "صدور مجوز حق بهره‌برداری از زمین", "14000000001", "M-MCHT-1", "درگاه اینترنتی"]],
    )
    folders["v3"] = services_csv(
        tmp / "isipo",
        [
            ["ISIPO", "صدور مجوز حق بهره‌برداری از زمین صنعتی", "13091726000", "M-ISIPO-1", "درگاه اینترنتی"],
            ["ISIPO", "تمدید پروانه بهره‌برداری", "13091729999", "M-ISIPO-1", "درگاه اینترنتی"],
        ],
    )
    assert submit(settings, [folders["v1"]], principals["admin"]) == "v000001"
    assert submit(settings, [folders["v2"]], principals["mcht"]) == "v000002"
    assert submit(settings, [folders["v3"]], principals["isipo"]) == "v000003"
    return ThreeVersions(settings, tokens, secrets, principals, folders)
