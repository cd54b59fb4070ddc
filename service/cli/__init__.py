"""The ``finmatch`` command (``finmatch = "service.cli:app"``): the app and its commands in the
order ``finmatch --help`` lists them. Each command group is a module of its own:

- ``database``   migrate, seed; ``run_migrations`` for tests, benchmarks and scripts
- ``processes``  serve (the API with uvicorn), worker (the job queue)
- ``library``    synth (a synthetic library), enterprises import, projects import
- ``matching``   match (recompute the stored matches)
- ``keys``       keys create, list, revoke
- ``users``      users invite (a deployment's first people)
- ``leads``      leads check-deadlines
- ``lists``      lists import, releases publish
- ``loans``      reminders run, loans import
- ``common``     the console, dated runs (--as-of, --simulate), refusals and their exit codes

The commands act as the system (the office, without a key); their work is the use cases'."""

import typer

from service.cli import (
    database,
    keys,
    leads,
    library,
    lists,
    loans,
    matching,
    processes,
    requests,
    users,
)
from service.cli.database import run_migrations

app = typer.Typer(help="FinMatch 银企融资对接服务", no_args_is_help=True, add_completion=False)
for command in (
    database.migrate,
    database.seed,
    processes.serve,
    library.synth,
    matching.match,
    processes.worker,
):
    app.command()(command)
for name, group in (
    ("keys", keys.keys_app),
    ("users", users.users_app),
    ("leads", leads.leads_app),
    ("requests", requests.requests_app),
    ("lists", lists.lists_app),
    ("releases", lists.releases_app),
    ("reminders", loans.reminders_app),
    ("loans", loans.loans_app),
    ("enterprises", library.enterprises_app),
    ("projects", library.projects_app),
):
    app.add_typer(group, name=name)

__all__ = ["app", "run_migrations"]
