"""``%mlep`` in a real InteractiveShell, and the settings traits seen by ``%config``."""

from __future__ import annotations

import pytest

from jupyter_mlep import SettingsError, UsageError


def test_status_shows_default_local_target(ip) -> None:  # type: ignore[no-untyped-def]
    settings = ip.run_line_magic("mlep", "status")
    assert settings.target == "local"
    assert "target       local  (default)" in str(settings)


def test_use_azure_then_local(ip) -> None:  # type: ignore[no-untyped-def]
    settings = ip.run_line_magic("mlep", "use azure --subscription s --resource-group r --workspace w")
    assert settings.target == "azure"
    assert settings.sources["workspace_name"] == "%mlep use"
    assert ip.run_line_magic("mlep", "status").workspace_name == "w"
    assert ip.run_line_magic("mlep", "use local").target == "local"


def test_incomplete_use_azure_changes_nothing(ip) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError, match="resource_group, workspace_name are not set"):
        ip.run_line_magic("mlep", "use azure --subscription s")
    assert ip.run_line_magic("mlep", "status").target == "local"


def test_config_magic_sets_traits(ip) -> None:  # type: ignore[no-untyped-def]
    ip.run_line_magic("config", 'MlepMagics.api_version = "2024-10-01"')
    settings = ip.run_line_magic("mlep", "status")
    assert settings.api_version == "2024-10-01"
    assert settings.sources["api_version"] == "%config MlepMagics"


def test_unknown_verb_is_a_usage_error(ip) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError, match="invalid choice"):
        ip.run_line_magic("mlep", "launch")


def test_error_renders_short_in_the_notebook(ip) -> None:  # type: ignore[no-untyped-def]
    result = ip.run_cell("%mlep use azure --subscription s")
    assert isinstance(result.error_in_exec, SettingsError)
    assert result.error_in_exec._render_traceback_()[0].startswith("SettingsError: The target is 'azure'")
