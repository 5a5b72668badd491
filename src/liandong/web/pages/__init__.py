"""The members' pages: the mobile shop at ``/`` (and the layout the campaign pages and the back office share).

Pages read the worker's projections (``web/api/reads.py``) and act through the REST API: a form is submitted by
``static/liandong/pages.js`` as JSON to its API endpoint, with the session's CSRF token and the Idempotency-Key the
page was rendered with (a double tap, or a retry after a lost answer, is one withdrawal). Nothing here computes money.
"""
