"""The environment flags verbs share (``--env CONDA_YML|azureml:NAME:VERSION``, ``--image``,
``--build``, ``--base-image``) and the spec data they stand for."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["DEFAULT_IMAGE", "add_environment_arguments", "environment_from_flags"]

DEFAULT_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
"""Azure ML's default base image, under a conda file given alone."""


def add_environment_arguments(parser: argparse.ArgumentParser, *, build: bool = True) -> None:
    """``--env``, ``--image`` (and ``--build``), mutually exclusive, and ``--base-image``."""
    env = parser.add_mutually_exclusive_group()
    env.add_argument(
        "--env", metavar="CONDA_YML", help="a conda file (on the default image) or azureml:NAME:VERSION"
    )
    env.add_argument("--image", help="a Docker image" + (" that has the inference server" if build else ""))
    if build:
        env.add_argument("--build", metavar="DIR", help="a Docker build context")
    parser.add_argument("--base-image", default=DEFAULT_IMAGE, help="the image under --env")


def environment_from_flags(args: argparse.Namespace) -> Any:
    """The spec's ``environment`` the flags describe (None when none was given)."""
    env = args.env
    if env and env.startswith("azureml:"):
        return env
    if env:
        return {"conda_file": env, "image": args.base_image}
    if args.image:
        return {"image": args.image}
    if getattr(args, "build", None):
        return {"build": {"path": args.build}}
    return None
