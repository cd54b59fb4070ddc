"""``python -m service.cli``: the ``finmatch`` command."""

from service.cli import app

app()
