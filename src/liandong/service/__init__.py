"""The worker's side of the service, no HTTP: the event log (``log``), the worker that applies it (``worker``, the
single writer), how a logged event becomes an engine event (``feed``), the projection rows (``projections``), fast
batch writes (``bulk``), ``liandong verify`` (``verify``), the shop file (``shopfile``) and the proof of liabilities
(``liabilities``, the pure tree; ``liability_days``, its rows). The Django app ``store``
holds the tables. ``web/`` sits above this package and never the reverse: it appends events and reads projections.
"""
