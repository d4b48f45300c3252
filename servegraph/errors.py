"""The one exception tree of servegraph.

Every error servegraph raises on purpose derives from :class:`ServegraphError`.
Errors that can reach an HTTP client carry their status as the class attribute
``status_code``; the server edge (and only the edge) turns them into
``{"error": "..."}`` JSON. Errors of dependencies (Redis, Kafka, aiohttp,
SQLAlchemy, storey) are translated where they are caught, with
``raise Ours(...) from exc``.

Hierarchy::

    ServegraphError                    (status 500)
    ├── ConfigError                    bad configuration value or URL
    │   └── InvalidNameError           400: a name that could escape its folder or key
    ├── GraphError                     builder misuse, validation, class resolution
    ├── ServingError                   while serving an event (also a RuntimeError, as MLRun's)
    │   ├── BadRequestError            400: malformed body, wrong shape/datatype
    │   │   ├── PayloadTooLargeError   400: body over the size limit
    │   │   ├── RequestTimeoutError    408: the body did not arrive in time
    │   │   └── UnsupportedMediaTypeError  415: a body of a content type the graph cannot use
    │   ├── UnauthorizedError          401: missing or wrong bearer token
    │   ├── NotFoundError              404: unknown model, version, route or path
    │   ├── MethodNotAllowedError      405 (``allowed`` becomes the Allow header)
    │   ├── StepError                  500: a step raised; names the step
    │   ├── NotReadyError              503: not ready / shutting down
    │   │   └── OverloadedError        503: a model's in-flight limit is reached
    │   ├── UpstreamError              502: a service a step called failed
    │   └── StepTimeoutError           504: a step exceeded its timeout
    ├── DeployError                    exporting or deploying a function (Nuclio)
    ├── StreamError                    stream backends
    │   ├── StreamUnavailableError     the broker cannot be reached
    │   └── RecordEncodingError        a record cannot be encoded (not an outage)
    ├── StorageError                   run database, data items, artifacts
    │   ├── NotFoundInStoreError       an unknown run / artifact / function / project
    │   └── DataItemError              a data item URL cannot be read or written
    ├── RunError                       running functions, runtimes, projects, the CLI
    │   ├── RunFailedError             the run's code raised; carries the run
    │   └── UsageError                 bad command-line arguments (exit code 2)
    ├── FeatureStoreError              feature sets, ingestion, retrieval
    │   ├── FeatureSetNotFoundError    unknown feature set or vector
    │   ├── FeatureNotFoundError       unknown feature in a vector
    │   ├── EntityError                missing entity / timestamp column
    │   ├── SchemaError                type mismatch against the feature set schema
    │   └── OnlineStoreError           online store unreachable or half-written
    └── MonitoringError                monitoring job, drift metrics, alerts

MLRun's names are aliases (``MLRunInvalidArgumentError`` is ``GraphError``,
``MLRunBadRequestError`` ``BadRequestError``, ``MLRunNotFoundError``
``NotFoundError``, ``MLRunTimeoutError`` ``StepTimeoutError``,
``MLRunPreconditionFailedError`` ``NotReadyError``, ``MLRunBaseError`` the base).
"""

from __future__ import annotations


class ServegraphError(Exception):
    """Base of every servegraph error."""

    status_code: int = 500


class ConfigError(ServegraphError):
    """A configuration value or URL is invalid."""


class InvalidNameError(ConfigError):
    """A project, feature set, stream or artifact name breaks the one naming rule."""

    status_code = 400


class GraphError(ServegraphError):
    """The graph is built or configured wrongly; the message names the step."""


class ServingError(ServegraphError, RuntimeError):
    """An event could not be served (a RuntimeError too: MLRun's test() raises those)."""


class BadRequestError(ServingError):
    """The request body or parameters are malformed."""

    status_code = 400


class PayloadTooLargeError(BadRequestError):
    """The request body is larger than the configured limit."""


class UnsupportedMediaTypeError(BadRequestError):
    """415: the body's content type is not one the graph can use; names the type."""

    status_code = 415


class UnauthorizedError(ServingError):
    """The request lacks the required bearer token (serve's --token, the dashboard's actions)."""

    status_code = 401


class RequestTimeoutError(BadRequestError):
    """The request body did not arrive within the server's read timeout."""

    status_code = 408


class NotFoundError(ServingError):
    """The model, version, route or path does not exist."""

    status_code = 404


class MethodNotAllowedError(ServingError):
    """The path exists but does not accept this HTTP method."""

    status_code = 405

    def __init__(self, message: str, allowed: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.allowed = allowed


class StepError(ServingError):
    """A step raised while handling an event."""

    status_code = 500

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"step {step!r} failed: {message}")
        self.step = step


class NotReadyError(ServingError):
    """The server or model is not ready, or is shutting down."""

    status_code = 503


class UpstreamError(ServingError):
    """A service called by a step (RemoteStep, BatchHttpRequests) failed or refused."""

    status_code = 502


class OverloadedError(NotReadyError):
    """A model already has its maximum of requests in flight; retry later."""


class StepTimeoutError(ServingError):
    """A step did not finish within its timeout."""

    status_code = 504


class DeployError(ServegraphError):
    """A function could not be exported or deployed."""


class StreamError(ServegraphError):
    """A stream operation failed."""


class StreamUnavailableError(StreamError):
    """The stream's broker cannot be reached."""


class RecordEncodingError(StreamError):
    """A record cannot be encoded as JSON; no broker was involved."""


class StorageError(ServegraphError):
    """The run database or a data store failed."""


class NotFoundInStoreError(StorageError):
    """The run, artifact, function or project is not in the store."""

    status_code = 404


class DataItemError(StorageError):
    """A data item URL cannot be read or written."""


class RunError(ServegraphError):
    """A function could not be run."""


class RunFailedError(RunError):
    """The run's own code raised; the run record holds the error."""


class FeatureStoreError(ServegraphError):
    """A feature store operation failed."""


class FeatureSetNotFoundError(FeatureStoreError):
    """The feature set or feature vector is not in the catalog."""

    status_code = 404


class FeatureNotFoundError(FeatureStoreError):
    """A feature named in a vector does not exist in its feature set."""

    status_code = 404


class EntityError(FeatureStoreError):
    """An entity or timestamp column is missing or invalid."""

    status_code = 400


class SchemaError(FeatureStoreError):
    """Data does not match the feature set's schema."""

    status_code = 400


class OnlineStoreError(FeatureStoreError):
    """The online store is unreachable or a write did not complete."""

    status_code = 503


class MonitoringError(ServegraphError):
    """The monitoring job, a drift metric or an alert failed."""


class UsageError(RunError):
    """Bad command-line arguments (the CLI exits with code 2)."""


# MLRun's names for the same errors, so ``except mlrun.errors.X`` code keeps working
MLRunBaseError = ServegraphError
MLRunInvalidArgumentError = GraphError
MLRunBadRequestError = BadRequestError
MLRunNotFoundError = NotFoundError
MLRunTimeoutError = StepTimeoutError
MLRunPreconditionFailedError = NotReadyError
