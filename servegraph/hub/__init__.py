"""The function hub shipped with servegraph: ``import_function("hub://<name>")``.

Each function is a folder with a ``function.yaml`` spec and its code.
"""
