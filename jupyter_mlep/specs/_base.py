"""The base of every spec model, the shared field types, and readable validation errors.

Local paths are resolved against the folder of the YAML file (passed as the validation
context ``base_dir``) and are **not** checked for existence here: the fixtures, like many
real projects, point at folders that only exist on the author's machine, and the CLI itself
checks them only when it uploads. :func:`require_local_path` is that check, for the moment of
upload. REST bodies are read with the context ``rest=True``: strings stay as the service wrote
them.
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
)

from .._errors import SpecError, SpecValidationError
from ._references import AssetReference
from ._yaml import SCHEMA_URL

__all__ = [
    "CodeValue",
    "ComputeValue",
    "PathOrUri",
    "SpecModel",
    "StrDict",
    "TopLevelSpec",
    "VersionStr",
    "compact",
    "one_of",
    "parse_spec",
    "path_or_uri",
    "ref_or_inline",
    "require_local_path",
    "snake",
]

M = TypeVar("M", bound=BaseModel)
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")  # azureml:, https://, wasbs://, runs:/ …
_TAGS = ("ref", "inline")  # union tags pydantic puts into error locations
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake(value: Any) -> Any:
    """``Key``/``AMLToken``/``TargetUtilization``/``aml-token`` → ``key``/``aml_token``/…"""
    if isinstance(value, str):
        return _CAMEL.sub("_", value.strip()).replace("-", "_").replace(", ", ",").lower()
    return value


def one_of(*choices: str) -> Callable[[Any], Any]:
    """A normaliser that maps any spelling of ``choices`` (``PyTorch``, ``py_torch``, ``pytorch``) to it."""
    squashed = {choice.replace("_", "").lower(): choice for choice in choices}

    def normalise(value: Any) -> Any:
        if isinstance(value, str):
            return squashed.get(value.replace("_", "").replace("-", "").strip().lower(), value)
        return value

    return normalise


def _to_str(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if value is None:
        return ""
    return value


def _str_values(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _to_str(item) for key, item in value.items()}
    return value


def _is_uri(text: str) -> bool:
    return bool(_URI.match(text)) and not re.match(r"^[A-Za-z]:[\\/]", text)  # not C:\ on Windows


def _rest(info: ValidationInfo) -> bool:
    return bool((info.context or {}).get("rest"))


def _local(text: str, info: ValidationInfo) -> Path:
    base_dir = (info.context or {}).get("base_dir")
    path = Path(text).expanduser()
    return Path(base_dir, path).resolve() if base_dir is not None and not path.is_absolute() else path


def _compute_name(value: Any) -> Any:
    if isinstance(value, str) and ":" not in value and not value.startswith("/"):
        return f"azureml:{value}"
    return value


def path_or_uri(value: Any, info: ValidationInfo) -> Any:
    """A string as a local path resolved against the YAML file's folder, or kept if it is a URI."""
    if not isinstance(value, str) or _is_uri(value) or _rest(info):
        return value
    return _local(value, info)


def reference_or_path(value: Any, info: ValidationInfo) -> Any:
    """A string as an asset reference (``azureml:…``, an ARM id) or a resolved local path."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith(("azureml:", "/subscriptions/")) or _rest(info):
        return AssetReference.parse(text, strict=not _rest(info))
    if _is_uri(text):
        raise ValueError(f"expected a local folder or azureml:<name>:<version>, got {text!r}")
    return _local(text, info)


#: A string-to-string mapping (tags, properties, environment variables); numbers become strings.
StrDict = Annotated[dict[str, str], BeforeValidator(_str_values)]
#: A version: ``1`` in YAML is the string ``"1"``.
VersionStr = Annotated[str, BeforeValidator(_to_str)]
#: A local path, resolved against the YAML file's folder (never checked for existence here),
#: or a URI (``azureml://…``, ``https://…``) kept as text.
PathOrUri = Annotated[Path | str, BeforeValidator(path_or_uri)]
#: A code folder: a local path (resolved as above) or a registered code asset.
CodeValue = Annotated[AssetReference | Path, BeforeValidator(reference_or_path)]
#: A compute: ``azureml:cpu-cluster``, or just ``cpu-cluster``, or its ARM id.
ComputeValue = Annotated[AssetReference, BeforeValidator(_compute_name)]


def ref_or_inline(value: Any) -> str:
    """Discriminator of "a reference string, or an inline mapping" fields (no confusing union errors)."""
    return "ref" if isinstance(value, (str, AssetReference)) else "inline"


class SpecModel(BaseModel):
    """Base of all spec parts: unknown keys are errors, field names are the YAML keys."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    def to_yaml_dict(self) -> dict[str, Any]:
        """The CLI-style YAML mapping (snake_case keys, paths and references as strings)."""
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        return data


