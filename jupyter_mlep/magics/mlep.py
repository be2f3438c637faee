"""``%mlep status`` and ``%mlep use local|azure …``; ``%mlep create|show|list|delete`` are the verbs of
:data:`jupyter_mlep.verbs.MLEP`, run through the verb registry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._arguments import ArgumentParser, HelpShown
from .._errors import SettingsError, UsageError
from ..targets import get_target, target_names
from ..verbs import MLEP, SettingsStatus, expand_words, split_line

if TYPE_CHECKING:
    from . import MlepMagics


def _parser() -> ArgumentParser:
    parser = ArgumentParser(prog="%mlep", description="Show or change jupyter_mlep settings.")
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=ArgumentParser)
    verbs.add_parser("status", help="show every setting and where it came from")
    use = verbs.add_parser("use", help="choose the target")
    use.add_argument("target", help=f"{' or '.join(target_names())} (or a $variable holding one)")
    use.add_argument("--subscription", dest="subscription_id", help="the Azure subscription id")
    use.add_argument("--resource-group", dest="resource_group", help="the Azure resource group")
    use.add_argument("--workspace", dest="workspace_name", help="the Azure ML workspace")
    use.add_argument("--api-version", dest="api_version", help="the Azure ML REST api-version")
    for name in MLEP.verbs:  # listed in -h; a line naming one is run by the verb registry
        verbs.add_parser(name, help=MLEP.verb(name).help)
    use.add_argument(
        "--arm-url",
        dest="arm_url",
        metavar="URL",
        help="the Azure Resource Manager endpoint (default https://management.azure.com; another cloud)",
    )
    return parser


def run(magics: MlepMagics, line: str) -> Any:
    """Run ``%mlep``: ``status`` and ``use`` return the resulting settings with where each came from;
    the workspace verbs (``create``, ``show``, ``list``, ``delete``) return their results."""
    verb = next((word for word in split_line(line, "%mlep") if not word.startswith("-")), None)
    if verb in MLEP.verbs:
        return magics.run_verbs(MLEP.name, line, None, {})
    namespace = magics.shell.user_ns if magics.shell is not None else {}
    words, _ = expand_words(split_line(line, "%mlep"), namespace)
    try:
        args = _parser().parse_args(words)
    except HelpShown:
        return None
    if args.verb == "use":
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
    return SettingsStatus(magics.settings(), widgets=magics.widgets)
