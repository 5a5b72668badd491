"""The operators' back office at ``/office/`` (docs/office.md): its own login (limited like every login form),
roles as Django groups, one decorator for who may open a page and act on it (``access.office_view``), one helper
through which every action logs its event and its audit row (``audit.office_act``), and the pages."""
