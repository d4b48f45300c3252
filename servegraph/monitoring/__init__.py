"""servegraph.monitoring: model-endpoint logging, drift, alerts and retraining.

- :mod:`.tracking` ``StreamTracker``: what serving graphs log model requests with
- :mod:`.endpoints` ``EndpointRegistry``: endpoints and their reference statistics
- :mod:`.metrics`: drift metrics (estimator convention); :mod:`.drift`: thresholds
- :mod:`.job` ``MonitoringJob`` and :mod:`.commands` (``servegraph monitor``)
- :mod:`.alerts`: rules and notifiers; :mod:`.retrain`: the retraining trigger

Submodules are imported where used, so importing the tracker stays light.
See docs/monitoring.md.
"""
