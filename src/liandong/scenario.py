"""Scenario files (``shared/spec/scenarios.md``): load, validate, replay through the engine, compare with ``expect``.

A malformed file is not a refusal: ``ScenarioError`` names the file, the line and the key. Replaying runs every
event through the same ``Engine`` the service and the simulator run, in memory.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import ValidationError

from .engine import events as ev
from .engine.core import DEFAULT_START, Engine, Product, Shop
from .engine.draw import make_secret
from .engine.i18n import gettext_noop, translate
from .engine.labels import book_label, label, note
from .engine.ledger import NON_CASH_UNITS, Transaction
from .engine.module import ConfigError
from .engine.money import MoneyError, format_fen, parse_yuan
from .engine.registry import REGISTRY, new_engine

TOP_KEYS = {"name", "description", "plan", "plan_file", "config", "plans", "start", "timezone", "products",
            "events", "expect"}
PRODUCT_KEYS = {"sku", "price", "gift_pack", "red_envelope", "name", "cost", "shipping"}


class ScenarioError(ValueError):
    """A malformed scenario file: names the file, the line and the key."""

    def __init__(self, path: str, line: int | None, key: str, message: str) -> None:
        self.path, self.line, self.key = path, line, key
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {key}: {message}")


class _Map(dict[Any, Any]):
    """A YAML mapping that remembers the line of each key (1-based)."""

    line: int = 0
    lines: dict[Any, int]


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    out = _Map()
    out.line = node.start_mark.line + 1
    out.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line(obj: Any, key: Any = None) -> int | None:
    if isinstance(obj, _Map):
        return obj.lines.get(key, obj.line) if key is not None else obj.line
    return None


@dataclass
class ParsedEvent:
    cls: type[ev.Event]
    fields: dict[str, Any]
    at: dt.datetime | None
    line: int | None
    index: int  # 1-based position in `events`


@dataclass
class Scenario:
    path: str
    name: str
    shop: Shop
    events: list[ParsedEvent]
    expect: dict[str, Any] | None
    costs: dict[str, tuple[int, int]] = field(default_factory=dict)  # sku -> (unit cost, shipping) in fen


def _to_plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _to_plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_plain(v) for v in obj]
    return obj


def parse_time(value: Any, tz: dt.tzinfo) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value)
    else:
        raise ValueError(f"{value!r} is not an ISO time")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed


def load(path: str | Path) -> Scenario:
    path = str(path)
    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.load(fh, Loader=_Loader)
    except OSError as exc:
        raise ScenarioError(path, None, "file", str(exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ScenarioError(path, mark.line + 1 if mark else None, "yaml", str(exc).splitlines()[0]) from None
    return parse(doc, path)


def parse(doc: Any, path: str = "<scenario>") -> Scenario:
    if not isinstance(doc, dict):
        raise ScenarioError(path, None, "(file)", "a scenario is a mapping with name, products and events")
    for key in doc:
        if key not in TOP_KEYS:
            raise ScenarioError(path, _line(doc, key), str(key), f"unknown key; known: {', '.join(sorted(TOP_KEYS))}")
    tz_name = doc.get("timezone", "Asia/Shanghai")
    shop = Shop(timezone=tz_name)
    try:
        tz: dt.tzinfo = ZoneInfo(tz_name)
    except Exception:
        raise ScenarioError(path, _line(doc, "timezone"), "timezone", f"{tz_name!r} is not a time zone") from None
    if "start" in doc:
        try:
            shop.start = parse_time(doc["start"], tz)
        except ValueError as exc:
            raise ScenarioError(path, _line(doc, "start"), "start", str(exc)) from None
    else:
        shop.start = DEFAULT_START.astimezone(tz)
    shop.plans = _plans(doc, path)
    costs: dict[str, tuple[int, int]] = {}
    products = doc.get("products") or []
    if not isinstance(products, list):
        raise ScenarioError(path, _line(doc, "products"), "products", "a list of products")
    for i, raw in enumerate(products):
        if not isinstance(raw, dict):
            raise ScenarioError(path, _line(doc, "products"), f"products[{i}]", "a product is a mapping")
        for key in raw:
            if key not in PRODUCT_KEYS:
                raise ScenarioError(path, _line(raw, key), f"products[{i}].{key}", "unknown key")
        if "sku" not in raw or "price" not in raw:
            raise ScenarioError(path, _line(raw), f"products[{i}]", "a product needs sku and price")
        money: dict[str, int] = {}
        for name in ("price", "red_envelope", "cost", "shipping"):
            if raw.get(name) is not None:
                try:
                    money[name] = parse_yuan(raw[name])
                except MoneyError as exc:
                    raise ScenarioError(path, _line(raw, name), f"products[{i}].{name}", str(exc)) from None
        price, envelope = money["price"], money.get("red_envelope")
        costs[str(raw["sku"])] = (money.get("cost", 0), money.get("shipping", 0))
        shop.products.append(Product(str(raw["sku"]), price, bool(raw.get("gift_pack", False)), envelope,
                                     raw.get("name")))
    try:
        new_engine(shop)  # validates every plan config
    except ConfigError as exc:
        raise _config_error(doc, path, exc) from None
    events = _events(doc.get("events") or [], doc, path, tz)
    expect = doc.get("expect")
    if expect is not None and not isinstance(expect, dict):
        raise ScenarioError(path, _line(doc, "expect"), "expect", "a mapping")
    return Scenario(path, str(doc.get("name", Path(path).stem)), shop, events, _to_plain(expect), costs)


def _config_error(doc: dict[str, Any], path: str, exc: ConfigError) -> ScenarioError:
    """Name where an invalid plan config is written: ``config.<key>`` or ``plans.<kind>.<key>``, with its line."""
    key = str(exc.problems[0][0]) if exc.problems else "(config)"
    if "plans" in doc:
        section, prefix = doc["plans"].get(exc.plan), f"plans.{exc.plan}"
        if key == "plan":  # an unknown plan kind
            return ScenarioError(path, _line(doc["plans"], exc.plan), prefix, str(exc))
    elif key == "plan" and "plan" in doc:
        return ScenarioError(path, _line(doc, "plan"), "plan", str(exc))
    else:
        section, prefix = doc.get("config"), "config"
    top = key.split(".")[0]
    line = _line(section, top) if isinstance(section, _Map) and top in section else _line(doc, prefix.split(".")[0])
    return ScenarioError(path, line, f"{prefix}.{key}", str(exc))


def _plans(doc: dict[str, Any], path: str) -> dict[str, dict[str, Any]]:
    given = [k for k in ("plan", "plan_file", "plans") if k in doc]
    if len(given) > 1:
        raise ScenarioError(path, _line(doc, given[1]), given[1], f"give only one of {', '.join(given)}")
    if "plans" in doc:
        if "config" in doc:
            raise ScenarioError(path, _line(doc, "config"), "config", "with `plans:` put each config under its plan")
        plans = doc["plans"]
        if not isinstance(plans, dict):
            raise ScenarioError(path, _line(doc, "plans"), "plans", "a mapping from plan kind to its config")
        return {str(k): _to_plain(v or {}) for k, v in plans.items()}
    config = _to_plain(doc.get("config") or {})
    if "plan_file" in doc:
        base = Path(path).parent
        plan_path = base / str(doc["plan_file"])
        try:
            plan_doc = yaml.safe_load(plan_path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ScenarioError(path, _line(doc, "plan_file"), "plan_file", str(exc).splitlines()[0]) from None
        return load_plan_file_doc(plan_doc, str(plan_path), overrides=config)
    if "plan" not in doc:
        return {}
    return {str(doc["plan"]): config}


def load_plan_file_doc(plan_doc: Any, path: str, overrides: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """A plan file holds ``plan: chain21`` with its keys, or ``plans:`` for several."""
    if not isinstance(plan_doc, dict):
        raise ScenarioError(path, None, "(file)", "a plan file is a mapping")
    if "plans" in plan_doc:
        return {str(k): dict(v or {}) for k, v in plan_doc["plans"].items()}
    if "plan" not in plan_doc:
        raise ScenarioError(path, None, "plan", "a plan file names its plan (`plan: chain21`) or lists `plans:`")
    kind = str(plan_doc["plan"])
    config = {k: v for k, v in plan_doc.items() if k != "plan"}
    config.update(overrides or {})
    return {kind: config}


def _events(raw_events: Any, doc: dict[str, Any], path: str, tz: dt.tzinfo) -> list[ParsedEvent]:
    if not isinstance(raw_events, list):
        raise ScenarioError(path, _line(doc, "events"), "events", "a list of events")
    counters: dict[str, int] = {}
    out: list[ParsedEvent] = []
    event_types = REGISTRY.event_types
    placeholder = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    for index, raw in enumerate(raw_events, start=1):
        line = _line(raw) or _line(doc, "events")
        if not isinstance(raw, dict):
            raise ScenarioError(path, line, f"events[{index}]", "an event is a mapping like {pay: B, sku: GIFT}")
        verbs = [k for k in raw if k in event_types]
        if len(verbs) != 1:
            unknown = [k for k in raw if k not in event_types]
            what = f"unknown event {unknown[0]!r}" if not verbs and unknown else "exactly one verb per event"
            raise ScenarioError(path, line, f"events[{index}]", f"{what}; known: {', '.join(sorted(event_types))}")
        verb = verbs[0]
        cls = event_types[verb]
        counters[verb] = counters.get(verb, 0) + 1
        fields: dict[str, Any] = {}
        at: dt.datetime | None = None
        known = {(f.alias or n) for n, f in cls.model_fields.items()} | set(cls.model_fields)
        for key, value in raw.items():
            if key == verb:
                fields[cls.primary] = value
            elif key == "at":
                try:
                    at = parse_time(value, tz)
                except ValueError as exc:
                    raise ScenarioError(path, _line(raw, key), f"events[{index}].at", str(exc)) from None
            elif key not in known:
                raise ScenarioError(path, _line(raw, key), f"events[{index}].{key}", f"unknown key for {verb}")
            else:
                fields[key] = value
        for name in cls.money_fields:
            if name in fields and fields[name] is not None:
                try:
                    fields[name] = parse_yuan(fields[name])
                except MoneyError as exc:
                    raise ScenarioError(path, _line(raw, name), f"events[{index}].{name}", str(exc)) from None
        if cls.counted_id is not None:
            name, prefix = cls.counted_id
            fields.setdefault(name, f"{prefix}{counters[verb]}")
        try:
            cls(at=placeholder, **fields)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"])
            raise ScenarioError(path, _line(raw, key if key in raw else verb), f"events[{index}].{key}",
                                f"{err['msg']} (got {err.get('input')!r})") from None
        out.append(ParsedEvent(cls, fields, at, line, index))
    return out


# --- replay -------------------------------------------------------------------------------------------------------


@dataclass
class Replay:
    scenario: Scenario
    engine: Engine
    outcomes: list[Any]
    #: One line per applied event that created a draw without a secret in the file: it drew with a random one.
    notes: list[str] = field(default_factory=list)

    def end_state(self) -> dict[str, Any]:
        return end_state(self.engine)


def replay(scenario: Scenario, *, check_invariants: bool = False, check_every: int = 1) -> Replay:
    """Replay in memory. With ``check_invariants`` the invariants are checked after every ``check_every``-th event
    and after the last (checking costs time linear in the ledger, so very long files check less often)."""
    engine = new_engine(scenario.shop)
    outcomes = []
    notes: list[str] = []
    last = len(scenario.events)
    for parsed in scenario.events:
        at = parsed.at if parsed.at is not None else engine.clock + dt.timedelta(seconds=1)
        fields, made = with_secret(parsed)
        outcome = engine.apply(parsed.cls(at=at, **fields))
        outcomes.append(outcome)
        if made is not None and outcome.refusal is None:
            notes.append(f"note: campaign {fields.get('campaign')} has no secret in the file; "
                         f"drew with a random one: {made}")
        if check_invariants and (parsed.index % check_every == 0 or parsed.index == last):
            problems = engine.check_invariants()
            assert not problems, f"after event {parsed.index}: {problems}"
    return Replay(scenario, engine, outcomes, notes)


def with_secret(parsed: ParsedEvent) -> tuple[dict[str, Any], str | None]:
    """The event's fields and the secret made for it: an event that creates a draw without ``params.secret`` gets a
    random one here (the engine makes none and would refuse it), so scenario files without secrets keep working."""
    params = parsed.fields.get("params")
    if not parsed.cls.creates_draw or (isinstance(params, dict) and params.get("secret")):
        return parsed.fields, None
    secret = make_secret()
    return {**parsed.fields, "params": {**(params or {}), "secret": secret}}, secret


def end_state(engine: Engine) -> dict[str, Any]:
    from .engine.core import SALES

    state: dict[str, Any] = {"members": {m: engine.member_view(m) for m in engine.members}, "pools": {}}
    for module in engine.modules.values():
        for key, value in module.end_state(engine).items():
            if isinstance(value, dict) and isinstance(state.get(key), dict):
                state[key].update(value)
            else:
                state[key] = value
    state["platform"] = {
        "sales": format_fen(engine.ledger.balance(SALES)),
        "rewards": format_fen(engine.ledger.rewards_fen()),
    }
    state["refused"] = [{"event": seq, "code": str(r.code), "field": r.field, "reason": r.reason}
                        for seq, r in engine.refused]
    state["draws"] = list(engine.draws)
    problems = engine.ledger.check_invariants()
    state["ledger"] = {"balanced": not problems, "transactions": engine.ledger.count}
    return state


def compare(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Differences between what ``expect`` lists and the end state; keys not listed are not compared."""
    if path == "refused" and isinstance(expected, int) and isinstance(actual, list):
        if expected != len(actual):
            shown = "; ".join(f"#{r['event']} {r['reason']}" for r in actual) or "none"
            return [f"refused: expected {expected} refused events, got {len(actual)} ({shown})"]
        return []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected a mapping, got {actual!r}"]
        diffs: list[str] = []
        for key, value in expected.items():
            sub = f"{path}.{key}" if path else str(key)
            if key not in actual:
                diffs.append(f"{sub}: expected {_show(value)}, but there is no such key")
            else:
                diffs.extend(compare(value, actual[key], sub))
        return diffs
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        diffs = []
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            diffs.extend(compare(e, a, f"{path}[{i}]"))
        return diffs
    if _norm(expected) != _norm(actual):
        return [f"{path}: expected {_show(expected)}, got {_show(actual)}"]
    return []


