"""A small form whose scores are easy to work out by hand."""

from __future__ import annotations

import pytest

from qa.forms import Form
from tests.unit.qa.small_form import SMALL


@pytest.fixture
def form() -> Form:
    return Form.model_validate(SMALL)
