"""A project that trains a model with hub functions through a workflow.

    python examples/iris_project/run_project.py [--kind job|local]

Writes the iris data set, creates the ``iris`` project next to this file
(``project.yaml``), runs the ``main`` workflow (describe, then train) and
prints the model's metrics and the reference statistics monitoring will use.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sklearn.datasets import load_iris

import servegraph as sg

HERE = Path(__file__).parent


def main(kind: str = "job", context: Path = HERE) -> dict:
    data = context / "iris.csv"
    load_iris(as_frame=True).frame.rename(columns={"target": "label"}).to_csv(data, index=False)
    project = sg.new_project("iris", context=str(context), params={"label_column": "label"})
    project.set_function("hub://describe", name="describe", kind=kind)
    project.set_function("hub://sklearn-trainer", name="train", kind=kind)
    if context != HERE:
        (context / "workflow.py").write_text((HERE / "workflow.py").read_text())
    project.set_workflow("main", "workflow.py")
    project.save()
    wf = project.run("main", arguments={"source": str(data)}, watch=False)
    print(f"workflow {wf.name}: {wf.state}")
    train = wf.runs["train"]
    print(f"model metrics: {train.results}")
    model = sg.get_dataitem(train.outputs["model"])
    stats = model.artifact["spec"]["feature_stats"] if model.artifact else {}
    print(f"reference statistics for: {sorted(stats)}")
    return {"state": wf.state, "results": train.results, "features": sorted(stats)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="job", choices=["job", "local"])
    main(parser.parse_args().kind)
