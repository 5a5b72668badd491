"""The HTML reports: one self-contained page (plotly's JavaScript inlined, so it opens offline) with the charts.

``simulation_html(doc)`` draws a ``simulate`` JSON document: members by rank; cumulative sales, rewards, margin,
cash and pools with the payout ratio; rewards by kind per day; help funds frozen; the distribution of members' net
results with the share below zero; the Lorenz curve and Gini of rewards; net result by join cohort; the depth of the
invitation graph; and, with several runs, each cumulative series' mean and range. Money arrives as two-decimal
strings and is turned into numbers only to be drawn.
"""

from __future__ import annotations

import html
import itertools
from typing import Any

import plotly.graph_objects as go

from ..engine.labels import label

COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
          "#17becf"]

CSS = """
body{font-family:-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;margin:2rem auto;max-width:1100px;
color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}td,th{border:1px solid #ddd;padding:.3rem .6rem;
text-align:left;vertical-align:top}th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{background:#e6f4ea}.warn{background:#fff4e0}.fail{background:#fde8e8}.muted{color:#666;font-size:.85rem}
code{background:#f5f5f5;padding:0 .2rem}
"""


def yuan(value: str | None) -> float | None:
    """A two-decimal money string as a number to draw (display only; never computed with)."""
    return None if value is None else float(value)


def yuans(values: list[str | None]) -> list[float | None]:
    return [yuan(v) for v in values]