def _norm(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float, str)):
        return str(value)
    if isinstance(value, list):
        return [_norm(v) for v in value]
    return value


def _show(value: Any) -> str:
    return "null" if value is None else str(value)


# --- the statement ------------------------------------------------------------------------------------------------

#: How an amount of a non-cash unit reads (msgids; ``{number}`` is filled in) and whether the unit counts hundredths
#: (points are held to 0.01 of a point); a unit without an entry reads ``OTHER_UNIT``.
UNIT_NAMES = {"coupon": (gettext_noop("{number} coupons"), False),
              "centipoint": (gettext_noop("{number} points"), True)}
OTHER_UNIT = gettext_noop("{number} {unit}s")


def show_amount(amount: int, unit: str | None, lang: str = "en") -> str:
    """Money as yuan ("12.30"); coupons as a count ("99 coupons"); points with two decimals ("210.00 points")."""
    if unit is None:
        return format_fen(amount)
    text = UNIT_NAMES[unit][0] if unit in UNIT_NAMES else OTHER_UNIT
    return translate(text, lang).format(number=unit_number(amount, unit), unit=unit)


def unit_number(amount: int, unit: str) -> str:
    return format_fen(amount) if UNIT_NAMES.get(unit, ("", False))[1] else str(amount)


def statement_lines(engine: Engine, member: str, lang: str = "en") -> list[str]:
    """One line per entry on the member's accounts, with its cause and the book's balance after it."""
    running: dict[str, int] = {}
    lines = []
    for txn in engine.ledger.for_owner(member):
        for (owner, book), amount in txn.entries:
            if owner != member:
                continue
            running[book] = running.get(book, 0) + amount
            lines.append(describe_entry(engine, txn, member, book, amount, running[book], lang))
    return lines


