"""``%mlep status`` and ``%mlep use local|azure …``."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from .._arguments import ArgumentParser, HelpShown, expand_variable
from .._errors import SettingsError, UsageError
from ..settings import Settings
from ..targets import get_target, target_names

if TYPE_CHECKING:
    from . import MlepMagics


def _parser() -> ArgumentParser:
    parser = ArgumentParser(prog="%mlep", description="Show or change jupyter_mlep settings.")
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=ArgumentParser)
    verbs.add_parser("status", help="show the active target and where each setting came from")
    use = verbs.add_parser("use", help="choose the target")
    use.add_argument("target", help=f"{' or '.join(target_names())} (or a $variable holding one)")
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
        try:
            target = get_target(args.target)
        except SettingsError:
            raise UsageError(
                f"%mlep use {args.target!r}: the target is {' or '.join(target_names())}."
            ) from None
        values = {"target": target.name}
        for name in target.settings:  # only the settings this target reads
            if getattr(args, name, None):
                values[name] = getattr(args, name)
        if args.api_version:
            values["api_version"] = args.api_version
        magics.settings(**values)  # raises, changing nothing, when the combination is invalid
        magics.set_settings("%mlep use", **values)
    return magics.settings()
