"""What every campaign shares: published, frozen parameters; a commitment to its draw; an escrow; a lifecycle.

A campaign is created by its kind's event (``create_group_buy``, ``create_presale``, …) with an id and its
parameters. Unless created with ``publish: false`` (a draft) it is published at once: from then on its parameters are
frozen and shown to every member before they pay, with the commitment ``sha256(secret)`` of its draw. A draft can be
changed with ``update_campaign`` (unless its kind's ``check_update`` refuses: a box set's start is paid under its
terms) and published with ``publish_campaign``; both are refused, with the reason, once it is published. Money
members pay in waits in the campaign's escrow account ``("@escrow", id)`` until the draw; a closed campaign's escrow
is zero (checked as an invariant).

Lifecycle: draft -> published (open) -> closed (drawn, expired, or ended). ``CampaignModule`` keeps each kind's
campaigns; ``find_campaign`` finds one by id across kinds, so the generic verbs work for every kind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..draw import commitment
from ..errors import Code, Refusal, refuse
from ..events import Event, ObjectId, register_event
from ..ledger import Account
from ..module import Module, Verb
from ..money import format_fen

if TYPE_CHECKING:
    from ..core import Engine

CAMPAIGN_EXPENSE: Account = ("@platform", "campaign_expense")


def escrow(campaign_id: str) -> Account:
    return ("@escrow", campaign_id)


class CampaignParams(BaseModel):
    """Base of every campaign's parameters. ``secret`` (64 hex) makes a scenario's draw reproducible."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    plans_apply: bool = False
    secret: str | None = Field(None, pattern=r"^[0-9a-fA-F]{64}$")


@dataclass(slots=True)
class Campaign:
    id: str
    kind: str
    params: CampaignParams
    created_at: dt.datetime
    status: str = "draft"  # draft, open, closed
    secret: str = ""
    commitment: str = ""
    published_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    state: dict[str, Any] = field(default_factory=dict)  # the kind's own state (groups, counts, …)

    @property
    def frozen(self) -> bool:
        return self.status != "draft"

    def public(self) -> dict[str, Any]:
        """What every member sees before paying: the rules, the commitment, and (once closed) the secret."""
        params = self.params.model_dump(mode="json", exclude={"secret"})
        return {
            "id": self.id, "kind": self.kind, "status": self.status, "params": params,
            "commitment": self.commitment, "secret": self.secret if self.status == "closed" else None,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
        }


class ProbeDriver(Protocol):
    """The audit's probe shop as a draw probe drives it (``sim.probes.ProbeShop``): events by verb, on its clock."""

    engine: Engine

    def do(self, verb: str, **fields: Any) -> bool: ...

    def join(self, member: str, referrer: str | None = None) -> str: ...


@dataclass
class DrawTally:
    """What a draw probe saw of one campaign entry: its largest prize and, over ``draws`` draws, either each
    seat's wins against ``chance`` (what members were told: winners / size) or how often the prize lay at each box
    of the disclosed window (``window_counts``; ``outside``: found outside it). ``frozen_change`` is a change to the
    published rules that the engine must refuse, tried on ``frozen_campaign``."""

    largest_prize: int  # fen
    prize_what: str
    draws: int = 0
    seat_wins: list[int] | None = None
    chance: float = 0.0
    window_counts: list[int] | None = None
    outside: int = 0
    disclosed: str = ""
    realised: str = ""
    frozen_campaign: str | None = None
    frozen_change: dict[str, Any] = field(default_factory=dict)


class DrawProbe:
    """How the audit probes one kind's campaigns (a campaign module's ``draw_probe``): ``create`` one from a plan
    file's entry (``{kind, params, start, disclosed}``), ``check`` what creating alone does not exercise, and ``run``
    many draws through the engine. The statistics over the tally are the simulator's (``sim/lottery.py``)."""

    kind: ClassVar[str] = ""  # the module's kind
    create_verb: ClassVar[str] = ""

    @staticmethod
    def params(entry: dict[str, Any], secret: str) -> dict[str, Any]:
        """The entry's published params with ``secret`` for the draw."""
        return {**entry.get("params", {}), "secret": secret}

    def create(self, shop: ProbeDriver, entry: dict[str, Any], cid: str, secret: str) -> bool:
        """Create (and publish) a campaign of the entry, with ``secret`` for its draw."""
        return shop.do(self.create_verb, campaign=cid, params=self.params(entry, secret))

    def check(self, shop: ProbeDriver, entry: dict[str, Any], cid: str) -> bool:
        """After ``create``: what else the entry must allow (a red envelope's group start). True when nothing."""
        return True

    def run(self, shop: ProbeDriver, entry: dict[str, Any], cid: str, draws: int,
            secret: Callable[[str], str]) -> DrawTally:
        raise NotImplementedError


