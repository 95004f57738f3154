"""Accounts: `khadamat token add|list|revoke`, how tokens are kept, and how a server checks them.

Through the real CLI (`khadamat.cli.main`) on a store holding examples/catalog, and through a real
`khadamat serve` on a loopback port for what a client sees: its principal at /whoami, 401 with
`WWW-Authenticate: Bearer` for a bad token, and a revoked token refused at once by every worker.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from khadamat.api.testing import live_server

from khadamat.accounts import PUBLIC, Principal, Role, TokenStore, local_operator
from khadamat.cli import main

TOKEN = re.compile(r"^kh_([0-9a-f]{12})_([0-9a-f]{64})$")


@pytest.fixture
def store(store_dir: Path) -> Path:
    """The shared `store_dir` (tests/conftest.py): a fresh copy of the example catalog's store."""
    return store_dir


def token(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`khadamat token ARGS` → (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(["token", *args])
    out, err = capsys.readouterr()
    return code, out, err


def add(capsys, store: Path, *args: str) -> str:
    code, out, err = token(capsys, "add", "--store", str(store), *args)
    assert code == 0, err
    last = out.splitlines()[-1]
    assert TOKEN.match(last) and out == last + "\n"  # the token alone, once, on stdout's last line
    return last


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_add_list_revoke(store, capsys):
    text = add(capsys, store, "--role", "editor", "--agency", "MAJ-PPO", "--name", "PPO  data officer")
    token_id, secret = TOKEN.match(text).groups()
    tokens = TokenStore.for_store(store)
    assert tokens.verify(text) == Principal("PPO data officer", Role.EDITOR, "maj-ppo", token_id)

    code, out, _ = token(capsys, "list", "--store", str(store), "--format", "json")
    assert code == 0
    assert secret not in out and "hash" not in out
    [row] = json.loads(out)
    assert {k: row[k] for k in ("id", "name", "role", "agency", "revoked")} == {
        "id": token_id,
        "name": "PPO data officer",
        "role": "editor",
        "agency": "maj-ppo",
        "revoked": None,
    }

    assert token(capsys, "revoke", "--store", str(store), token_id)[:2] == (
        0,
        f"token {token_id} revoked; a running server refuses it from its next request\n",
    )
    assert tokens.verify(text) is None
    assert json.loads(token(capsys, "list", "--store", str(store), "--format", "json")[1])[0]["revoked"]
    assert token(capsys, "revoke", "--store", str(store), "0" * 12) == (
        2,
        "",
        f"error: no token {'0' * 12} in {store / 'tokens.json'} (see `khadamat token list`)\n",
    )


def test_secrets_are_kept_as_hmac_under_a_private_key(store, capsys):
    text = add(capsys, store, "--role", "admin", "--name", "supervisor")
    token_id, secret = TOKEN.match(text).groups()
    tokens_file, key_file = store / "tokens.json", store / "tokens.json.key"
    raw = tokens_file.read_bytes()
    assert secret.encode() not in raw and text.encode() not in raw
    assert hashlib.sha256(secret.encode()).hexdigest().encode() not in raw  # not a plain hash
    key = key_file.read_bytes()
    assert len(key) == 32
    [record] = json.loads(raw)["tokens"]
    assert record["hash"] == "hmac-sha256:" + hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()
    assert mode(tokens_file) == 0o600 and mode(key_file) == 0o600
    assert not list(store.glob(".tokens.json*"))  # no temporary file left behind

    tokens = TokenStore.for_store(store)
    forged = f"kh_{token_id}_{'0' * 64}"
    for bad in (forged, text[:-1], text + "0", text.upper(), "", f"kh_{'1' * 12}_{secret}"):
        assert tokens.verify(bad) is None, bad
    key_file.write_bytes(bytes(32))  # another key: the same file no longer checks the token
    assert TokenStore.for_store(store).verify(text) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--role", "editor", "--name", "x"],
            "an editor token needs --agency CODE, the agency whose data it may change",
        ),
        (
            ["--role", "editor", "--agency", "nope", "--name", "x"],
            "no agency nope in the store at {store}; an editor token names an agency already loaded "
            "(khadamat load its agencies sheet first)",
        ),
        (
            ["--role", "editor", "--agency", "maj-fars", "--name", "x"],
            "maj-fars is a provincial or county unit of maj; its data is submitted with an editor token of "
            "maj, which covers maj's units",
        ),
        (
            ["--role", "auditor", "--agency", "maj", "--name", "x"],
            "an auditor token takes no --agency: it is not limited to one agency",
        ),
        (["--role", "admin", "--name", " "], "a name of 1 to 200 printable characters (who holds the token)"),
    ],
)
def test_add_refuses(store, capsys, args, message):
    assert token(capsys, "add", "--store", str(store), *args) == (
        2,
        "",
        f"error: {message.format(store=store)}\n",
    )
    assert not (store / "tokens.json").exists()


