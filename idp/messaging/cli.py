"""``kleidi worker`` (deliver the outbox) and ``kleidi outbox`` (what the dev gateway kept)."""

from __future__ import annotations

import signal
import threading

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext

from idp import db
from idp.messaging import gateways, outbox, run_worker
from idp.messaging.gateways import DevMessage


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then stop.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between rounds.")
@with_appcontext
def worker_command(once: bool, interval: float) -> None:
    """Deliver queued email and SMS, retrying failures with backoff."""
    if once:
        click.echo(f"{outbox.deliver_due(gateways())} message(s) sent")
        return
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    click.echo("outbox worker running (Ctrl-C to stop)")
    run_worker(current_app._get_current_object(), interval=interval, stop=stop)


@click.command("outbox")
@click.option("--last", default=10, show_default=True, help="How many messages to show.")
@with_appcontext
def outbox_command(last: int) -> None:
    """Show the latest messages kept by the development gateway (PINs included)."""
    session = db.session()
    pending = session.scalar(sa.select(sa.func.count()).select_from(outbox.OutboxMessage)
                             .where(outbox.OutboxMessage.status == outbox.PENDING))
    messages = session.scalars(
        sa.select(DevMessage).order_by(DevMessage.id.desc()).limit(last)
    ).all()
    for message in reversed(messages):
        click.echo(f"--- {message.delivered_at:%Y-%m-%d %H:%M:%S} {message.channel} "
                   f"to {message.recipient}")
        if message.subject:
            click.echo(f"Subject: {message.subject}")
        click.echo(message.body.rstrip() + "\n")
    click.echo(f"{len(messages)} message(s) shown, {pending} waiting for delivery")


def init_app(app: Flask) -> None:
    app.cli.add_command(worker_command)
    app.cli.add_command(outbox_command)
