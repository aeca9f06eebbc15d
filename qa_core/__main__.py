"""Command line: ``python -m qa_core ask --checkpoint X --question Q --context C`` → JSON."""

from __future__ import annotations

import argparse
import json
import sys

from qa_core.errors import QAError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m qa_core", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question about a passage, print JSON")
    ask.add_argument("--checkpoint", required=True, help="Hub id or local model directory")
    ask.add_argument("--question", required=True)
    ctx = ask.add_mutually_exclusive_group(required=True)
    ctx.add_argument("--context", help="the passage")
    ctx.add_argument("--context-file", help="read the passage from this UTF-8 file")
    ask.add_argument("--top-n", type=int, default=5)
    ask.add_argument("--max-answer-length", type=int, default=30)
    ask.add_argument("--max-length", type=int, default=384)
    ask.add_argument("--doc-stride", type=int, default=128)
    ask.add_argument("--allow-no-answer", action="store_true")
    ask.add_argument("--null-threshold", type=float, default=0.0)
    ask.add_argument("--device", default=None, help="cuda, mps or cpu (default: best available)")
    ask.add_argument("--dtype", default=None, help="float32, bfloat16 or float16 (default: auto)")
    ask.add_argument("--tokens", action="store_true", help="include per-token probabilities")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from qa_core.reader import load_reader

    try:
        if args.context_file:
            with open(args.context_file, encoding="utf-8") as f:
                context = f.read()
        else:
            context = args.context
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
    print(json.dumps(pred.to_dict(include_tokens=args.tokens), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
