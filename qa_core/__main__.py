"""Command line: ``python -m qa_core ask --checkpoint X --question Q --context C`` → JSON.

Options not given take the checkpoint's own settings (the windows and no-answer threshold a
model trained here saved in ``viqa_training.json``), else the library defaults. One line on
stderr says what was loaded and which settings are in force.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings

from qa_core.answer_options import RECORD_FILE, AnswerOptions
from qa_core.errors import QAError, UntrainedHeadWarning


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m qa_core", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question about a passage, print JSON")
    ask.add_argument("--checkpoint", required=True, help="Hub id or local model directory")
    ask.add_argument("--question", required=True)
    ctx = ask.add_mutually_exclusive_group(required=True)
    ctx.add_argument("--context", help="the passage")
    ctx.add_argument("--context-file", help="read the passage from this UTF-8 file")
    trained = f"default: as the checkpoint was trained ({RECORD_FILE}), else"
    library = AnswerOptions()  # the defaults the help names are the library's own
    ask.add_argument("--top-n", type=int, help=f"answers to return (default {library.top_n})")
    ask.add_argument("--max-answer-length", type=int,
                     help=f"tokens ({trained} {library.max_answer_length})")
    ask.add_argument("--max-length", type=int,
                     help=f"tokens per window ({trained} {library.max_length})")
    ask.add_argument("--doc-stride", type=int,
                     help=f"tokens shared by windows ({trained} {library.doc_stride})")
    ask.add_argument(
        "--allow-no-answer", action=argparse.BooleanOptionalAction, default=None,
        help=f"let the model answer 'no answer' ({trained} "
        f"{'on' if library.allow_no_answer else 'off'})",
    )
    ask.add_argument("--null-threshold", type=float,
                     help=f"no-answer threshold ({trained} {library.null_threshold:g})")
    ask.add_argument("--device", default=None, help="cuda, mps or cpu (default: best available)")
    ask.add_argument("--dtype", default=None, help="float32, bfloat16, float16 or int8 (CPU) (default: auto)")
    ask.add_argument("--tokens", action="store_true", help="include per-token probabilities")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from qa_core.reader import load_reader

    # The loader's one line (what was loaded, which settings) on stderr; stdout stays JSON.
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    logging.getLogger("qa_core").setLevel(logging.INFO)

    try:
        if args.context_file:
            with open(args.context_file, encoding="utf-8") as f:
                context = f.read()
        else:
            context = args.context
        with warnings.catch_warnings():  # said once below as "warning: ...", and in the JSON
            warnings.simplefilter("ignore", UntrainedHeadWarning)
            reader = load_reader(args.checkpoint, device=args.device, dtype=args.dtype)
        pred = reader.answer(
            args.question,
            context,
            top_n=args.top_n,
            max_answer_length=args.max_answer_length,
            max_length=args.max_length,
            doc_stride=args.doc_stride,
            allow_no_answer=args.allow_no_answer,
            null_threshold=args.null_threshold,
        )
    except (QAError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for message in pred.warnings:
        print(f"warning: {message}", file=sys.stderr)
    print(json.dumps(pred.to_dict(include_tokens=args.tokens), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
