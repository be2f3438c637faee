"""``%mlep status`` and ``%mlep use local|azure …``."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from .._arguments import ArgumentParser, HelpShown
from ..settings import Settings

if TYPE_CHECKING:
    from . import MlepMagics


def _parser() -> ArgumentParser:
    parser = ArgumentParser(prog="%mlep", description="Show or change jupyter_mlep settings.")
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=ArgumentParser)
    verbs.add_parser("status", help="show the active target and where each setting came from")
    use = verbs.add_parser("use", help="choose the target")
    use.add_argument("target", choices=["local", "azure"])
    use.add_argument("--subscription", dest="subscription_id")
    use.add_argument("--resource-group", dest="resource_group")
    use.add_argument("--workspace", dest="workspace_name")
    use.add_argument("--api-version", dest="api_version")
    return parser


def run(magics: MlepMagics, line: str) -> Settings | None:
    """Run ``%mlep``; returns the resulting settings."""
    try:
        args = _parser().parse_args(shlex.split(line))
    except HelpShown:
        return None
    if args.verb == "use":
        values = {"target": args.target}
        if args.target == "azure":
            values.update(
                subscription_id=args.subscription_id,
                resource_group=args.resource_group,
                workspace_name=args.workspace_name,
            )
        if args.api_version:
            values["api_version"] = args.api_version
        magics.settings(**values)  # raises, changing nothing, when the combination is invalid
        magics.set_settings("%mlep use", **values)
    return magics.settings()
