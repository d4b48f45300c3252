"""The exception tree: one base, HTTP statuses as class attributes."""

from __future__ import annotations

import inspect

import pytest

import servegraph.errors as errors


def _error_classes() -> list[type[errors.ServegraphError]]:
    return [
        obj for obj in vars(errors).values() if inspect.isclass(obj) and issubclass(obj, Exception)
    ]


def test_every_error_derives_from_the_base() -> None:
    for cls in _error_classes():
        assert issubclass(cls, errors.ServegraphError), cls


def test_every_error_has_a_one_line_docstring_and_appears_in_the_tree() -> None:
    tree = errors.__doc__ or ""
    for cls in _error_classes():
        assert cls.__doc__ and "\n" not in cls.__doc__.strip(), cls
        assert cls.__name__ in tree, f"{cls.__name__} missing from the module docstring"


def test_http_statuses() -> None:
    assert errors.BadRequestError.status_code == 400
    assert errors.PayloadTooLargeError.status_code == 400
    assert errors.NotFoundError.status_code == 404
    assert errors.MethodNotAllowedError.status_code == 405
    assert errors.StepError("s", "boom").status_code == 500
    assert errors.NotReadyError.status_code == 503
    assert errors.StepTimeoutError.status_code == 504


def test_step_error_names_the_step() -> None:
    exc = errors.StepError("enrich", "key missing")
    assert exc.step == "enrich"
    assert "enrich" in str(exc) and "key missing" in str(exc)


def test_mlrun_names_are_aliases_of_our_errors() -> None:
    assert errors.MLRunInvalidArgumentError is errors.GraphError
    assert errors.MLRunNotFoundError is errors.NotFoundError
    assert errors.MLRunBadRequestError is errors.BadRequestError
    with pytest.raises(errors.MLRunBaseError):
        raise errors.StepTimeoutError("slow")
