"""Data items over local paths, file://, HTTP on localhost and store:// URIs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from aiohttp import web

from servegraph.errors import DataItemError
from servegraph.storage.dataitem import get_dataitem, parse_store_uri
from servegraph.storage.rundb import get_run_db
from tests.threaded_server import serve_app

CSV = b"a,b\n1,x\n2,y\n"


@pytest.fixture
def http_url() -> Iterator[str]:
    async def data(request: web.Request) -> web.Response:
        return web.Response(body=CSV, content_type="text/csv")

    app = web.Application()
    app.router.add_get("/files/data.csv", data)
    with serve_app(app) as url:
        yield url


def test_local_path_get_local_and_as_df(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(CSV)
    item = get_dataitem(str(path))
    assert item.get() == CSV
    assert item.get(encoding="utf-8").startswith("a,b")
    assert item.get(size=3, offset=2) == b"b\n1"
    assert item.local() == str(path)
    assert item.as_df()["a"].tolist() == [1, 2]
    assert item.key == "data.csv" and item.url == str(path)


def test_file_url_put_creates_directories(tmp_path: Path) -> None:
    url = f"file://{tmp_path}/deep/dir/out.txt"
    item = get_dataitem(url)
    assert not item.exists()
    item.put("hello")
    assert item.exists() and (tmp_path / "deep/dir/out.txt").read_text() == "hello"


def test_parquet_round_trip(tmp_path: Path) -> None:
    df = pd.DataFrame({"x": [1.5, 2.5]})
    path = tmp_path / "d.parquet"
    df.to_parquet(path)
    pd.testing.assert_frame_equal(get_dataitem(str(path)).as_df(), df)


def test_http_through_fsspec(http_url: str) -> None:
    item = get_dataitem(f"{http_url}/files/data.csv")
    assert item.get() == CSV
    local = item.local()
    assert Path(local).read_bytes() == CSV and local.endswith("data.csv")
    assert item.as_df()["b"].tolist() == ["x", "y"]


def test_http_missing_object_is_a_data_item_error(http_url: str) -> None:
    with pytest.raises(DataItemError, match=r"missing\.csv"):
        get_dataitem(f"{http_url}/files/missing.csv").get()


def test_unavailable_protocol_is_a_clear_error() -> None:
    with pytest.raises(DataItemError, match="'nosuchproto'"):
        get_dataitem("nosuchproto://bucket/key.csv").get()


def test_missing_local_file(tmp_path: Path) -> None:
    with pytest.raises(DataItemError, match=r"nope\.csv"):
        get_dataitem(str(tmp_path / "nope.csv")).get()


def test_unknown_format(tmp_path: Path) -> None:
    (tmp_path / "x.bin").write_bytes(b"\0")
    with pytest.raises(DataItemError, match="'bin'"):
        get_dataitem(str(tmp_path / "x.bin")).as_df()


def test_store_uri_resolves_through_the_run_db(tmp_path: Path) -> None:
    target = tmp_path / "data.csv"
    target.write_bytes(CSV)
    db = get_run_db()
    artifact = {"kind": "dataset", "spec": {"target_path": str(target)}}
    db.store_artifact("data", artifact, "h1", project="p", tags=("latest", "v1"))
    item = get_dataitem("store://artifacts/p/data:v1")
    assert item.get() == CSV and item.artifact is not None
    assert get_dataitem("store://datasets/p/data").as_df().shape == (2, 2)


def test_bad_store_uris() -> None:
    with pytest.raises(DataItemError, match="store://artifacts"):
        parse_store_uri("store://nope")
    with pytest.raises(DataItemError, match="empty"):
        get_dataitem("")


def test_s3_without_s3fs_is_a_clear_error() -> None:
    with pytest.raises(DataItemError, match="s3"):
        get_dataitem("s3://bucket/infile.txt").get()
