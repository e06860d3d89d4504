"""Loaded bundled-model backends, shared by the tests of one module (loading takes ~0.5 s)."""

import pytest

from app.backends.llama_backend import LlamaBackend
from helpers.models import profile


def _loaded(model_id):
    backend = LlamaBackend(profile(model_id))
    backend.load()
    return backend


@pytest.fixture(scope="module")
def instruct():
    backend = _loaded("smollm2-135m")
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def thinker():
    backend = _loaded("smollm2-think")
    yield backend
    backend.close()
