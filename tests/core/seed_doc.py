"""Reads the seed design document's API section: the routes table (3.2), the TypeScript
interfaces (4.1) and the request/response blocks of each endpoint (4.2-4.4).

The blocks are interface-like TypeScript: ``name?: type;`` members, with types made of
names (``string``, ``number``, ``Date``, ``Feature``), generics (``Record<string, any>``,
``Array<{...}>``), arrays (``number[][]``), string-literal unions and nested blocks. This
module parses exactly that much, checks JSON values against such types, and makes values
of them. No Django here: the contract test drives OMM with what it gives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------- types


@dataclass(frozen=True)
class Lit:
    value: str


@dataclass(frozen=True)
class Ref:
    name: str
    args: tuple = ()


@dataclass(frozen=True)
class Arr:
    item: Any


@dataclass(frozen=True)
class Union:
    options: tuple


@dataclass(frozen=True)
class Member:
    optional: bool
    type: Any


@dataclass(frozen=True)
class Obj:
    members: tuple  # ((name, Member), ...) in the document's order

    def items(self):
        return self.members

    def get(self, name: str) -> Member | None:
        return dict(self.members).get(name)


TOKEN = re.compile(
    r"\s*(?:(?P<str>'[^']*'|\"[^\"]*\")|(?P<name>[A-Za-z_$][\w$]*)|(?P<num>\d+)|(?P<punct>[{}\[\]<>;:,|?()]))"
)


def _tokens(text: str) -> list[str]:
    text = re.sub(r"//[^\n]*", "", text)
    out, pos = [], 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"cannot read the type at {text[pos : pos + 30]!r}")
        out.append(m.group(m.lastgroup))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.toks, self.i = _tokens(text), 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise ValueError(f"expected {expected!r}, got {tok!r} in {' '.join(self.toks)}")
        self.i += 1
        return tok

    def obj(self) -> Obj:
        self.take("{")
        members = []
        while self.peek() != "}":
            name = self.take()
            optional = self.peek() == "?"
            if optional:
                self.take("?")
            self.take(":")
            members.append((name, Member(optional, self.type())))
            if self.peek() in (";", ","):
                self.take()
        self.take("}")
        return Obj(tuple(members))

    def type(self):
        if self.peek() == "|":
            self.take("|")
        options = [self.postfix()]
        while self.peek() == "|":
            self.take("|")
            options.append(self.postfix())
        return options[0] if len(options) == 1 else Union(tuple(options))

    def postfix(self):
        t = self.primary()
        while self.peek() == "[":
            self.take("[")
            self.take("]")
            t = Arr(t)
        return t

    def primary(self):
        tok = self.peek()
        if tok == "{":
            return self.obj()
        if tok == "(":
            self.take("(")
            t = self.type()
            self.take(")")
            return t
        tok = self.take()
        if tok[0] in "'\"":
            return Lit(tok[1:-1])
        if self.peek() == "<":
            self.take("<")
            args = [self.type()]
            while self.peek() == ",":
                self.take(",")
                args.append(self.type())
            self.take(">")
            return Arr(args[0]) if tok == "Array" else Ref(tok, tuple(args))
        return Ref(tok)


def parse_type(text: str):
    parser = _Parser(text)
    t = parser.type()
    if parser.peek() is not None:
        raise ValueError(f"left over after the type: {parser.toks[parser.i :]}")
    return t


def _block_after(text: str, start: int) -> tuple[str, int]:
    """The balanced ``{...}`` block that starts at or after ``start``, and where it ends."""
    open_at = text.index("{", start)
    depth = 0
    for pos in range(open_at, len(text)):
        depth += {"{": 1, "}": -1}.get(text[pos], 0)
        if depth == 0:
            return text[open_at : pos + 1], pos + 1
    raise ValueError("unbalanced block")


# --------------------------------------------------------------------------- the document


@dataclass
class Endpoint:
    method: str
    path: str
    title: str
    section: str
    request: Obj | None = None
    request_kind: str = ""  # "query", "json" or "multipart"
    response: Any = None

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class SeedDoc:
    path: Path
    routes: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, what)
    interfaces: dict[str, Obj] = field(default_factory=dict)
    endpoints: list[Endpoint] = field(default_factory=list)


def _sections(text: str) -> dict[str, str]:
    """Text of each numbered heading (``### 4.2 ...`` -> "4.2"), up to the next heading."""
    heads = list(re.finditer(r"^#{2,4} (\d+(?:\.\d+)*)\b.*$", text, re.M))
    return {
        m.group(1): text[m.end() : heads[i + 1].start() if i + 1 < len(heads) else len(text)]
        for i, m in enumerate(heads)
    }


def _code(section: str) -> str:
    return "\n".join(re.findall(r"```typescript\n(.*?)```", section, re.S))


ENDPOINT_LINE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) (/\S+)\s*$", re.M)
PART_LINE = re.compile(r"^(Request Query|Request Body|Response)(?: \(([^)]*)\))?:\s*$", re.M)


