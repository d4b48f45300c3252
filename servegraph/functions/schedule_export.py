"""A stored schedule as a Kubernetes CronJob or a systemd timer and service.

Both run ``servegraph schedule run NAME --project P``: the schedule fires once
per trigger and is recorded in the run database like any other firing.

>>> on_calendar("*/15 2-4 * * 1-5")
'Mon..Fri *-*-* 02..04:00/15:00'
>>> on_calendar("0 2 * * *")
'*-*-* 02:00:00'
"""

from __future__ import annotations

import re
import shlex
import sys
from typing import Any

import yaml

from servegraph.errors import UsageError

_DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
# settings a scheduled run needs to reach the same database, artifacts and streams
EXPORTED_ENV = ("SERVEGRAPH_DBPATH", "SERVEGRAPH_ARTIFACT_PATH", "SERVEGRAPH_STREAM_PATH",
                "SERVEGRAPH_ONLINE_STORE", "SERVEGRAPH_OFFLINE_PATH")  # fmt: skip


def unit_name(schedule: dict[str, Any]) -> str:
    """``servegraph-<project>-<name>``, safe as a Kubernetes and a systemd name."""
    raw = f"servegraph-{schedule['project']}-{schedule['name']}".lower()
    return re.sub(r"[^a-z0-9-]+", "-", raw).strip("-")[:52]


def command(schedule: dict[str, Any]) -> list[str]:
    """The command that fires the schedule once."""
    return ["servegraph", "schedule", "run", schedule["name"], "--project", schedule["project"]]


def _field(value: str, days: bool = False, pad: bool = False) -> str:
    """One cron field in systemd's calendar syntax."""
    if value == "*":
        return "*"
    parts = []
    for part in value.split(","):
        step = ""
        if "/" in part:
            part, step = part.split("/", 1)
            step = "/" + step
            if part == "*":
                part = "0"
        if days:
            if step:
                raise UsageError(f"cron day-of-week steps like {value!r} have no systemd form")
            ends = [_DAYS[int(x)] for x in part.split("-")]
            parts.append("..".join(ends))
            continue
        ends = [x.zfill(2) if pad else x for x in part.split("-")]
        parts.append("..".join(ends) + step)
    return ",".join(parts)


def on_calendar(cron: str) -> str:
    """A 5-field cron string as a systemd ``OnCalendar=`` value.

    Cron fires when either the day of month or the day of week matches if both
    are restricted; systemd needs both, so that form is refused.
    """
    fields = cron.split()
    if len(fields) != 5 or not all(re.fullmatch(r"[0-9*,/-]+", f) for f in fields):
        raise UsageError(f"Only numeric 5-field cron strings can be exported. Got {cron!r}.")
    minute, hour, dom, month, dow = fields
    if dom != "*" and dow != "*":
        raise UsageError(
            f"The cron {cron!r} restricts both day of month and day of week (cron ORs them, "
            "systemd ANDs them): split it into two schedules to export it."
        )
    date = f"*-{_field(month, pad=True)}-{_field(dom, pad=True)}"
    time = f"{_field(hour, pad=True)}:{_field(minute, pad=True)}:00"
    return f"{_field(dow, days=True)} {date} {time}" if dow != "*" else f"{date} {time}"


def _env(environ: dict[str, str]) -> dict[str, str]:
    return {k: environ[k] for k in EXPORTED_ENV if environ.get(k)}


def cronjob(schedule: dict[str, Any], image: str, environ: dict[str, str], secret: str = "") -> str:
    """A Kubernetes ``batch/v1`` CronJob firing the schedule in ``image``.

    Settings of ``environ`` (database, artifact and stream URLs) go in the
    container's env; with ``secret``, they come from that Secret instead (for
    URLs holding passwords).
    """
    container: dict[str, Any] = {
        "name": "schedule",
        "image": image,
        "command": command(schedule),
    }
    if secret:
        container["envFrom"] = [{"secretRef": {"name": secret}}]
    else:
        container["env"] = [{"name": k, "value": v} for k, v in _env(environ).items()]
    document = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": unit_name(schedule),
            "labels": {
                "app.kubernetes.io/managed-by": "servegraph",
                "servegraph/project": schedule["project"],
            },
        },
        "spec": {
            "schedule": schedule["cron"],
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 0,
                    "template": {"spec": {"restartPolicy": "Never", "containers": [container]}},
                }
            },
        },
    }
    return yaml.safe_dump(document, sort_keys=False)


def systemd(schedule: dict[str, Any], environ: dict[str, str], workdir: str) -> dict[str, str]:
    """``{file name: text}``: a oneshot service and the timer that starts it."""
    name = unit_name(schedule)
    argv = [sys.executable, "-m", "servegraph", *command(schedule)[1:]]
    env_lines = "".join(
        f"Environment={shlex.quote(f'{k}={v}')}\n" for k, v in _env(environ).items()
    )
    service = (
        "[Unit]\n"
        f"Description=servegraph schedule {schedule['project']}/{schedule['name']}\n"
        "After=network-online.target\n\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"WorkingDirectory={workdir}\n"
        f"{env_lines}"
        f"ExecStart={shlex.join(argv)}\n"
    )
    timer = (
        "[Unit]\n"
        f"Description=servegraph schedule {schedule['project']}/{schedule['name']} "
        f"({schedule['cron']})\n\n"
        "[Timer]\n"
        f"OnCalendar={on_calendar(schedule['cron'])} UTC\n"
        "Persistent=true\n"
        f"Unit={name}.service\n\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return {f"{name}.service": service, f"{name}.timer": timer}
