"""``$name`` and ``{name}`` in a magic's line: the one place notebook variables are expanded.

The magics use ``@no_var_expand`` (IPython's own expansion would corrupt JSON), and expand the
words of the line themselves, after splitting it like a shell (so quoting decides what a word is):

- a whole word ``$name`` is the notebook variable ``name``: its text when it holds text, a number or
  a path (names and paths in parameterised notebooks: ``%endpoint invoke $endpoint``); any other
  object (a dict, a list, bytes, an array) stays a reference that the options taking objects read
  whole (``--data $payload``); any other option given one is a usage error;
- inside a word, ``$name`` and ``{name}`` are replaced by the variable's text (``my-$suffix``,
  ``rec-{run_id}``);
- a missing variable is an error naming it, for ``$name`` and for ``{name}`` alike;
- what is never expanded: a word that is valid JSON (``'{"a": 1}'``, quoted so that it stays one
  word), braces around anything but one identifier (``{"a": 1}``, ``{a, b}``, ``{}``), and ``$``
  not followed by an identifier (``$5``). As in IPython, ``$$`` is a literal ``$`` and ``{{``,
  ``}}`` are literal braces (``{{name}}`` gives ``{name}``).
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Collection, Mapping
from typing import Any

from .._errors import UsageError

__all__ = ["expand_words", "is_json_text"]

_WHOLE = re.compile(r"\$([A-Za-z_]\w*)")
_INSIDE = re.compile(r"\$\$|\{\{|\}\}|\$([A-Za-z_]\w*)|\{([A-Za-z_]\w*)\}")


def is_json_text(word: str) -> bool:
    """True when ``word`` is a JSON object or array (such words are taken as written)."""
    if not word.lstrip().startswith(("{", "[")):
        return False
    try:
        json.loads(word)
    except ValueError:
        return False
    return True


def _text(value: Any) -> str | None:
    """The text of a variable that stands for text (str, number, path), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, os.PathLike):
        return str(os.fspath(value))
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _missing(name: str, word: str) -> UsageError:
    return UsageError(
        f"{word}: there is no variable named {name!r}.",
        hint=f"Define it in an earlier cell (e.g. {name} = 'my-endpoint'); write $$ or {{{{ }}}} for a literal $ or braces.",
    )


def expand_words(
    words: list[str], namespace: Mapping[str, Any], *, payloads: Collection[str] = ()
) -> tuple[list[str], dict[str, Any]]:
    """The words with notebook variables expanded, and the object references left in them
    (``{"$payload": {...}}``: words standing for an object that has no text form).

    After an option named in ``payloads`` (``--test``), a whole-word ``$name`` always stays a
    reference, text included: a request held in a string is sent as it is, not read as a path."""
    out: list[str] = []
    objects: dict[str, Any] = {}
    for index, word in enumerate(words):
        # errors name the option too: "--model-dir $nowhere: there is no variable named 'nowhere'"
        shown = f"{words[index - 1]} {word}" if index and words[index - 1].startswith("-") else word
        whole = _WHOLE.fullmatch(word)
        if whole:
            name = whole.group(1)
            if name not in namespace:
                raise _missing(name, shown)
            text = _text(namespace[name])
            if text is None or (index and words[index - 1] in payloads):
                objects[word] = namespace[name]
                out.append(word)
            else:
                out.append(text)
            continue
        if is_json_text(word):
            out.append(word)
            continue
        out.append(_INSIDE.sub(functools.partial(_inside, word=shown, namespace=namespace), word))
    return out, objects


def _inside(match: re.Match[str], word: str, namespace: Mapping[str, Any]) -> str:
    token = match.group(0)
    if token == "$$":
        return "$"
    if token in ("{{", "}}"):
        return token[0]
    name = match.group(1) or match.group(2)
    if name not in namespace:
        raise _missing(name, word)
    text = _text(namespace[name])
    if text is None:
        raise UsageError(
            f"{word}: the variable {name!r} holds a {type(namespace[name]).__name__}, which has no text "
            "to put inside a word.",
            hint="Use a variable holding text or a number, or pass the object as a whole word ($name).",
        )
    return text
