"""What the back office's campaign pages read: the campaigns as the worker projects them (``CampaignState.view``,
drafts included), each kind's parameters as its module declares them (the form's fields), and, for one campaign's
parameters, what the audit's probes say (``sim/lottery.py``: the largest prize against the 50,000-yuan cap, the odds
members are told against the odds the engine's draws realise, rules frozen once published) and what members will see
(the campaign as the engine would show it once published, from a probe shop on the shop's products).

Nothing here computes a reward or writes: the figures are the engine's (in the worker, or in the probe shop's own
engine), the money strings are the engine's ``format_fen``.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from fractions import Fraction
from types import SimpleNamespace
from typing import Any, cast, get_args

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ...engine.campaigns.base import CampaignModule, CampaignParams, DrawProbe, parse_params
from ...engine.config_types import Rate, Yuan
from ...engine.errors import Refusal
from ...engine.money import format_fen, format_rate
from ...engine.registry import REGISTRY
from ...service.store.models import CampaignState, MemberState, ProductState
from ...sim.audit import Check, Evidence, draw_odds, frozen_rules, lottery_prize
from ...sim.lottery import DRAWS, CampaignProbe, probe_campaigns, secret_for
from ...sim.planfile import PlanSpec
from ...sim.preset import Preset
from ...sim.probes import ProbeShop
from ..api.events import public_view
from . import reads
from .param_labels import label_of

#: The campaign kinds, in the order the pages list them.
KINDS = ("group_buy", "red_envelope", "presale", "blind_box")
#: A campaign's statuses in the engine (``Campaign.status``).
STATUSES = ("draft", "open", "closed")
#: The operator's create verb of each kind. A blind box has none: a member's ``start_blind_box`` creates it.
CREATE_VERBS = {"group_buy": "create_group_buy", "red_envelope": "create_red_envelope", "presale": "create_presale"}
#: The operator's close verb of each kind (the modules' verbs with sender ``operator``). A pre-sale closes by the
#: clock (its deadline) or at its target; a blind box when its prize is found: neither has a close verb.
CLOSE_VERBS = {"group_buy": "close_group_buy", "red_envelope": "close_red_envelope"}
GROUP_KINDS = ("group_buy", "red_envelope")
#: Parameters the form never shows: the draw's secret is made by the service when the event is logged.
HIDDEN_PARAMS = ("secret",)
#: What one probe may cost: draws x (seats of a group, or the window's last box of a set). Measured in a request on
#: the shared 2-core machine: 400 groups of 5 0.40 s, 400 sets of 24 boxes 0.55 s, 200 groups of 100 1.03 s,
#: 40 sets of 1000 boxes 2.61 s; so at most 400 draws and about 10,000 seats or boxes (0.5 s to 1.3 s).
PROBE_BUDGET = 10_000
MIN_DRAWS = 20
PAGE_SIZE = 50

_YUAN_FUNC = get_args(Yuan)[1].func
_RATE_FUNC = get_args(Rate)[1].func


def params_model(kind: str) -> type[CampaignParams]:
    module = REGISTRY.campaigns[kind]
    assert issubclass(module, CampaignModule), kind
    return module.Params


# --- the form's fields ----------------------------------------------------------------------------------------------


@dataclass
class ParamField:
    """One parameter as the form shows it. ``kind``: money, rate, fund (``price`` or an amount), int, bool, text
    (an id: a product's sku), datetime (in the shop's zone)."""

    name: str
    kind: str
    required: bool
    default: str
    minimum: int | None = None
    maximum: int | None = None
    value: str = ""
    error: str = ""
    label: Any = ""  # in the page's language (``param_labels``)
    help: Any = ""


def _validator_funcs(info: Any) -> set[Any]:
    found = {getattr(m, "func", None) for m in info.metadata}
    for arg in get_args(info.annotation):
        found |= {getattr(m, "func", None) for m in getattr(arg, "__metadata__", ())}
    return found


def _shown_default(kind: str, default: Any) -> str:
    if default is None or repr(default) == "PydanticUndefined":
        return ""
    if kind == "money":
        return format_fen(default) if isinstance(default, int) else str(default)
    if kind == "rate":
        return format_rate(default) if isinstance(default, Fraction) else str(default)
    if kind == "bool":
        return "true" if default else ""
    return str(default)


def param_fields(kind: str) -> list[ParamField]:
    """The kind's parameters, from its module's ``Params`` model, in its order (the secret left out)."""
    fields = []
    for name, info in params_model(kind).model_fields.items():
        if name in HIDDEN_PARAMS:
            continue
        funcs = _validator_funcs(info)
        if _YUAN_FUNC in funcs:
            shown = "money"
        elif _RATE_FUNC in funcs:
            shown = "rate"
        elif name == "winner_fund":
            shown = "fund"
        elif info.annotation is bool:
            shown = "bool"
        elif info.annotation is int:
            shown = "int"
        elif "datetime" in str(info.annotation).lower():
            shown = "datetime"
        else:
            shown = "text"
        bounds = {type(m).__name__: getattr(m, type(m).__name__.lower(), None) for m in info.metadata}
        label, help_text = label_of(name)
        fields.append(ParamField(name, shown, info.is_required(), _shown_default(shown, info.default),
                                 bounds.get("Ge"), bounds.get("Le"), label=label, help=help_text))
    return fields


def form_value(param: ParamField, published: Any, tz: dt.tzinfo) -> str:
    """A parameter as the engine's view shows it (money and rates already strings), as the form's input holds it."""
    if published is None:
        return ""
    if param.kind == "bool":
        return "true" if published else ""
    if param.kind == "datetime":
        return dt.datetime.fromisoformat(str(published)).astimezone(tz).strftime("%Y-%m-%dT%H:%M")
    return str(published)


@dataclass
class ParsedForm:
    """What a posted form asks for: the parameters to log (blank ones left out), or the first bad one."""

    params: dict[str, Any]
    fields: list[ParamField]
    error: tuple[str, str, str] | None = None  # (field, value, why)


def read_form(kind: str, data: Any, tz: dt.tzinfo) -> ParsedForm:
    """The posted parameters of ``kind``: strings as typed (money and rates go through the engine's own parser when
    the model validates them), a checkbox as a bool, a time in the shop's zone as ISO with its offset. A blank field
    is left out (a new campaign gets the rulebook's default; a draft keeps its value)."""
    fields = param_fields(kind)
    params: dict[str, Any] = {}
    for param in fields:
        raw = str(data.get(param.name, "")).strip()
        param.value = raw
        if param.kind == "bool":
            params[param.name] = raw in ("true", "on", "1")
            param.value = "true" if params[param.name] else ""
        elif not raw:
            continue
        elif param.kind == "datetime":
            try:
                moment = dt.datetime.fromisoformat(raw)
            except ValueError:
                return ParsedForm(params, fields, (param.name, raw, "not a date and time (YYYY-MM-DDTHH:MM)"))
            params[param.name] = (moment if moment.tzinfo else moment.replace(tzinfo=tz)).isoformat()
        else:
            params[param.name] = raw
    return ParsedForm(params, fields)


def refusal_of(kind: str, params: dict[str, Any], lang: str) -> tuple[str, str, str] | None:
    """The engine's verdict on the parameters (``parse_params``: the refusal names the key and the value), in
    ``lang``."""
    parsed = parse_params(params_model(kind), params)
    if isinstance(parsed, Refusal):
        return (parsed.field.removeprefix("params.").split(".")[0], "" if parsed.value is None else str(parsed.value),
                parsed.message(lang))
    return None


# --- the list ---------------------------------------------------------------------------------------------------------


def campaigns(kind: str | None, status: str | None) -> QuerySet[CampaignState]:
    rows = CampaignState.objects.all()
    if kind:
        rows = rows.filter(kind=kind)
    if status:
        rows = rows.filter(status=status)
    return rows


def paid_out(kind: str, view: dict[str, Any]) -> list[tuple[str, str]]:
    """What the campaign paid members, each as the engine's view counts it (what, amount): never summed here."""
    if kind in GROUP_KINDS:
        return sorted((view.get("paid_out") or {}).items())
    if kind == "presale":
        figures = view.get("figures") or {}
        return [(k, figures[k]) for k in ("rebates", "returned_free") if figures.get(k) is not None]
    if kind == "blind_box":
        return [(k, view[k]) for k in ("starter_income", "promotion_paid") if view.get(k) is not None]
    return []


def participants(kind: str, view: dict[str, Any]) -> int:
    """How many take part: seats taken in all the campaign's groups, a pre-sale's participants, boxes opened."""
    if kind in GROUP_KINDS:
        return sum(len(g.get("members", ())) for g in view.get("group_views", ()))
    if kind == "presale":
        return int(view.get("participants") or 0)
    return int(view.get("opened") or 0)


def expiry(kind: str, view: dict[str, Any], tz: dt.tzinfo) -> dict[str, Any]:
    params = view.get("params", {})
    if kind in GROUP_KINDS:
        return {"hours": params.get("expire_hours")}
    if kind == "presale" and params.get("deadline"):
        return {"deadline": dt.datetime.fromisoformat(params["deadline"]).astimezone(tz)}
    return {}


def listed(row: CampaignState, tz: dt.tzinfo) -> dict[str, Any]:
    view = row.view
    params = view.get("params", {})
    return {"id": row.campaign, "row": row.pk, "kind": row.kind, "status": row.status,
            "sku": params.get("sku") or params.get("prize_sku"), "escrow": view.get("escrow"),
            "paid_out": paid_out(row.kind, view), "participants": participants(row.kind, view),
            "expiry": expiry(row.kind, view, tz)}


# --- one campaign -----------------------------------------------------------------------------------------------------


def campaign_row(campaign: str) -> CampaignState | None:
    return CampaignState.objects.filter(campaign=campaign).first()


def campaign_snapshot(campaign: str) -> dict[str, Any] | None:
    """The campaign as the audit row keeps it: the engine's operator view (no secret: the engine's view has none
    until the close), or None before it exists."""
    row = campaign_row(campaign)
    return None if row is None else {"kind": row.kind, "status": row.status, **row.view}


def refunds(kind: str, view: dict[str, Any]) -> list[dict[str, Any]]:
    """Refunds made: a group's seats won then refunded, a box set refunded, a pre-sale's refunded sales."""
    if kind in GROUP_KINDS:
        return [{"group": g["group"], "member": m} for g in view.get("group_views", ())
                for m, outcome in (g.get("outcomes") or {}).items() if outcome == "refunded"]
    if kind == "blind_box" and view.get("outcome") == "refunded":
        return [{"member": view.get("starter"), "order": view.get("start_order")}]
    if kind == "presale":
        amount = (view.get("figures") or {}).get("refunded")
        return [{"amount": amount}] if amount and amount != "0.00" else []
    return []


def presale_entries(campaign: str, limit: int = 200) -> list[tuple[str, dict[str, Any]]]:
    """A pre-sale's entries, from each member's read (``presales.<campaign>``), in join order."""
    rows = MemberState.objects.filter(view__presales__has_key=campaign).order_by("join_index")[:limit]
    return [(row.member, row.view["presales"][campaign]) for row in rows]


# --- the audit's checks and the preview -----------------------------------------------------------------------------


def shop_preset() -> Preset | None:
    """A probe shop's preset: the shop's active products at their prices now, its zone, today. None: no products."""
    products = [{"sku": p.sku, "price": format_fen(p.price), "gift_pack": p.gift_pack,
                 "red_envelope": None if p.red_envelope is None else format_fen(p.red_envelope)}
                for p in ProductState.objects.filter(active=True).order_by("sku")]
    if not products:
        return None
    tz = reads.shop_tz()
    first = products[0]["sku"]
    return Preset.model_validate({"products": products, "timezone": str(tz), "start": dt.datetime.now(tz).date(),
                                  "purchases": {"first_sku": first, "repeat_sku": first}})


def _probe(kind: str) -> DrawProbe:
    module = REGISTRY.campaigns[kind]
    assert issubclass(module, CampaignModule), kind
    probe = module.draw_probe
    assert probe is not None, kind
    return probe()


def draws_for(kind: str, params: dict[str, Any]) -> int:
    """How many groups or sets the probe runs for these parameters within ``PROBE_BUDGET`` (at most the audit's
    400): the work of one is its seats (a red envelope's probe starts groups of 5) or the window's last box."""
    try:
        if kind == "group_buy":
            work = int(params.get("group_size", 5))
        elif kind == "blind_box":
            work = int(params.get("win_to", 24))
        else:
            work = 5
    except (TypeError, ValueError):
        work = 5
    return max(MIN_DRAWS, min(DRAWS, PROBE_BUDGET // max(work, 1)))


@dataclass
class CampaignChecks:
    """The audit's three campaign checks for one campaign's parameters, and how they were found."""

    checks: list[Check] = field(default_factory=list)
    probe: CampaignProbe | None = None
    draws: int = 0
    seconds: float = 0.0
    problem: str = ""  # why the probe could not run (no products; the engine refused the parameters)


def audit_checks(kind: str, params: dict[str, Any]) -> CampaignChecks:
    """Run the audit's probe for this one campaign (``probe_campaigns`` with a single entry) and grade it with the
    audit's own checks (``lottery_prize``, ``draw_odds``, ``frozen_rules``)."""
    preset = shop_preset()
    if preset is None:
        return CampaignChecks(problem=_("The shop has no active product to probe with."))
    plan = PlanSpec("", probe_plans(kind, params), [{"kind": kind, "params": _probe_params(params)}])
    draws = draws_for(kind, params)
    started = time.perf_counter()
    try:
        found = probe_campaigns(plan, preset, draws=draws)[0]
    except (AssertionError, AttributeError, KeyError, TypeError) as exc:  # the probe could not create the campaign
        return CampaignChecks(problem=_("The probe could not run these terms: %(error)s") % {"error": exc})
    seconds = time.perf_counter() - started
    evidence = cast(Evidence, SimpleNamespace(campaigns=[found]))  # these three checks read only the campaigns
    return CampaignChecks([lottery_prize(evidence), draw_odds(evidence), frozen_rules(evidence)], found, draws,
                          seconds)


def probe_plans(kind: str, params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The probe shop's module config: a blind box's probe members are seeded with the coupons a start takes (each
    probe set is started by a new member; the shop's own seeding decides who may start one, not the terms)."""
    if kind != "blind_box":
        return {}
    try:
        needed = int(params.get("start_coupons", 0))
    except (TypeError, ValueError):
        needed = 0
    return {"blind_box": {"seed_coupons": max(needed, 100)}}


def _probe_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in HIDDEN_PARAMS and v is not None}


def preview_view(kind: str, params: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The campaign as members will see it once published (its public view, as the engine makes it), created and
    published in a probe shop on the shop's products now; or None and the engine's refusal."""
    preset = shop_preset()
    if preset is None:
        return None, _("the shop has no active product")
    shop = ProbeShop(PlanSpec("", probe_plans(kind, params), []), preset)
    probe = _probe(kind)
    if not probe.create(shop, {"kind": kind, "params": _probe_params(params)}, "preview",
                        secret_for(preset.seed, "preview")):
        return None, shop.last_refusal.reason if shop.last_refusal else ""
    module: Any = shop.engine.modules[kind]
    view: dict[str, Any] = module.campaign_view(shop.engine, module.campaigns["preview"])
    return public_view(kind, view), ""
