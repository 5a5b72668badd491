"""What the plan settings pages read and how their form maps onto a plan's config.

A plan's config is its config model's keys (``reads.normalised_config``: every key, defaults filled in, money and
rates as strings). The form has one input per key: a scalar (``c.<key>``), each key of a mapping of scalars one level
down (``c.<key>.<sub>``, as ``direct_reward.agent``), and anything deeper, or a key now unset, as JSON
(``j.<key>``: member groups' ``groups``, ``skus`` as ``["GIFT"]``). ``proposed_config`` reads the form over the
current config and validates it with the plan's own model (the API's ``validate_config``); ``changes`` lists each
changed key as (key, old, new), a mapping's keys one by one. The versions are the API's (``reads.plan_versions``:
1 is the shop's initial config, then each applied ``configure_plan``), each with its changes against the one before
and who made it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from ...engine.module import ConfigError, validate_config
from ...engine.registry import REGISTRY
from ...service.store.models import ShopSetup
from ..accounts.models import AuditLog
from ..api import reads as api_reads

Scalar = str | int | float | bool | None
#: Config keys the form leaves out: ``plan`` only lets a plan file name its plan.
HIDDEN_KEYS = frozenset({"plan"})


def setup_plans() -> list[str]:
    """The plans (and configurable modules) the shop's setup names, in the order the worker's engine runs them
    (``ShopSetup.plans`` as the database returns it)."""
    setup = ShopSetup.objects.first()
    return [kind for kind in (setup.plans if setup else {}) if REGISTRY.configurable(kind) is not None]


def configurable_plans() -> list[str]:
    """The plans of ``setup_plans`` as the pages list them: in the registry's order, then the modules by name (a
    JSON column does not keep the order of its keys on PostgreSQL)."""
    named = setup_plans()
    order = {kind: i for i, kind in enumerate(REGISTRY.plans)}
    return sorted(named, key=lambda kind: (order.get(kind, len(order)), kind))


def versions(kind: str) -> list[dict[str, Any]]:
    """Every version of the plan's config, oldest first (read from the database, never memoised: a POST reads
    it again after its event applied)."""
    return api_reads._plan_versions(kind)


def current(kind: str) -> dict[str, Any]:
    latest = versions(kind)[-1]
    return {"plan": kind, "version": latest["version"], "config": latest["config"]}


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


@dataclass(frozen=True)
class FormField:
    """One input of the form: its name, the config key it sets (``a`` or ``a.b``), the current value, the value
    shown, and its kind (``text``, ``bool``, ``json``)."""

    name: str
    key: str
    current: Any
    shown: str
    kind: str


def shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if _scalar(value):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def form_fields(config: dict[str, Any], values: dict[str, Any] | None = None) -> list[FormField]:
    """The form's inputs for ``config`` (the current one), showing ``values`` (a proposal's) where given."""
    shown_config = values if values is not None else config
    fields = []
    for key, value in config.items():
        if key in HIDDEN_KEYS:
            continue
        proposed = shown_config.get(key, value)
        if isinstance(value, dict) and value and all(_scalar(v) for v in value.values()):
            for sub, sub_value in value.items():
                p = proposed.get(sub, sub_value) if isinstance(proposed, dict) else sub_value
                fields.append(FormField(f"c.{key}.{sub}", f"{key}.{sub}", sub_value, shown(p),
                                        "bool" if isinstance(sub_value, bool) else "text"))
        elif _scalar(value) and value is not None:
            fields.append(FormField(f"c.{key}", key, value, shown(proposed), "bool" if isinstance(value, bool)
                                    else "text"))
        else:
            fields.append(FormField(f"j.{key}", key, value, shown(proposed), "json"))
    return fields


class FormProblem(ValueError):
    def __init__(self, key: str, value: Any, why: str) -> None:
        super().__init__(f"{key} {value!r}: {why}")
        self.key, self.value, self.why = key, value, why


def _parsed(raw: str, like: Any) -> Any:
    text = raw.strip()
    if isinstance(like, bool):
        return text == "true"
    if text == "":
        return None
    return text


def proposed_config(kind: str, config: dict[str, Any], form: QueryDict) -> dict[str, Any]:
    """The config the form proposes: each input over ``config``, validated with the plan's model and normalised
    (every key, money and rates as strings). A bad value is a ``FormProblem`` naming its key."""
    merged: dict[str, Any] = json.loads(json.dumps(config))
    for f in form_fields(config):
        if f.name not in form:
            continue
        raw = form.get(f.name, "")
        if f.kind == "json":
            try:
                value = json.loads(raw) if raw.strip() else None
            except json.JSONDecodeError as exc:
                raise FormProblem(f.key, raw[:60], f"not JSON: {exc.msg}") from None
            merged[f.key] = value
        elif "." in f.key:
            key, sub = f.key.split(".", 1)
            merged[key][sub] = _parsed(raw, f.current)
        else:
            merged[f.key] = _parsed(raw, f.current)
    if len(json.dumps(merged)) > 20000:
        raise FormProblem("config", "…", "longer than 20,000 characters")
    try:
        model = validate_config(kind, api_reads.module_type(kind).Config, merged)
    except ConfigError as exc:
        key, value, why = exc.problems[0]
        raise FormProblem(str(key), value, why) from None
    out: dict[str, Any] = model.model_dump(mode="json")
    return out


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[list[Any]]:
    """Each key whose value differs, as [key, old, new]; a mapping of scalars key by key (``direct_reward.agent``)."""
    out: list[list[Any]] = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict) and all(_scalar(v) for v in (*a.values(), *b.values())):
            out.extend([f"{key}.{sub}", a.get(sub), b.get(sub)] for sub in sorted(set(a) | set(b))
                       if a.get(sub) != b.get(sub))
        else:
            out.append([key, a, b])
    return out


def shown_changes(found: list[list[Any]]) -> list[tuple[str, str, str]]:
    """Changes as the page shows them: a value as the form shows it (a list or mapping as JSON), unset as "–"."""
    return [(str(key), shown(old) if old is not None else "–", shown(new) if new is not None else "–")
            for key, old, new in found]


def versions_with_changes(kind: str) -> list[dict[str, Any]]:
    """The versions newest first, each with its changes against the version before and who made it (the
    operator's username from the event's actor; its audit row when there is one)."""
    found = versions(kind)
    audited = dict(AuditLog.objects.filter(event_position__in=[v["position"] for v in found if v["position"]])
                   .values_list("event_position", "actor"))
    out = []
    for i, v in enumerate(found):
        actor = str(v["actor"] or "")
        who = audited.get(v["position"]) or (actor.split(":", 1)[1] if actor.startswith("operator:") else actor)
        out.append({**v, "who": who,
                    "changes": shown_changes(changes(found[i - 1]["config"], v["config"])) if i else [],
                    "tz_at": v["at"].astimezone(api_reads.wording_engine().tz) if v["at"] else None})
    return list(reversed(out))


def plan_snapshot(kind: str) -> dict[str, Any]:
    """The plan as the audit row keeps it, before and after: its version and config."""
    return current(kind)