def describe_entry(engine: Engine, txn: Transaction, member: str, book: str, amount: int, after: int,
                   lang: str = "en") -> str:
    unit = NON_CASH_UNITS.get(book)
    shown = ("+" if amount > 0 else "") + show_amount(amount, unit, lang)
    text = f"{shown} {label(txn.rule, lang)}"
    if txn.reverses is not None:
        text = translate(gettext_noop("{text} reversed"), lang).format(text=text)
    book_name = "" if book == "available" else book_label(book, lang)
    if book_name and txn.rule != "settlement" and unit is None:
        text += f" → {book_name}"
    details = []
    if txn.order:
        buyer = txn.source if txn.source and txn.source != member else None
        if buyer:
            details.append(translate(gettext_noop("order {order} by {buyer}"), lang).format(order=txn.order,
                                                                                               buyer=buyer))
        else:
            details.append(translate(gettext_noop("order {order}"), lang).format(order=txn.order))
    elif txn.ref and txn.rule not in ("settlement",):
        details.append(str(txn.ref))
    if details:
        text += " · " + ", ".join(details)
    remark = note(txn.rule, txn.ref, lang)
    if remark and txn.reverses is None:
        text += f" ({remark})"
    when = txn.at.astimezone(engine.tz).strftime("%Y-%m-%d %H:%M:%S") if txn.at else ""
    after_text = unit_number(after, unit) if unit else format_fen(after)
    return f"{when}  {text}  [{book_name or book_label('available', lang)} {after_text}]"
