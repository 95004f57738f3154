"""Every command of the README's ```sh blocks, run as written on a fresh copy of the repository.

A newcomer copies these lines into a shell; each must work. The rules, so that the README can
change without this file changing:

- The copy is what a clone would hold: the files git tracks or would track (`git ls-files
  --cached --others --exclude-standard`), as they are in the working tree, in a temporary folder;
  no `.venv`, no store, nothing ignored. Commands run there, one after the other, in README order
  (so `khadamat load` comes before `khadamat stats`), by bash, with the checkout's `.venv/bin`
  first on PATH (the `khadamat` that `make demo` installs) and no `KHADAMAT_*` variable set.
- A line is one command; a trailing `\\` continues it; a trailing `# comment` is the shell's.
  `export NAME=value` sets NAME for the lines after it, as it would in the reader's shell.
- Expected exit code: 0, or N when the line's comment says `exit N` (`# … exit 1 on violations`).
- Not run: `make demo` and `make test` (they install, and run this test), and benchmarks
  (`python -m benchmarks.…`, minutes each), and any line whose comment says `not run by tests`.
- `khadamat serve …` is started rather than waited for; then every `http://127.0.0.1:PORT/…` URL
  of the README's text is opened as a browser would (its Accept header, redirects followed) and
  must answer 200; the server keeps running for the commands after it (a `curl` to the API, as
  the reader's would) and is stopped at the end. PORT, the server's port as written, is replaced by
  a free one in every line and URL (a fixed port may be taken on a shared machine; replacing it
  everywhere keeps a base IRI that names it in agreement): the only change made to a line.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
VENV_BIN = ROOT / ".venv" / "bin"
NOT_RUN = ("make demo", "make test")
BENCHMARK = re.compile(r"^(\S*/)?python3?\s+-m\s+benchmarks\.")
SERVE = re.compile(r"^(\S*/)?khadamat\s+serve\b")
PORT = re.compile(r"--port[ =](\d+)")
EXIT = re.compile(r"\bexit (\d+)\b")
EXPORT = re.compile(r"^export\s+[A-Za-z_][A-Za-z0-9_]*=")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
COMMAND_TIMEOUT = 300.0


@dataclass(frozen=True)
class Command:
    """One command line of a ```sh block: the text run, its comment, where it is in README.md."""

    line: int
    text: str  # as written, continuation lines joined, comment included
    command: str  # without the comment
    comment: str

    @property
    def expected_exit(self) -> int:
        found = EXIT.search(self.comment)
        return int(found.group(1)) if found else 0

    @property
    def skip_reason(self) -> str | None:
        if self.command in NOT_RUN:
            return f"`{self.command}` installs into .venv (make test also runs this file); not run by a test"
        if BENCHMARK.match(self.command):
            return "a benchmark (minutes); not run by tests"
        if "not run by tests" in self.comment:
            return "marked `not run by tests` in the README"
        return None


def split_comment(text: str) -> tuple[str, str]:
    """(command, comment): the comment starts at a `#` outside quotes that begins a word."""
    quote = None
    for at, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (at == 0 or text[at - 1].isspace()):
            return text[:at].strip(), text[at + 1 :].strip()
    return text.strip(), ""


