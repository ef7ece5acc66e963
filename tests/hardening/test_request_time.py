"""Request parsing, validation and question analysis take time linear in the body.

One 64 KB body of escaped quotes once held a worker (and, through the GIL, every other one) for 24 s:
a regex that stripped strings before counting brackets backtracked from every quote. These checks
time every stage a body goes through before the model sees it, for adversarial bodies from 1 KB up to
the body limit, and require the time per byte to stay flat: the largest body may cost at most a few
times more per byte than one an eighth of its size (a quadratic stage costs eight times more). Each
figure is the best of several runs, so a busy machine slows a run without failing it. They also run
a ReDoS linter (regexploit) over every regex literal of the package and every pattern in its data.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.exceptions import HTTPException

from qa_service.analysis import analyse
from qa_service.errors import QAError
from qa_service.evidence import check
from qa_service.requests import AskRequest, ChatRequest
from qa_service.web.body import json_object
from tests.conftest import ROOT

LIMIT = 64 * 1024
SIZES = [1024 * 2**i for i in range(6)] + [LIMIT - 64]  # 1 KB .. the limit
FLAT = 3.0  # per-byte cost at 64 KB over that at 8 KB: ~1 when linear, ~8 when quadratic
BUDGET_S = 1.0  # a body at the limit, through every stage; measured in milliseconds
REPEATS = 5
_app = Flask(__name__)


def handle(path: str, body: bytes) -> None:
    """Everything a body goes through before the question is embedded, as the route does it."""
    with _app.test_request_context(path, method="POST", data=body, content_type="application/json"):
        try:
            data = json_object(LIMIT, 20)
            if path == "/api/ask":
                question, history = AskRequest.parse(data).question, []
            else:
                turns = ChatRequest.parse(data).turns()
                question, history = turns[-1].content, turns[:-1]
        except (HTTPException, QAError):
            return  # refused: its cost so far is what counts
        query = analyse(question, history)
        check(query, query.resolved)


def fill(head: str, unit: str, tail: str, size: int) -> bytes:
    """``head`` + ``unit`` repeated + ``tail``, about ``size`` bytes long."""
    count = max(1, (size - len(head.encode()) - len(tail.encode())) // len(unit.encode()))
    return (head + unit * count + tail).encode()


def chat_body(content_unit: str, size: int) -> bytes:
    """A conversation whose messages (each at most 1,900 characters) come to about ``size`` bytes."""
    message = content_unit * (1900 // len(content_unit))
    turns: list[dict] = []
    while True:
        turn = {"role": "user" if len(turns) % 2 == 0 else "assistant", "content": message[: max(1, size // 4)]}
        body = json.dumps({"messages": [*turns, turn]}).encode()
        if len(body) > size and turns:
            break
        turns.append(turn)
    if turns[-1]["role"] != "user":
        turns.pop()
    return json.dumps({"messages": turns}).encode()


# Each makes a body of about n bytes that is bad for some stage.
ADVERSARIAL: dict[str, tuple[str, Callable[[int], bytes]]] = {
    "unterminated escaped quotes": ("/api/ask", lambda n: fill('{"question": "', '\\"', "", n)),
    "terminated escaped quotes": ("/api/ask", lambda n: fill('{"question": "', '\\"', '"}', n)),
    "escaped unicode": ("/api/ask", lambda n: fill('{"question": "', "\\u00e9", '"}', n)),
    "open brackets": ("/api/ask", lambda n: fill("", "[", "", n)),
    "nested objects": ("/api/chat", lambda n: fill("", '{"a":', "", n)),
    "brackets inside a string": ("/api/ask", lambda n: fill('{"question": "', "[{", '"}', n)),
    "long integer": ("/api/ask", lambda n: fill('{"question": "hi", "k": ', "9", "}", n)),
    "long fraction": ("/api/ask", lambda n: fill('{"question": "hi", "k": 1.', "9", "}", n)),
    "many keys": (
        "/api/ask",
        lambda n: ('{"question": "hi"' + "".join(f',"k{i}":0' for i in range(n // 10)) + "}").encode(),
    ),
    "combining marks": ("/api/ask", lambda n: fill('{"question": "a', "\u0301", '"}', n)),
    "control characters": ("/api/ask", lambda n: fill('{"question": "a', "\\u0000", '"}', n)),
    "long question of capitalised words": ("/api/ask", lambda n: fill('{"question": "What did ', "Aaa ", 'say?"}', n)),
    "capitalised names in a chat": ("/api/chat", lambda n: chat_body("Bob Aaa Ccc ", n)),
    "pronouns in a chat": ("/api/chat", lambda n: chat_body("he said so and then ", n)),
    "digits and commas in a chat": ("/api/chat", lambda n: chat_body("1,000,000.5 ", n)),
    "apostrophes in a chat": ("/api/chat", lambda n: chat_body("a'b'c'd'", n)),
    "many short messages": (
        "/api/chat",
        lambda n: json.dumps({"messages": [{"role": "user", "content": "hi"}] * (n // 40)}).encode(),
    ),
}


def cost(path: str, body: bytes) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        handle(path, body)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_time_per_byte_stays_flat_up_to_the_body_limit(name: str) -> None:
    path, make = ADVERSARIAL[name]
    bodies = {size: make(size) for size in SIZES}
    assert all(len(body) <= LIMIT for body in bodies.values())
    seconds = {size: cost(path, body) for size, body in bodies.items()}
    per_byte = {size: seconds[size] / len(bodies[size]) for size in SIZES}
    print(f"\n{name}: " + ", ".join(f"{size // 1024} KB {seconds[size] * 1e3:.2f} ms" for size in SIZES))
    growth = per_byte[SIZES[-1]] / max(per_byte[SIZES[-4]], 1e-12)
    # A tiny absolute cost is noise-dominated: only a body that costs real time can show a trend.
    if seconds[SIZES[-1]] > 0.005:
        assert growth < FLAT, f"{name}: per-byte cost grows {growth:.1f}x from 8 KB to 64 KB"
    assert seconds[SIZES[-1]] < BUDGET_S


def test_the_old_quadratic_body_is_answered_quickly() -> None:
    """The body from the report: 32,760 escaped quotes after an opening quote, 65,534 bytes."""
    body = b'{"question": "' + b'\\"' * 32_760
    assert len(body) == 65_534
    assert cost("/api/ask", body) < BUDGET_S


def _redos_findings(pattern: str, flags: int = 0) -> list:
    from regexploit.ast.sre import SreOpParser
    from regexploit.redos import find

    return [r for r in find(SreOpParser().parse_sre(pattern, flags)) if r.starriness > 2]


def _data_patterns() -> list[str]:
    """Every regex kept as data (the cleaning rules, the lexicon): strings in the package's TOML files."""
    patterns = []
    for entry in resources.files("qa_service.data").iterdir():
        if not entry.name.endswith(".toml"):
            continue
        stack = [tomllib.loads(entry.read_text("utf-8"))]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                stack.extend(value.values())
            elif isinstance(value, list):
                stack.extend(value)
            elif isinstance(value, str):
                patterns.append(value)
    return patterns


def test_the_linter_finds_a_known_redos_pattern() -> None:
    """So that the two checks below can fail."""
    assert _redos_findings(r"(?:\w+\s?)*$")
    assert not _redos_findings(r"\w+\s")


def test_no_regex_in_the_package_is_prone_to_catastrophic_backtracking() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "regexploit-py"), str(ROOT / "qa_service")],
        capture_output=True,
        text=True,
        check=True,
    )
    processed = re.search(r"Processed (\d+) regexes", result.stdout)
    assert processed and int(processed.group(1)) > 20, result.stdout[-500:]
    assert "Vulnerable regex" not in result.stdout, result.stdout


def test_no_pattern_in_the_data_files_is_prone_to_catastrophic_backtracking() -> None:
    patterns = _data_patterns()
    assert len(patterns) > 20
    flagged = [p for p in patterns if _is_regex(p) and _redos_findings(p, re.I)]
    assert not flagged


def _is_regex(text: str) -> bool:
    try:
        re.compile(text)
    except re.error:
        return False
    return True
