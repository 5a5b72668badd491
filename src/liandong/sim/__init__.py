"""The simulator and the audit: the same engine, in memory, fed by a growth model; metrics; reports; checks.

``liandong simulate PLAN_FILE`` grows a synthetic shop day by day (``growth.py``: Bass diffusion with a market that
saturates, recruits per member, purchases, refunds, churn, withdrawals), feeds every event to ``Engine.apply``
(``runner.py``), collects daily series and end distributions (``metrics.py``) and writes JSON and an HTML report
with charts (``report.py``). ``liandong audit PLAN_FILE`` runs a normal growth and a growth stall plus attack
probes (``probes.py``) and grades each check against a cited threshold (``audit.py``).

Plans plug in through ``plans.py``: one adapter per plan kind says what its ranks are and where its pools and
frozen balances live; every other figure is read from the engine's ledger and orders, whatever the plan.
"""
