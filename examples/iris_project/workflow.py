"""The iris workflow: describe the data, then train a model on it (hub functions)."""


def pipeline(project, source="", n_estimators=20):
    describe = project.run_function("describe", inputs={"table": source})
    project.run_function(
        "train",
        inputs={"dataset": source},
        params={"model_params": {"n_estimators": n_estimators, "random_state": 0}},
    ).after(describe)