class CampaignModule(Module):
    """Base of the four campaign modules. Subclasses set ``kind``, ``Params`` and their events' handlers."""

    Params: ClassVar[type[CampaignParams]] = CampaignParams
    always_on: ClassVar[bool] = True
    #: paths in ``campaign_view`` that only operators see (``groups.*.invite_code``): the public API drops them
    private_keys: ClassVar[tuple[str, ...]] = ()
    #: how the audit probes this kind's prizes, odds and frozen rules (``sim/lottery.py``); None: not probed
    draw_probe: ClassVar[type[DrawProbe] | None] = None
    #: a campaign's money waits in its escrow (``@escrow/<id>``); the platform pays bonuses, funds and envelopes
    accounts: ClassVar[tuple[tuple[str, str], ...]] = (("@escrow", "*"), CAMPAIGN_EXPENSE, ("@external", "payments"),
                                                       ("@platform", "sales"))

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.campaigns: dict[str, Campaign] = {}
        self.draw_records: dict[str, list[dict[str, Any]]] = {}  # campaign -> its published draw records

    def publish_draw(self, engine: Engine, campaign: Campaign, record: dict[str, Any]) -> None:
        """A draw is done: its record is published (``replay --json`` ``draws``, the campaign's page)."""
        engine.draws.append(record)
        self.draw_records.setdefault(campaign.id, []).append(record)

    def create(self, engine: Engine, campaign_id: str, params: CampaignParams, publish: bool) -> Campaign:
        assert params.secret, f"campaign {campaign_id}: the engine refuses a draw without a secret (secret_missing)"
        secret = params.secret.lower()
        c = Campaign(campaign_id, self.kind, params, engine.clock, secret=secret, commitment=commitment(secret))
        self.campaigns[campaign_id] = c
        if publish:
            self.publish(engine, c)
        return c

    def publish(self, engine: Engine, campaign: Campaign) -> None:
        campaign.status = "open"
        campaign.published_at = engine.clock
        engine.fact("campaign_published", campaign=campaign.id, kind=self.kind, commitment=campaign.commitment)

    def close(self, engine: Engine, campaign: Campaign) -> None:
        campaign.status = "closed"
        campaign.closed_at = engine.clock
        engine.fact("campaign_closed", campaign=campaign.id, kind=self.kind)

    def on_published(self, engine: Engine, campaign: Campaign) -> None:
        """Called after publishing (e.g. a blind box fixes its prize position)."""

    def check_publish(self, engine: Engine, campaign: Campaign) -> Refusal | None:
        """Whether a draft may be published now (e.g. its product still exists). Reads only."""
        return None

    def check_update(self, engine: Engine, campaign: Campaign) -> Refusal | None:
        """Whether a draft's parameters may still change (e.g. not once money moved under them). Reads only."""
        return None

    def check_invariants(self, engine: Engine) -> list[str]:
        problems = []
        for c in self.campaigns.values():
            held = engine.ledger.balances.get(escrow(c.id), 0)
            if held < 0:
                problems.append(f"campaign {c.id}'s escrow is below zero: {format_fen(held)}")
            if c.status == "closed" and held != 0:
                problems.append(f"closed campaign {c.id} still holds {format_fen(held)} in escrow")
        return problems

    def end_state(self, engine: Engine) -> dict[str, Any]:
        return {"campaigns": {c.id: self.campaign_view(engine, c) for c in self.campaigns.values()}}

    def campaign_view(self, engine: Engine, campaign: Campaign) -> dict[str, Any]:
        """A campaign in ``replay --json`` and on its page; subclasses add their state."""
        view = campaign.public()
        view["escrow"] = format_fen(engine.ledger.balances.get(escrow(campaign.id), 0))
        view["draws"] = list(self.draw_records.get(campaign.id, ()))
        return view