def read(path: Path) -> SeedDoc:
    text = path.read_text(encoding="utf-8")
    sections = _sections(text)
    doc = SeedDoc(path)
    for row in re.findall(
        r"^\|\s*(/api/\S*)\s*\|\s*([A-Z]+)\s*\|\s*([^|]*)\|", sections.get("3.2", ""), re.M
    ):
        doc.routes.append((row[1], row[0], row[2].strip()))
    types = _code(sections.get("4.1", ""))
    for m in re.finditer(r"interface (\w+)\s*", types):
        block, _ = _block_after(types, m.end())
        doc.interfaces[m.group(1)] = parse_type(block)
    for number in ("4.2", "4.3", "4.4"):
        code = _code(sections.get(number, ""))
        lines = ENDPOINT_LINE.finditer(code)
        for m in lines:
            end = code.find("\n\n//", m.end())
            chunk = code[m.end() : end if end != -1 else len(code)]
            title = code[: m.start()].rstrip().rsplit("\n", 1)[-1].removeprefix("//").strip()
            endpoint = Endpoint(m.group(1), m.group(2), title, number)
            for part in PART_LINE.finditer(chunk):
                block, _ = _block_after(chunk, part.end())
                parsed = parse_type(block)
                if part.group(1) == "Response":
                    endpoint.response = parsed
                else:
                    endpoint.request = parsed
                    multipart = "multipart" in (part.group(2) or "")
                    endpoint.request_kind = (
                        "query" if part.group(1) == "Request Query" else "multipart" if multipart else "json"
                    )
            doc.endpoints.append(endpoint)
    return doc


# --------------------------------------------------------------------------- checking JSON


def is_id_or_version(name: str) -> bool:
    """``id``, ``…Id`` and version numbers: strings in the seed, integers in OMM's own form."""
    return name in ("id", "version") or name.endswith(("Id", "Version"))


@dataclass
class Checker:
    """Checks a JSON value against a seed type.

    ``omm_form``: OMM's default answers, which differ from the seed's types in exactly two
    documented ways: ids and version numbers are integers, and a task status's ``logs`` are
    rows with a ``message`` rather than strings. ``extensions``: values OMM's enums add to a
    seed union, by ``Interface.member``. Types the seed names but never defines
    (``ModelMetrics``, ``ResourceConfig``, ``TaskResult``) must be objects.
    """

    interfaces: dict[str, Obj]
    omm_form: bool = False
    extensions: dict[str, set[str]] = field(default_factory=dict)

    def problems(self, value: Any, t: Any, where: str = "$") -> list[str]:
        out: list[str] = []
        self._check(value, t, where, "", out)
        return out

    def _check(self, value, t, where: str, owner: str, out: list[str]) -> None:
        def bad(expected: str) -> None:
            out.append(f"{where}: expected {expected}, got {value!r}"[:300])

        if isinstance(t, Obj):
            if not isinstance(value, dict):
                return bad("an object")
            for name, member in t.items():
                self._member(value, name, member, f"{where}.{name}", f"{owner}.{name}" if owner else "", out)
        elif isinstance(t, Arr):
            if not isinstance(value, list):
                return bad("an array")
            for i, item in enumerate(value):
                self._check(item, t.item, f"{where}[{i}]", owner, out)
        elif isinstance(t, Union):
            if all(isinstance(o, Lit) for o in t.options):
                allowed = {o.value for o in t.options} | self.extensions.get(owner, set())
                if value not in allowed:
                    bad(" | ".join(sorted(allowed)))
                return None
            if not any(not self.problems(value, option) for option in t.options):
                bad("one of the union's types")
        elif isinstance(t, Lit):
            if value != t.value:
                bad(repr(t.value))
        elif isinstance(t, Ref):
            self._ref(value, t, where, owner, out, bad)

    def _ref(self, value, t: Ref, where, owner, out, bad) -> None:
        if t.name == "string":
            if not isinstance(value, str):
                bad("a string")
        elif t.name == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                bad("a number")
        elif t.name == "boolean":
            if not isinstance(value, bool):
                bad("a boolean")
        elif t.name == "Date":
            try:
                datetime.fromisoformat(value)
            except (TypeError, ValueError):
                bad("an ISO 8601 date-time string")
        elif t.name == "any":
            return
        elif t.name == "Record":
            if not isinstance(value, dict):
                return bad("an object")
            for key, item in value.items():
                self._check(item, t.args[1], f"{where}.{key}", "", out)
        elif t.name in self.interfaces:
            self._check(value, self.interfaces[t.name], where, t.name, out)
        elif not isinstance(value, dict):  # named by the seed, defined nowhere
            bad(f"an object ({t.name})")

    def _member(self, obj: dict, name: str, member: Member, where: str, owner: str, out: list[str]) -> None:
        if name not in obj:
            if not member.optional:
                out.append(f"{where}: missing")
            return
        value = obj[name]
        if value is None:
            if not member.optional:
                out.append(f"{where}: null")
            return
        if self.omm_form:
            if is_id_or_version(name) and member.type == Ref("string") and isinstance(value, int):
                return
            rows = name == "logs" and member.type == Arr(Ref("string")) and isinstance(value, list)
            if rows and all(isinstance(row, dict) and isinstance(row.get("message"), str) for row in value):
                return
        self._check(value, member.type, where, owner, out)


# --------------------------------------------------------------------------- making values


def make_value(t: Any, *, name: str, pick, required_only: bool = False) -> Any:
    """A value of type ``t`` for field ``name``: ``pick(name, t)`` when it knows one (ids of
    data the test made, a valid algorithm), else a plain value of the type."""
    chosen = pick(name, t)
    if chosen is not None:
        return chosen
    if isinstance(t, Obj):
        return {
            key: make_value(member.type, name=key, pick=pick, required_only=required_only)
            for key, member in t.items()
            if not (required_only and member.optional)
        }
    if isinstance(t, Arr):
        return [make_value(t.item, name=name, pick=pick, required_only=required_only)]
    if isinstance(t, Union):
        return make_value(t.options[0], name=name, pick=pick, required_only=required_only)
    if isinstance(t, Lit):
        return t.value
    plain = {"string": "text", "number": 1, "boolean": True, "any": "text", "Record": {}}
    if isinstance(t, Ref) and t.name in plain:
        return plain[t.name]
    raise ValueError(f"no value for {name}: {t}")
