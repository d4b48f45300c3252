"""The seed example as an HTTP function: ``handler(context, event)`` (Nuclio style).

Deploy it behind any HTTP trigger and run it from the CLI with its URL::

    servegraph run -p p1=5 -s file=secrets.txt http://<function-endpoint>
"""

from servegraph import get_or_create_ctx


def handler(context, event):
    ctx = get_or_create_ctx("myfunc", event=event)
    context.logger.info("This is an unstructured log")
    p1 = ctx.get_param("p1", 1)
    p2 = ctx.get_param("p2", "a-string")

    print(f"Run: {ctx.name} (uid={ctx.uid})")
    print(f"Params: p1={p1}, p2={p2}")
    # the run's logger masks secret values (a plain print on the server would not)
    ctx.logger.info("accesskey = {}".format(ctx.get_secret("ACCESS_KEY")))

    ctx.log_output("accuracy", p1 * 2)
    for i in range(1, 4):
        ctx.log_metric("loss", 2 * i, i)
    ctx.log_artifact("chart.txt", body=b"chart data")

    return ctx.to_yaml()
