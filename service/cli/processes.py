"""Commands that run until stopped: ``serve`` (the API with uvicorn, believing forwarded
headers only from the proxies named in the settings) and ``worker`` (the job queue; any number
of workers may run at once, each job runs once)."""

from typing import Annotated

import typer

from service.cli.common import console


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development)")] = False,
) -> None:
    """Serve the API with uvicorn."""
    import uvicorn

    from service.core.settings import get_settings

    uvicorn.run(
        "service.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        proxy_headers=True,
        # Only these proxies' X-Forwarded-Proto/-For are believed (the pages' cookies are
        # Secure when the proxy says the request came over https).
        forwarded_allow_ips=get_settings().forwarded_allow_ips,
    )


def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Run what is due, then exit (for cron or a check)")
    ] = False,
    poll: Annotated[float, typer.Option(help="Seconds between polls of an empty queue")] = 2.0,
) -> None:
    """Run queued jobs (rematching after changes …) until stopped (SIGTERM or Ctrl-C).
    Any number of workers may run at once; each job runs once."""
    import signal
    import threading

    from service.core.database import get_engine
    from service.jobs.runner import work
    from service.main import wire

    if poll <= 0:
        raise typer.BadParameter("--poll must be positive")
    wire()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if not once:
        console.print("[green]worker started[/]; waiting for jobs")
    total = work(
        get_engine(),
        poll_seconds=poll,
        once=once,
        stop=stop,
        on_batch=lambda n: console.print(f"ran {n} job(s)"),
    )
    console.print(f"jobs run: {total}")
