"""Command-line flags made from the settings' dataclasses: one flag per field, its help the
field's metadata["help"]. Used by the command line (`cli`) and by `complete`, and imports
neither, so the two never import each other."""
from __future__ import annotations

import argparse
import typing
from dataclasses import Field, fields
from typing import Callable

from inpaint.method.checks import flag

def add_config_flags(parser: argparse.ArgumentParser, config_class: type,
                     describe_default: Callable[[Field], str]) -> None:
    """One flag per field of the dataclass `config_class` (field batch_size: --batch-size), of
    the field's type (a bool as --flip / --no-flip), its help the field's metadata["help"]
    followed by describe_default(field). Every flag's default is None, "not given": the caller
    applies the flags given (`given`) over the defaults that describe_default states."""
    hints = typing.get_type_hints(config_class)
    for field in fields(config_class):
        kind = hints[field.name]
        text = f"{field.metadata['help']} ({describe_default(field)})".replace("%", "%%")
        if kind is bool:
            parser.add_argument(flag(field.name), action=argparse.BooleanOptionalAction,
                                default=None, help=text)
        else:
            base = next((t for t in typing.get_args(kind) if t is not type(None)), kind)
            parser.add_argument(flag(field.name), type=base, default=None, help=text)


def given(args: argparse.Namespace, config_class: type) -> dict:
    """{field name: value} of the fields of `config_class` whose flag was given."""
    return {f.name: getattr(args, f.name) for f in fields(config_class)
            if getattr(args, f.name) is not None}
