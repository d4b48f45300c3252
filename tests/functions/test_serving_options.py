"""Serving-function conveniences: env, HTTP trigger, resources and plot, carried by the spec."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import servegraph as sg
from servegraph.errors import GraphError
from servegraph.functions.serving import ServingFunction


def function() -> ServingFunction:
    fn = sg.new_function("opts", kind="serving", project="p")
    graph = fn.set_topology("flow", engine="async")
    graph.to(name="inc", handler="(event + 1)").to(">>", "q", path=None).to(
        name="dbl", handler="(event * 2)"
    ).respond()
    return fn


def test_set_envs_from_a_dict_and_a_file(tmp_path: Path) -> None:
    env_file = tmp_path / "app.env"
    env_file.write_text("# comment\nA=1\nB='two'\n\nC = three\n")
    fn = function().set_envs({"C": "override", "D": 4}, file_path=env_file)
    assert fn.spec.env == {"A": "1", "B": "two", "C": "override", "D": "4"}
    env_file.write_text("no equals sign\n")
    with pytest.raises(GraphError, match=r"line 1 .* is not KEY=value"):
        function().set_envs(file_path=env_file)
    with pytest.raises(GraphError, match="does not exist"):
        function().set_envs(file_path=tmp_path / "missing.env")


def test_limits_and_requests_take_kubernetes_quantities() -> None:
    fn = function().with_limits(mem="2Gi", cpu=2, gpus=1).with_requests(mem="512M", cpu="500m")
    assert fn.spec.resources == {
        "limits": {"memory": "2Gi", "cpu": "2", "nvidia.com/gpu": 1},
        "requests": {"memory": "512M", "cpu": "500m"},
    }
    fn.with_limits(cpu="4", patch=True)
    assert fn.spec.resources["limits"] == {"memory": "2Gi", "cpu": "4", "nvidia.com/gpu": 1}
    fn.with_limits(cpu="1")
    assert fn.spec.resources["limits"] == {"cpu": "1"}
    with pytest.raises(GraphError, match="'mem' parameter must be a Kubernetes quantity"):
        fn.with_limits(mem="lots")


def test_with_http_checks_its_arguments() -> None:
    with pytest.raises(GraphError, match="'workers' parameter of with_http"):
        function().with_http(workers=0)
    with pytest.raises(GraphError, match="'port' parameter of with_http"):
        function().with_http(port=70000)


def test_the_settings_survive_to_dict_and_reach_the_nuclio_spec(tmp_path: Path) -> None:
    fn = (
        function()
        .set_envs({"LOG_LEVEL": "debug"})
        .with_http(workers=3, port=8081, host="fn.example", gateway_timeout=60, worker_timeout=5)
        .with_limits(mem="1Gi", cpu="1")
        .with_requests(cpu="250m")
    )
    again = ServingFunction.from_dict(fn.to_dict())
    assert (again.spec.http, again.spec.resources, again.spec.env) == (
        fn.spec.http,
        fn.spec.resources,
        fn.spec.env,
    )
    spec = yaml.safe_load(Path(fn.export(tmp_path / "function.yaml")).read_text())["spec"]
    http = spec["triggers"]["http"]
    assert http["maxWorkers"] == 3 and http["attributes"]["port"] == 8081
    assert http["attributes"]["ingresses"]["0"]["host"] == "fn.example"
    assert http["workerAvailabilityTimeoutMilliseconds"] == 5000
    assert http["annotations"]["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "60"
    assert spec["resources"] == {
        "limits": {"memory": "1Gi", "cpu": "1"},
        "requests": {"cpu": "250m"},
    }
    assert {"name": "LOG_LEVEL", "value": "debug"} in spec["env"]


def test_plot_draws_the_graph(tmp_path: Path) -> None:
    fn = function()
    text = fn.plot()
    assert all(name in text for name in ("inc", "q", "dbl"))
    fn.plot(str(tmp_path / "graph.html"))
    assert "inc" in (tmp_path / "graph.html").read_text()
    with pytest.raises(GraphError, match="no graph to plot"):
        sg.new_function("empty", kind="serving").plot()