def test_tokens_file_outside_the_store(store, tmp_path, capsys):
    outside = tmp_path / "secrets" / "khadamat-tokens.json"
    outside.parent.mkdir()
    text = add(capsys, store, "--role", "auditor", "--name", "auditor", "--tokens", str(outside))
    assert not (store / "tokens.json").exists()
    assert TokenStore(outside).verify(text).role is Role.AUDITOR
    assert mode(outside) == 0o600 and mode(outside.with_name("khadamat-tokens.json.key")) == 0o600
    listed = token(capsys, "list", "--store", str(store), "--tokens", str(outside), "--format", "csv")[1]
    assert listed.splitlines()[0] == "id,name,role,agency,created,revoked"


def test_no_tokens_file_where_there_is_no_store(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert token(capsys, "add", "--store", str(missing), "--role", "admin", "--name", "x") == (
        2,
        "",
        f"error: no store at {missing}: run `khadamat load` first, or give --tokens FILE\n",
    )
    assert not missing.exists()


def test_concurrent_adds_keep_every_token(store):
    tokens = TokenStore.for_store(store)
    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda n: tokens.add(Role.AUDITOR, f"auditor {n}"), range(16)))
    assert sorted(r["id"] for r in tokens.list()) == sorted(token_id for token_id, _ in made)
    assert all(TokenStore.for_store(store).verify(text) for _, text in made)


def test_principals():
    assert Principal("public", Role.PUBLIC, None, None) == PUBLIC
    operator = local_operator()
    assert operator.role is Role.ADMIN and operator.name.startswith("local:") and operator.token_id is None


# -- a running server ------------------------------------------------------------------------------


@pytest.mark.slow  # two server workers: ~10 s on a busy machine
def test_a_running_server_knows_tokens_and_revocations_at_once(store, capsys):
    editor = add(capsys, store, "--role", "editor", "--agency", "maj", "--name", "MAJ data officer")
    token_id = TOKEN.match(editor).group(1)
    env = {"KHADAMAT_SPARQL_WORKERS": "1"}
    with live_server(store, workers=2, env=env) as url, httpx.Client(base_url=url) as client:
        bearer = {"Authorization": f"Bearer {editor}"}
        answer = client.get("/whoami", headers=bearer)
        assert answer.status_code == 200
        assert answer.json() == {
            "name": "MAJ data officer",
            "role": "editor",
            "agency": "maj",
            "token_id": token_id,
        }
        assert client.get("/whoami").json()["role"] == "public"

        for header in (f"Bearer {editor[:-1]}0", "Bearer", f"Basic {editor}", f"Bearer kh_{token_id}_x"):
            refused = client.get("/whoami", headers={"Authorization": header})
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"] == 'Bearer realm="khadamat", error="invalid_token"'
            assert editor not in refused.text and editor[-64:] not in refused.text

        assert token(capsys, "revoke", "--store", str(store), token_id)[0] == 0
        for _ in range(6):  # both workers, each on its next request
            refused = client.get("/whoami", headers=bearer)
            assert refused.status_code == 401
            assert refused.json()["detail"].startswith(
                "the token is not valid (malformed, unknown or revoked)"
            )
        assert client.get("/health").status_code == 200


def test_routes_guarded_by_role(store, capsys):
    """`require(...)` on a real route (POST /submissions: editors and admins): 401 for the public,
    403 for an auditor, before any upload is read."""
    auditor = add(capsys, store, "--role", "auditor", "--name", "auditor")
    with (
        live_server(store, env={"KHADAMAT_SPARQL_WORKERS": "1"}) as url,
        httpx.Client(base_url=url) as client,
    ):
        public = client.post("/submissions")
        assert public.status_code == 401 and public.headers["www-authenticate"] == 'Bearer realm="khadamat"'
        assert (
            public.json()["detail"]
            == "this needs a token (admin or editor); send `Authorization: Bearer TOKEN`"
        )
        denied = client.post("/submissions", headers={"Authorization": f"Bearer {auditor}"})
        assert denied.status_code == 403
        assert denied.json()["detail"] == "a token of role auditor may not do this; it needs admin or editor"


def test_the_server_reads_the_tokens_file_it_is_given(store, tmp_path, capsys):
    outside = tmp_path / "tokens.json"
    admin = add(capsys, store, "--role", "admin", "--name", "supervisor", "--tokens", str(outside))
    env = {"KHADAMAT_SPARQL_WORKERS": "1", "KHADAMAT_TOKENS": str(outside)}
    with live_server(store, env=env) as url:
        answer = httpx.get(url + "/whoami", headers={"Authorization": f"Bearer {admin}"})
        assert answer.status_code == 200 and answer.json()["role"] == "admin"