def find_campaign(engine: Engine, campaign_id: str) -> tuple[CampaignModule, Campaign] | None:
    for module in engine.modules.values():
        if isinstance(module, CampaignModule) and campaign_id in module.campaigns:
            return module, module.campaigns[campaign_id]
    return None


def check_new_campaign_id(engine: Engine, campaign_id: str) -> Refusal | None:
    if find_campaign(engine, campaign_id) is not None:
        return refuse(Code.EXISTS, "campaign", campaign_id)
    return None


def parse_new_campaign(
    engine: Engine, campaign_id: str, model: type[CampaignParams], raw: dict[str, Any]
) -> CampaignParams | Refusal:
    """A new campaign: its id must be free and its parameters valid. The parsed parameters, or the refusal."""
    refusal = check_new_campaign_id(engine, campaign_id)
    return refusal if refusal is not None else parse_params(model, raw)


def parse_params(model: type[CampaignParams], raw: dict[str, Any]) -> CampaignParams | Refusal:
    """Validate parameters; an invalid one is refused naming the key and the value."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "params"
        value = raw.get(str(err["loc"][0])) if err["loc"] else raw
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        return refuse(Code.INVALID, f"params.{key}", value, why=msg)


@register_event
class UpdateCampaign(Event):
    """Change a draft campaign's parameters (refused once it is published: rules freeze)."""

    verb: ClassVar[str] = "update_campaign"
    primary: ClassVar[str] = "campaign"
    campaign: ObjectId
    params: dict[str, Any]


@register_event
class PublishCampaign(Event):
    """Publish a draft: its parameters and the commitment of its draw are shown, and frozen from now on."""

    verb: ClassVar[str] = "publish_campaign"
    primary: ClassVar[str] = "campaign"
    campaign: ObjectId


def check_update_campaign(engine: Engine, event: UpdateCampaign) -> Refusal | None:
    found = find_campaign(engine, event.campaign)
    if found is None:
        return refuse(Code.NOT_FOUND, "campaign", event.campaign)
    module, c = found
    if c.frozen:
        return refuse(Code.FROZEN, "campaign", event.campaign,
                      why="its rules were published and cannot change")
    refusal = module.check_update(engine, c)
    if refusal is not None:
        return refusal
    merged = {**c.params.model_dump(), **event.params}
    parsed = parse_params(type(module).Params, merged)
    return parsed if isinstance(parsed, Refusal) else None


def apply_update_campaign(engine: Engine, event: UpdateCampaign) -> None:
    found = find_campaign(engine, event.campaign)
    assert found is not None
    module, c = found
    parsed = parse_params(type(module).Params, {**c.params.model_dump(), **event.params})
    assert not isinstance(parsed, Refusal)
    c.params = parsed
    if parsed.secret:
        c.secret, c.commitment = parsed.secret.lower(), commitment(parsed.secret.lower())


def check_publish_campaign(engine: Engine, event: PublishCampaign) -> Refusal | None:
    found = find_campaign(engine, event.campaign)
    if found is None:
        return refuse(Code.NOT_FOUND, "campaign", event.campaign)
    if found[1].frozen:
        return refuse(Code.FROZEN, "campaign", event.campaign, why="it is already published")
    return found[0].check_publish(engine, found[1])


def apply_publish_campaign(engine: Engine, event: PublishCampaign) -> None:
    found = find_campaign(engine, event.campaign)
    assert found is not None
    module, c = found
    module.publish(engine, c)
    module.on_published(engine, c)


class CampaignLifecycle(Module):
    """Serves the verbs every campaign kind shares: a draft's update and its publishing."""

    kind: ClassVar[str] = "campaigns"
    always_on: ClassVar[bool] = True


CampaignLifecycle.verbs = (
    Verb(UpdateCampaign, check_update_campaign, apply_update_campaign, senders=("operator",),
         permission="run_campaigns", example={"campaign": "gb-spring", "params": {"winners": 1}}),
    Verb(PublishCampaign, check_publish_campaign, apply_publish_campaign, senders=("operator",),
         permission="run_campaigns", example={"campaign": "gb-spring"}),
)