class TopLevelSpec(SpecModel):
    """A spec that is a whole YAML file: it carries ``$schema`` and remembers its file."""

    kind: ClassVar[str]
    schema_: str | None = Field(default=None, alias="$schema")
    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        """The YAML file this spec was read from, if any."""
        return self._source

    def to_yaml_dict(self) -> dict[str, Any]:
        data = super().to_yaml_dict()
        data.pop("$schema", None)
        head = {"type": data.pop("type")} if "type" in data else {}
        return {"$schema": SCHEMA_URL.format(kind=self.kind), **head, **data}

    def check(self, *, complete: bool = False) -> None:
        """Check the rules the service enforces; raise :class:`SpecValidationError`.

        ``complete=True`` also requires what a REST body needs but a YAML file may leave to
        the command line (``--endpoint-name``, ``--set model=…``).
        """


def parse_spec(
    cls: type[M],
    data: Mapping[str, Any],
    *,
    source: Path | None = None,
    base_dir: Path | None = None,
    rest: bool = False,
) -> M:
    """Validate ``data`` as ``cls``; every problem becomes one readable :class:`SpecError`.

    Relative paths resolve against ``base_dir``; ``source`` is the file named in errors.
    """
    context: dict[str, Any] = {"rest": rest, "base_dir": base_dir}
    try:
        spec = cls.model_validate(data, context=context)
    except ValidationError as exc:
        raise _spec_error(exc, cls, data, source, rest) from None
    _adopt(spec, source)
    return spec


def _adopt(value: Any, source: Path | None) -> None:
    """Tell every spec in ``value`` (inline models and environments too) which file it came from."""
    if isinstance(value, TopLevelSpec):
        value._source = source
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _adopt(getattr(value, name), source)
    elif isinstance(value, dict):
        for item in value.values():
            _adopt(item, source)
    elif isinstance(value, list):
        for item in value:
            _adopt(item, source)


def compact(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` without its ``None`` values (REST bodies leave unset fields out)."""
    return {key: value for key, value in data.items() if value is not None}


def require_local_path(path: Path | str, what: str, source: Path | None = None) -> Path:
    """``path`` if it exists, else a :class:`SpecError` naming ``what`` and the YAML file."""
    local = Path(path)
    if not local.exists():
        origin = f" (from {source})" if source else ""
        raise SpecError(
            f"The {what} {local}{origin} does not exist.",
            hint="Paths in a YAML file are relative to that file's folder; fix the path or create it.",
        )
    return local


def _spec_error(
    exc: ValidationError, cls: type[BaseModel], data: Mapping[str, Any], source: Path | None, rest: bool
) -> SpecError:
    lines, unknown_only = [], True
    for error in exc.errors():
        loc = error["loc"]
        where = _dotted(loc, data) or "(top level)"
        if error["type"] == "extra_forbidden":
            key = str(loc[-1])
            allowed = _allowed_keys(cls, loc[:-1])
            close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
            suggestion = f"; did you mean {close[0]!r}?" if close else ""
            lines.append(f"  - {where}: unknown key {key!r}{suggestion}")
            continue
        unknown_only = False
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "required key is missing"
        lines.append(f"  - {where}: {message}")
    name = re.sub(r"(?<!^)(?=[A-Z])", " ", cls.__name__).lower()
    origin = f" in {source}" if source else (" in a REST body (keys shown as in YAML)" if rest else "")
    problems = "problem" if len(lines) == 1 else "problems"
    message = f"Invalid {name}{origin} ({len(lines)} {problems}):\n" + "\n".join(lines)
    if unknown_only:
        return SpecError(message, hint="Remove or rename the unknown keys (the Azure ML CLI v2 YAML schema).")
    return SpecValidationError(message, hint="Fix the values listed above.")


def _dotted(loc: tuple[int | str, ...], data: Any) -> str:
    parts: list[str] = []
    node = data
    for index, step in enumerate(loc):
        if isinstance(node, Mapping) and step in node:
            parts.append(str(step))
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            parts.append(f"[{step}]")
            node = node[step]
        elif index == len(loc) - 1 and isinstance(step, str) and step not in _TAGS:
            parts.append(step)
    return ".".join(parts).replace(".[", "[")


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += _models_in(arg)
    return found


def _fields_by_key(model: type[BaseModel]) -> dict[str, Any]:
    return {field.alias or name: field for name, field in model.model_fields.items()}


def _allowed_keys(cls: type[BaseModel], loc: tuple[int | str, ...]) -> set[str]:
    models = [cls, *_subclasses(cls)]
    for step in loc:
        for model in models:
            field = _fields_by_key(model).get(str(step))
            if field is not None:
                models = _models_in(field.annotation) or models
                break
    return {key for model in models for key in _fields_by_key(model)}


def _subclasses(cls: type[BaseModel]) -> list[type[BaseModel]]:
    return [sub for sub in cls.__subclasses__() if issubclass(sub, BaseModel)]
