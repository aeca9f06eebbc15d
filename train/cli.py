"""Readable ``--help`` for the training commands, whose parsers ``HfArgumentParser`` builds from
dataclasses.

Left alone, that parser lists every option twice (``--max_samples, --max-samples``), appends
"(default: None)" to help that already states its default, and prints a usage line per option:
``python -m train.finetune --help`` ran to 760 lines, most of them transformers'
``TrainingArguments`` options nobody changes for QA. Here the help shows one spelling
(``--max-samples``; the other is still accepted), states a default only when the help does not,
and :func:`focus` keeps the options a command chooses, the rest listed by ``--help-all``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable

HELP_ALL = "--help-all"


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help with one option spelling, a default only where the help does not give one, and a
    short usage line."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if ("default" in text.lower() or default in (None, False, [], argparse.SUPPRESS)
                or action.nargs == 0):
            return text
        return f"{text} (default: {default})" if text else f"(default: {default})"


def dashed(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Show each option once, with dashes (``--max-samples``). Parsing is unchanged: the
    underscore spelling (in configs and older commands) still works."""
    by_dest = {}
    for action in parser._actions:  # argparse's own list; only display strings change
        strings = action.option_strings
        if len(strings) > 1 and any("-" in s[2:] for s in strings if s.startswith("--")):
            action.option_strings = [s for s in strings if not ("_" in s and s.startswith("--"))]
        if action.option_strings and action.option_strings[0].startswith("--no-"):
            positive = by_dest.get(action.dest)
            if positive is not None and action.help == positive.help:
                action.help = f"The opposite of {positive.option_strings[0]}."
        else:
            by_dest.setdefault(action.dest, action)
    return parser


def focus(parser: argparse.ArgumentParser, shown: Iterable[str]) -> argparse.ArgumentParser:
    """Keep in ``--help`` only the options whose destination is in ``shown``, and add
    ``--help-all`` for the rest. Hidden options parse as before."""
    keep = set(shown) | {"help"}
    hidden = {}
    for action in parser._actions:
        if action.dest not in keep:
            hidden[action] = action.help
            action.help = argparse.SUPPRESS

    class HelpAll(argparse.Action):
        def __call__(self, parser, namespace, values, option_string=None):
            for action, text in hidden.items():
                action.help = text
            parser.print_help()
            parser.exit()

    parser.add_argument(HELP_ALL, action=HelpAll, nargs=0, default=argparse.SUPPRESS,
                        help=f"Show every option, including the {len(hidden)} more of "
                        "transformers' TrainingArguments, and exit.")
    return parser
