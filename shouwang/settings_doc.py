"""The README's settings table, made from the settings class itself so the two cannot drift."""

from __future__ import annotations

import json
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Literal, get_args, get_origin

import annotated_types
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from shouwang.settings import Settings

BEGIN = "<!-- settings-table:begin (made by `shouwang settings --markdown`; do not edit by hand) -->"
END = "<!-- settings-table:end -->"
_BOUNDS = {annotated_types.Gt: ">", annotated_types.Ge: "≥", annotated_types.Lt: "<", annotated_types.Le: "≤"}


def rows(model: type[BaseModel] = Settings, prefix: str = "SHOUWANG_") -> Iterator[tuple[str, str, str]]:
    """(environment variable, default, meaning) for every setting, nested groups flattened."""
    for name, field in model.model_fields.items():
        variable = f"{prefix}{name.upper()}"
        group = field.annotation
        if isinstance(group, type) and issubclass(group, BaseModel):
            yield from rows(group, f"{variable}__")
            continue
        yield variable, _default(field), _meaning(field)


def _default(field: FieldInfo) -> str:
    value = field.get_default(call_default_factory=True)
    if value is None or value is PydanticUndefined:
        return "unset"
    if isinstance(value, SecretStr):
        return "set"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return f"`{text}`"


def _meaning(field: FieldInfo) -> str:
    bounds = [f"{sign} {getattr(m, type(m).__name__.lower())}" for m in field.metadata
              if (sign := _BOUNDS.get(type(m)))]
    if get_origin(field.annotation) is Literal:
        bounds.insert(0, "one of " + ", ".join(f"`{choice}`" for choice in get_args(field.annotation)))
    text = (field.description or "").replace("|", "\\|").replace("\n", " ")
    if bounds:
        text = f"{text} ({', '.join(bounds)})" if text else f"({', '.join(bounds)})"
    return text


def markdown() -> str:
    """The table as it stands in the README, between its markers."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    lines += [f"| `{variable}` | {default} | {meaning} |" for variable, default, meaning in rows()]
    return "\n".join([BEGIN, *lines, END])


def section_in(readme: str) -> str:
    """The README's current table, markers included ('' when the markers are missing)."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < 0:
        return ""
    return readme[start:end + len(END)]
