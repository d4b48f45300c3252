"""servegraph.functions: write once, run and track anywhere.

- ``context``: the run context (``get_or_create_ctx``) and its API
- ``base`` + runtimes ``local``, ``job``, ``remote`` (kind nuclio), ``daskfn``; ``factory``
  (``new_function``, ``code_to_function``, ``import_function``)
- ``execute``/``child``/``handler``: running code with a context in a process
- ``artifacts``, ``secrets``, ``runspec`` (the run record), ``runobject`` (``fn.run`` result)
- ``hyper``: hyper-parameter runs; ``project``, ``workflow``, ``schedules``: projects
- ``commands``: the ``run``, ``get``, ``logs`` and ``project`` CLI sub-commands
"""