def sh_blocks(markdown: str) -> list[tuple[int, list[str]]]:
    """(line number of the first line, lines) of every ```sh fenced block."""
    blocks, current, start = [], None, 0
    for number, line in enumerate(markdown.splitlines(), start=1):
        fence = line.strip()
        if current is None and fence in ("```sh", "```bash", "```shell"):
            current, start = [], number + 1
        elif current is not None and fence.startswith("```"):
            blocks.append((start, current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def readme_commands(markdown: str) -> list[Command]:
    out = []
    for start, lines in sh_blocks(markdown):
        pending, first = "", 0
        for offset, line in enumerate(lines):
            if not pending:
                first = start + offset
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            text, pending = (pending + line).strip(), ""
            command, comment = split_comment(text)
            if command:
                out.append(Command(first, text, command, comment))
    return out


def prose_urls(markdown: str, port: str) -> list[str]:
    """The http://127.0.0.1:PORT/… URLs of the README's text (not of its command lines)."""
    inside = {line for _, lines in sh_blocks(markdown) for line in lines}
    text = "\n".join(line for line in markdown.splitlines() if line not in inside)
    found = re.findall(rf"http://127\.0\.0\.1:{port}/[^\s`)<>\"']*", text)
    return list(dict.fromkeys(url for url in found if "{" not in url))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_copy(target: Path) -> Path:
    """The files a clone would hold, with their working-tree content."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is not in the clone
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KHADAMAT_")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("VIRTUAL_ENV", None)
    return env


@dataclass
class Outcome:
    """What one command did: its exit code and output, and for a server what its URLs answered."""

    code: int | None
    output: str
    answers: dict[str, int] = field(default_factory=dict)


def readme_port(commands: list[Command]) -> str:
    """The port the README's `khadamat serve` listens on (its --port, or the default 8000)."""
    for command in commands:
        if SERVE.match(command.command):
            written = PORT.search(command.command)
            return written.group(1) if written else "8000"
    return "8000"


class Session:
    """The README's commands run in order in one fresh copy, each at most once, on demand.

    The README's port is replaced by a free one in every line (a base IRI exported or passed
    with it, the server's --port) and in the URLs opened, so that the base still agrees."""

    def __init__(self, copy: Path, commands: list[Command], markdown: str) -> None:
        self.copy, self.commands, self.markdown = copy, commands, markdown
        self.env = environment()
        self.done: dict[int, Outcome] = {}
        self.port, self.free = readme_port(commands), str(free_port())
        self.servers: list[subprocess.Popen] = []

    def local(self, text: str) -> str:
        """`text` with the README's port replaced by this session's."""
        text = text.replace(f"127.0.0.1:{self.port}", f"127.0.0.1:{self.free}")
        return PORT.sub(lambda m: m.group(0).replace(self.port, self.free), text)

    def outcome(self, index: int) -> Outcome:
        for i in range(index + 1):
            if i not in self.done and self.commands[i].skip_reason is None:
                self.done[i] = self.run(self.commands[i])
        return self.done[index]

    def run(self, command: Command) -> Outcome:
        line = self.local(command.text)
        if EXPORT.match(command.command):
            for assignment in shlex.split(self.local(command.command))[1:]:
                name, _, value = assignment.partition("=")
                self.env[name] = value
            return Outcome(0, "")
        if SERVE.match(command.command):
            if not PORT.search(command.command):
                line = f"{self.local(command.command)} --port {self.free}"
            return self.serve(line)
        try:
            finished = subprocess.run(
                ["bash", "-c", line],
                cwd=self.copy,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            return Outcome(None, f"did not finish in {COMMAND_TIMEOUT:g} s")
        return Outcome(finished.returncode, (finished.stdout + finished.stderr)[-4000:])

    def serve(self, line: str) -> Outcome:
        """Start the server, open every URL of the README's text on it, stop it."""
        log = self.copy / ".serve.log"
        with log.open("w") as sink:
            server = subprocess.Popen(
                ["bash", "-c", f"exec {line}"],
                cwd=self.copy,
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        answers: dict[str, int] = {}
        try:
            end = time.monotonic() + 60
            while server.poll() is None and time.monotonic() < end:
                try:
                    if httpx.get(f"http://127.0.0.1:{self.free}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            if server.poll() is not None:
                return Outcome(server.returncode, log.read_text())
            for url in prose_urls(self.markdown, self.port):
                response = httpx.get(
                    self.local(url), headers={"Accept": BROWSER}, follow_redirects=True, timeout=60
                )
                answers[url] = response.status_code
        except BaseException:
            _stop(server)
            raise
        self.servers.append(server)  # the commands after it (curl to the API) talk to it
        return Outcome(0, log.read_text(), answers)

    def close(self) -> None:
        """Stop the servers the README started."""
        for server in self.servers:
            _stop(server)


def _stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


MARKDOWN = README.read_text(encoding="utf-8")
COMMANDS = readme_commands(MARKDOWN)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout: the fresh copy is made from git's file list")
    if not (VENV_BIN / "khadamat").exists():
        pytest.skip(f"no {VENV_BIN / 'khadamat'}: run `make demo` first")
    session = Session(fresh_copy(tmp_path_factory.mktemp("readme-clone")), COMMANDS, MARKDOWN)
    yield session
    session.close()


def test_the_readme_has_commands_and_every_rule_applies() -> None:
    """The parser finds the blocks (so that the test below cannot pass on nothing)."""
    assert len(COMMANDS) >= 10
    assert any(SERVE.match(c.command) for c in COMMANDS)
    assert split_comment("khadamat x --a 'b # c'   # exit 1 on violations") == (
        "khadamat x --a 'b # c'",
        "exit 1 on violations",
    )
    assert Command(1, "", "make demo", "").skip_reason is not None
    assert Command(1, "", "python -m benchmarks.bench_attacks", "").skip_reason is not None
    assert Command(1, "", "khadamat validate", "Persian table, exit 1 on violations").expected_exit == 1


@pytest.mark.slow  # ~20 s: a load, validations, the query library and a server
@pytest.mark.parametrize("index", range(len(COMMANDS)), ids=[f"L{c.line}:{c.command}" for c in COMMANDS])
def test_readme_command(session: Session, index: int) -> None:
    command = COMMANDS[index]
    if command.skip_reason:
        pytest.skip(command.skip_reason)
    outcome = session.outcome(index)
    where = f"README.md line {command.line}: {command.text}\n{outcome.output}"
    assert outcome.code == command.expected_exit, where
    bad = {url: status for url, status in outcome.answers.items() if status != 200}
    assert bad == {}, where
    if SERVE.match(command.command):
        assert outcome.answers, f"{where}\nthe README gives no URL of the server to open"
