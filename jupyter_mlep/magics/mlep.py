"""``%mlep status`` and ``%mlep use local|azure …``."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from .._arguments import ArgumentParser, HelpShown, expand_variable
from .._errors import UsageError
from ..settings import Settings

if TYPE_CHECKING:
    from . import MlepMagics


def _parser() -> ArgumentParser:
    parser = ArgumentParser(prog="%mlep", description="Show or change jupyter_mlep settings.")
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=ArgumentParser)
    verbs.add_parser("status", help="show the active target and where each setting came from")
    use = verbs.add_parser("use", help="choose the target")
    use.add_argument("target", help="local or azure (or a $variable holding one)")
    use.add_argument("--subscription", dest="subscription_id")
    use.add_argument("--resource-group", dest="resource_group")
    use.add_argument("--workspace", dest="workspace_name")
    use.add_argument("--api-version", dest="api_version")
    use.add_argument(
        "--arm-url",
        dest="arm_url",
        metavar="URL",
        help="the Azure Resource Manager endpoint (default https://management.azure.com; another cloud)",
    )
    return parser


def run(magics: MlepMagics, line: str) -> Settings | None:
    """Run ``%mlep``; returns the resulting settings."""
    try:
        args = _parser().parse_args(shlex.split(line))
    except HelpShown:
        return None
    if args.verb == "use":
        namespace = magics.shell.user_ns if magics.shell is not None else {}
        for name in (
            "target",
            "subscription_id",
            "resource_group",
            "workspace_name",
            "api_version",
            "arm_url",
        ):
            setattr(args, name, expand_variable(getattr(args, name), namespace, name))
        if args.target not in ("local", "azure"):
            raise UsageError(f"%mlep use {args.target!r}: the target is local or azure.")
        values = {"target": args.target}
        if args.target == "azure":
            values.update(
                subscription_id=args.subscription_id,
                resource_group=args.resource_group,
                workspace_name=args.workspace_name,
            )
            if args.arm_url:
                values["arm_url"] = args.arm_url
        if args.api_version:
            values["api_version"] = args.api_version
        magics.settings(**values)  # raises, changing nothing, when the combination is invalid
        magics.set_settings("%mlep use", **values)
    return magics.settings()
