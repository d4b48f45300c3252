"""The monitoring job skips, counts and dead-letters malformed records, and moves on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from servegraph.monitoring.endpoints import EndpointRegistry, ModelEndpoint
from servegraph.monitoring.job import MonitoringJob
from servegraph.monitoring.tracking import default_stream_url
from servegraph.streams import get_stream
from servegraph.streams.filelog import path_from_url

from .data import FEATURES, T0, records, reference_frame


def register(endpoint: str = "ep") -> None:
    EndpointRegistry().register(
        ModelEndpoint(id=endpoint, feature_names=FEATURES), reference=reference_frame()
    )


def shaped(**changes: Any) -> dict[str, Any]:
    (record,) = records("ep", 1, start=T0, seed=5)
    record.update(changes)
    return record


async def push_raw(lines: list[bytes]) -> None:
    """Append lines no servegraph producer wrote (another producer, a torn tool)."""
    stream = get_stream(default_stream_url())
    await stream.push([shaped(request_id="first")])
    await stream.close()
    (segment,) = (path_from_url(default_stream_url()) / "segments").iterdir()
    with open(segment, "ab") as handle:
        handle.write(b"".join(line + b"\n" for line in lines))


async def test_malformed_records_are_dead_lettered_and_good_ones_scored(
    servegraph_home: Path,
) -> None:
    register()
    rejected = shaped(inputs=[["x", "y", "z"]], outputs=[], error="bad input")
    strings_without_error = shaped(inputs=[["x", 1.0, 2.0]])
    not_a_list = shaped(outputs={"label": 1})
    await push_raw([b"[1, 2, 3]", b"not json at all", b'"a string"'])
    stream = get_stream(default_stream_url())
    good = records("ep", 30, start=T0, seed=2)
    await stream.push([rejected, strings_without_error, not_a_list, *good])
    await stream.close()

    job = MonitoringJob(window="1h", plots=False)
    report = await job.run()

    assert report.records == 37
    assert report.skipped == 5  # 3 foreign lines, string features, dict outputs
    (window,) = report.windows
    assert window.requests == 32  # first + rejected (an error, no rows) + 30 good
    assert window.errors == 1
    assert window.rows == 62
    assert {f.feature for f in window.features} == set(FEATURES)

    dead = get_stream(job.dead_letter_url)
    letters = await dead.read("check", "c", count=100)
    await dead.close()
    reasons = [letter.data["reason"] for letter in letters]
    assert len(reasons) == 5
    assert sum("not a JSON object" in r or "not valid JSON" in r for r in reasons) == 3
    assert any("feature" in r for r in reasons) and any("outputs" in r for r in reasons)

    again = await MonitoringJob(window="1h", plots=False).run()  # acked: nothing re-read
    assert again.records == 0 and again.skipped == 0


async def test_a_record_that_is_an_object_without_endpoint_is_dead_lettered() -> None:
    stream = get_stream(default_stream_url())
    await stream.push([{"foreign": True}, shaped(endpoint_id=7)])
    await stream.close()
    report = await MonitoringJob(plots=False).run()
    assert (report.records, report.skipped, report.windows) == (2, 2, [])


async def test_a_record_that_cannot_be_stored_takes_only_itself_out(
    servegraph_home: Path,
) -> None:
    register()
    data = servegraph_home / "monitoring" / "data"
    data.mkdir(parents=True)
    (data / "broken").write_text("a file where the endpoint's folder should be")
    stream = get_stream(default_stream_url())
    await stream.push([*records("broken", 1, start=T0), *records("ep", 10, start=T0, seed=3)])
    await stream.close()
    job = MonitoringJob(plots=False)
    report = await job.run()
    assert (report.records, report.skipped) == (11, 1)
    assert [(w.endpoint_id, w.requests, w.rows) for w in report.windows] == [("ep", 10, 20)]
    dead = get_stream(job.dead_letter_url)
    (letter,) = await dead.read("check", "c")
    await dead.close()
    assert letter.data["reason"].startswith("cannot be stored")
    assert letter.data["data"]["endpoint_id"] == "broken"


async def test_records_of_an_unregistered_endpoint_keep_their_project() -> None:
    """Registration failed (say the folder was missing): the project filter still sees them."""
    stream = get_stream(default_stream_url())
    await stream.push(
        [{**r, "project": "p1"} for r in records("lost", 5, start=T0)]
        + [{**r, "project": "p2"} for r in records("other", 3, start=T0)]
    )
    await stream.close()
    report = await MonitoringJob(project="p1", plots=False).run()
    assert [(w.endpoint_id, w.requests) for w in report.windows] == [("lost", 5)]
    assert EndpointRegistry().get("lost").project == "p1"