class Page:
    """An HTML page of sections; the first chart carries plotly's JavaScript, the others reuse it."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.parts: list[str] = []
        self._js_included = False

    def heading(self, text: str, note: str = "") -> None:
        self.parts.append(f"<h2>{html.escape(text)}</h2>")
        if note:
            self.parts.append(f'<p class="muted">{html.escape(note)}</p>')

    def raw(self, markup: str) -> None:
        self.parts.append(markup)

    def chart(self, fig: go.Figure, height: int = 420) -> None:
        fig.update_layout(height=height, margin={"l": 60, "r": 60, "t": 50, "b": 50}, template="plotly_white",
                          legend={"orientation": "h", "y": -0.18})
        self.parts.append(fig.to_html(full_html=False, include_plotlyjs=not self._js_included,
                                      config={"displaylogo": False}))
        self._js_included = True

    def table(self, header: list[str], rows: list[list[Any]], classes: list[str] | None = None) -> None:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = []
        for i, row in enumerate(rows):
            cls = f' class="{classes[i]}"' if classes and classes[i] else ""
            cells = "".join(_cell(v) for v in row)
            body.append(f"<tr{cls}>{cells}</tr>")
        self.parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")

    def render(self) -> str:
        return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(self.title)}'
                f"</title><style>{CSS}</style></head><body><h1>{html.escape(self.title)}</h1>"
                + "\n".join(self.parts) + "</body></html>")


def _cell(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<td class="num">{value}</td>'
    text = "—" if value is None else str(value)
    num = text.replace("-", "", 1).replace(".", "", 1).isdigit()
    return f'<td class="num">{html.escape(text)}</td>' if num else f"<td>{html.escape(text)}</td>"


# --- the simulation report --------------------------------------------------------------------------------------


def simulation_html(doc: dict[str, Any]) -> str:
    detail = doc["detail"]
    series = detail["series"]
    page = Page(f"Simulation of {doc['plan']} — preset {doc['preset']['name']}")
    _summary(page, doc)
    days = series["day"]
    _ranks(page, series, days)
    _money(page, series, days)
    _rewards_by_kind(page, series, days)
    _frozen(page, series, days)
    _net_results(page, detail["net_result"])
    _lorenz(page, detail["rewards_concentration"])
    _cohorts(page, detail["cohorts"])
    _depth(page, detail["depth"])
    if len(doc["runs"]) > 1:
        _bands(page, doc["bands"], days)
    page.heading("Inputs")
    page.raw(f"<p>Plans: <code>{html.escape(str(doc['plans']))}</code></p>"
             f"<p>Preset: <code>{html.escape(str(doc['preset']))}</code></p>")
    return page.render()


def _summary(page: Page, doc: dict[str, Any]) -> None:
    totals = doc["detail"]["totals"]
    runs = doc["runs"]
    page.raw(f'<p class="muted">{len(runs)} run(s), seeds {", ".join(str(r["seed"]) for r in runs)}; '
             f"{doc['preset']['days']} days; figures below the table are from the run with seed {runs[0]['seed']}."
             f" Money in yuan. Net result = rewards − what the member spent.</p>")
    rows = [[name, f["mean"], f["min"], f["max"]] for name, f in doc["summary"].items()]
    page.table(["figure", "mean", "min", "max"], rows)
    by_rule = ", ".join(f"{label(rule)} {amount}" for rule, amount in totals["rewards_by_rule"].items())
    page.raw(f"<p>Rewards by kind (first run): {html.escape(by_rule or 'none')}. Refused events: "
             f"{totals['refused']}. Ledger balanced: {totals['ledger_balanced']}.</p>")


def _ranks(page: Page, series: dict[str, Any], days: list[int]) -> None:
    ranks = series.get("ranks") or {}
    page.heading("Members by rank over time", "Members who joined, by their plan rank at each day's close.")
    fig = go.Figure()
    if not ranks:
        fig.add_trace(go.Scatter(x=days, y=series["members"], name="members", mode="lines"))
    for plan, by_rank in ranks.items():
        for i, (rank, counts) in enumerate(by_rank.items()):
            fig.add_trace(go.Scatter(x=days, y=counts, name=f"{plan}: {rank}", mode="lines", stackgroup=plan,
                                     line={"color": COLORS[i % len(COLORS)]}))
    fig.update_layout(xaxis_title="day", yaxis_title="members")
    page.chart(fig)


def _money(page: Page, series: dict[str, Any], days: list[int]) -> None:
    page.heading("Sales, rewards, margin and pools over time (cumulative)",
                 "Margin = sales − product cost and shipping − rewards; cash = sales − costs − withdrawals paid out; "
                 "liabilities = rewards not yet withdrawn. The payout ratio (rewards / sales) is on the right axis.")
    fig = go.Figure()
    for name in ("sales_cum", "rewards_cum", "margin_cum", "cash", "liabilities"):
        fig.add_trace(go.Scatter(x=days, y=yuans(series[name]), name=name.replace("_cum", ""), mode="lines"))
    for name, values in series.items():
        if "." in name and "help_fund" not in name and not name.endswith(("nav", "points_outstanding")):
            fig.add_trace(go.Scatter(x=days, y=yuans(values), name=name, mode="lines", line={"dash": "dot"},
                                     connectgaps=True))
    fig.add_trace(go.Scatter(x=days, y=series["payout_ratio"], name="payout ratio", mode="lines", yaxis="y2",
                             line={"color": "black", "width": 1}))
    fig.update_layout(xaxis_title="day", yaxis_title="yuan",
                      yaxis2={"title": "payout ratio", "overlaying": "y", "side": "right", "rangemode": "tozero"})
    page.chart(fig, 460)


def _rewards_by_kind(page: Page, series: dict[str, Any], days: list[int]) -> None:
    by_rule = series.get("rewards_by_rule") or {}
    page.heading("Rewards by kind per day", "What members were credited each day, less reversals, by ledger rule.")
    fig = go.Figure()
    for i, (rule, values) in enumerate(by_rule.items()):
        fig.add_trace(go.Bar(x=days, y=yuans(values), name=label(rule), marker_color=COLORS[i % len(COLORS)]))
    fig.add_trace(go.Scatter(x=days, y=yuans(series["sales"]), name="sales", mode="lines",
                             line={"color": "black", "width": 1}))
    fig.update_layout(barmode="relative", xaxis_title="day", yaxis_title="yuan per day")
    page.chart(fig)


def _frozen(page: Page, series: dict[str, Any], days: list[int]) -> None:
    frozen = {k: v for k, v in series.items() if k.endswith("help_fund")}
    if not frozen:
        return
    page.heading("Help funds frozen", "The frozen part of partners' rewards, held until all their seeds are partners.")
    fig = go.Figure()
    for name, values in frozen.items():
        fig.add_trace(go.Scatter(x=days, y=yuans(values), name=name, mode="lines", fill="tozeroy", connectgaps=True))
    fig.update_layout(xaxis_title="day", yaxis_title="yuan")
    page.chart(fig, 360)


def _net_results(page: Page, net: dict[str, Any]) -> None:
    share = net.get("share_below_zero")
    page.heading("Members' net results",
                 f"Rewards − spend of the {net['members']} members who spent or earned anything; "
                 f"{_percent(share)} are below zero; median {net.get('quantiles', {}).get('p50', '—')}.")
    edges = [float(e) for e in net["histogram"]["edges"]]
    if not edges:
        return
    centers = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
    widths = [b - a for a, b in itertools.pairwise(edges)]
    colors = ["#d62728" if c < 0 else "#2ca02c" for c in centers]
    fig = go.Figure(go.Bar(x=centers, y=net["histogram"]["counts"], width=widths, marker_color=colors,
                           name="members"))
    fig.add_vline(x=0, line_dash="dash", annotation_text=f"{_percent(share)} below zero")
    fig.update_layout(xaxis_title="net result (yuan)", yaxis_title="members", yaxis_type="log")
    page.chart(fig)


def _lorenz(page: Page, conc: dict[str, Any]) -> None:
    page.heading("Who gets the rewards: Lorenz curve",
                 f"Gini {conc.get('gini')}; the top 1% of members got {_percent(conc.get('top_1pct_share'))} of "
                 f"all rewards, the top 10% {_percent(conc.get('top_10pct_share'))}.")
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], name="equal shares", mode="lines", line={"dash": "dash"}))
    fig.add_trace(go.Scatter(x=conc["lorenz"]["population"], y=conc["lorenz"]["rewards"], name="rewards",
                             mode="lines", fill="tonexty"))
    fig.update_layout(xaxis_title="share of members (least paid first)", yaxis_title="share of rewards")
    page.chart(fig, 420)


def _cohorts(page: Page, cohorts: list[dict[str, Any]]) -> None:
    page.heading("Net result by join cohort (early against late joiners)",
                 "Members grouped by the day they joined; later cohorts had less time, which is the point: a plan "
                 "whose late joiners lose what early joiners win moves money from the late to the early.")
    labels = [f"days {c['joined_from_day']}–{c['joined_to_day']}" for c in cohorts]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=labels, y=[yuan(c["mean_net"]) for c in cohorts], name="mean net result"))
    fig.add_trace(go.Bar(x=labels, y=[yuan(c["median_net"]) for c in cohorts], name="median net result"))
    fig.add_trace(go.Scatter(x=labels, y=[c["share_net_loss"] for c in cohorts], name="share with a net loss",
                             yaxis="y2", mode="lines+markers"))
    fig.update_layout(barmode="group", yaxis_title="yuan",
                      yaxis2={"title": "share with a net loss", "overlaying": "y", "side": "right", "range": [0, 1]})
    page.chart(fig)


def _depth(page: Page, depth: dict[str, Any]) -> None:
    page.heading("Depth of the invitation graph",
                 f"Members by how many referrers are above them; deepest {depth['max']}, mean {depth['mean']}.")
    counts = depth["members_by_depth"]
    fig = go.Figure(go.Bar(x=list(range(len(counts))), y=counts, name="members"))
    fig.update_layout(xaxis_title="depth (0 = joined with no referrer)", yaxis_title="members")
    page.chart(fig, 360)


def _bands(page: Page, band: dict[str, Any], days: list[int]) -> None:
    page.heading("Across runs: mean and range", "Each line is the mean over the runs; the shade spans min to max.")
    fig = go.Figure()
    for i, (name, b) in enumerate(band.items()):
        if name == "members":
            continue
        color = COLORS[i % len(COLORS)]
        fig.add_trace(go.Scatter(x=days, y=yuans(b["max"]), mode="lines", line={"width": 0}, showlegend=False,
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=days, y=yuans(b["min"]), mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor=_fade(color), showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=days, y=yuans(b["mean"]), name=name.replace("_cum", ""), mode="lines",
                                 line={"color": color}))
    fig.update_layout(xaxis_title="day", yaxis_title="yuan")
    page.chart(fig)


def _fade(hex_color: str) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},0.2)"


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"


# --- the audit report -------------------------------------------------------------------------------------------


def audit_html(doc: dict[str, Any]) -> str:
    counts = doc["counts"]
    page = Page(f"Audit of {doc['plan']} — {doc['verdict'].upper()}")
    page.raw(f'<p>{counts["pass"]} pass, {counts["warn"]} warn, {counts["fail"]} fail, {counts["n/a"]} not '
             f"applicable. Simulations: the preset <code>{html.escape(doc['preset']['name'])}</code> over "
             f"{doc['preset']['days']} days (seed {doc['preset']['seed']}), and the same shop with nobody joining from "
             f"day {doc['stall_day']} on. Money in yuan.</p>")
    page.heading("Checks")
    rows = [[c["title"], c["figure"] + (f" — {c['detail']}" if c["detail"] else ""), c["threshold"],
             c["status"].upper(), "; ".join(doc["sources"][s]["short"] for s in c["sources"])] for c in doc["checks"]]
    classes = [c["status"].replace("/", "") for c in doc["checks"]]
    page.table(["check", "figure", "threshold", "status", "source"], rows, classes)
    _audit_charts(page, doc)
    page.heading("Sources")
    items = "".join(f"<li><b>{html.escape(s['short'])}</b> — {html.escape(s['title'])}. {html.escape(s['says'])}</li>"
                    for s in doc["sources"].values())
    page.raw(f"<ul>{items}</ul>")
    page.heading("Inputs")
    page.raw(f"<p>Plans: <code>{html.escape(str(doc['plans']))}</code></p>"
             f"<p>Campaigns: <code>{html.escape(str(doc['campaigns']))}</code></p>"
             f"<p>Preset: <code>{html.escape(str(doc['preset']))}</code></p>")
    return page.render()


def _audit_charts(page: Page, doc: dict[str, Any]) -> None:
    page.heading("Growth against a growth stall",
                 f"Cumulative margin (sales − costs − rewards − pools) and what is owed to members, with nobody "
                 f"joining from day {doc['stall_day']} on (dashed) and without.")
    fig = go.Figure()
    for run, dash in (("growth", "solid"), ("stall", "dash")):
        s = doc["series"][run]
        for name in ("margin_cum", "liabilities", "cash"):
            fig.add_trace(go.Scatter(x=s["day"], y=yuans(s[name]), name=f"{name.replace('_cum', '')} ({run})",
                                     mode="lines", line={"dash": dash}))
    fig.add_vline(x=doc["stall_day"], line_dash="dot", annotation_text="stall")
    fig.update_layout(xaxis_title="day", yaxis_title="yuan")
    page.chart(fig)
    ages = doc["growth"]["ages"]
    labels = [f"{age} days" for age in ages]
    page.heading("Entry buyers with a net loss, by days since joining")
    fig = go.Figure(go.Bar(x=labels, y=[ages[a]["entry_buyers"]["share_net_loss"] for a in ages],
                           name="share with a net loss"))
    fig.update_layout(yaxis={"range": [0, 1], "title": "share of entry buyers"})
    page.chart(fig, 320)
    levels = doc["growth"]["classification"]["rewards_by_level"]
    page.heading("Where rewards go on the invitation graph",
                 "Level 0: the buyer itself; 1: its referrer; 2 and up: further up; pooled: shares of a pool.")
    fig = go.Figure(go.Bar(x=list(levels), y=yuans(list(levels.values())), name="rewards"))
    fig.update_layout(xaxis_title="paid level", yaxis_title="yuan")
    page.chart(fig, 320)
