"""Command line: ``python -m qa_core ask|predict|score``.

* ``ask --checkpoint X --question Q --context C``: one answer, as JSON on stdout.
* ``predict FILE --checkpoint X``: a CSV or JSON Lines file of questions and contexts (the
  Batch tab's format, read by the same code), predictions written as CSV and JSON.
* ``score DATA PREDICTIONS``: EM and F1 of a predictions file, as the official scripts compute
  them, with ``DATA`` read as ``train.evaluate`` reads it.

Options not given take the checkpoint's own settings (the windows and no-answer threshold a
model trained here saved in ``viqa_training.json``), else the library defaults. One line on
stderr says what was loaded and which settings are in force. A step that fails exits with 2
and one ``error:`` line naming the cause and the fix.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from pathlib import Path

from qa_core.answer_options import RECORD_FILE, AnswerOptions
from qa_core.errors import QAError, UntrainedHeadWarning


def _answer_options(parser: argparse.ArgumentParser) -> None:
    """The options every answering command takes, defaulting to the checkpoint's own."""
    trained = f"default: as the checkpoint was trained ({RECORD_FILE}), else"
    library = AnswerOptions()  # the defaults the help names are the library's own
    parser.add_argument("--checkpoint", required=True, help="Hub id or local model directory")
    parser.add_argument("--max-answer-length", type=int,
                        help=f"tokens ({trained} {library.max_answer_length})")
    parser.add_argument("--max-length", type=int,
                        help=f"tokens per window ({trained} {library.max_length})")
    parser.add_argument("--doc-stride", type=int,
                        help=f"tokens shared by windows ({trained} {library.doc_stride})")
    parser.add_argument(
        "--allow-no-answer", action=argparse.BooleanOptionalAction, default=None,
        help=f"let the model answer 'no answer' ({trained} "
        f"{'on' if library.allow_no_answer else 'off'})",
    )
    parser.add_argument("--null-threshold", type=float,
                        help=f"no-answer threshold ({trained} {library.null_threshold:g})")
    parser.add_argument("--device", default=None, help="cuda, mps or cpu (default: best available)")
    parser.add_argument("--dtype", default=None,
                        help="float32, bfloat16, float16 or int8 (CPU) (default: auto)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m qa_core", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    ask = sub.add_parser("ask", help="answer one question about a passage, print JSON")
    ask.add_argument("--question", required=True)
    context = ask.add_mutually_exclusive_group(required=True)
    context.add_argument("--context", help="the passage")
    context.add_argument("--context-file", help="read the passage from this UTF-8 file")
    ask.add_argument("--top-n", type=int, help=f"answers to return (default {AnswerOptions().top_n})")
    ask.add_argument("--tokens", action="store_true", help="include per-token probabilities")
    _answer_options(ask)

    predict = sub.add_parser(
        "predict", help="answer every row of a CSV or JSON Lines file (id, question, context)")
    predict.add_argument("file", help="CSV with a header row (question, context, optional id) "
                         "or JSON Lines with those keys")
    predict.add_argument("--output-dir", default=None,
                         help="where predictions.csv and predictions.json go "
                         "(default: outputs/predict/<file name>)")
    predict.add_argument("--batch-size", type=int, default=32, help="windows per forward pass")
    _answer_options(predict)

    score = sub.add_parser("score", help="EM and F1 of a predictions file against a data file")
    score.add_argument(
        "data_file",
        help="dataset file in any format qa_core.data reads: SQuAD v1.1/v2.0 JSON, JSON lines, "
        "CSV or parquet (read, repaired and with repeated ids renamed as train.evaluate reads it)",
    )
    score.add_argument("prediction_file", help='JSON object {"question_id": "answer text"}')
    score.add_argument(
        "--normalization", choices=["squad", "mlqa-vi", "both"], default="squad",
        help="answer normalisation: squad (official SQuAD scripts, default), mlqa-vi (official "
        "MLQA script, language vi) or both",
    )
    score.add_argument("--split", default=None,
                       help="score only a slice of the file, as train.evaluate --split took it, "
                       "e.g. 'train[:100]' (default: the whole file)")
    return parser


def _load(args):
    from qa_core.reader import load_reader

    with warnings.catch_warnings():  # said once as "warning: ...", and in the output
        warnings.simplefilter("ignore", UntrainedHeadWarning)
        return load_reader(args.checkpoint, device=args.device, dtype=args.dtype)


def _options(args) -> dict:
    return dict(max_answer_length=args.max_answer_length, max_length=args.max_length,
                doc_stride=args.doc_stride, allow_no_answer=args.allow_no_answer,
                null_threshold=args.null_threshold)


def _ask(args) -> int:
    context = args.context
    if args.context_file:
        context = Path(args.context_file).read_text(encoding="utf-8")
    reader = _load(args)
    pred = reader.answer(args.question, context, top_n=args.top_n, **_options(args),
                         include_tokens=args.tokens)
    for message in pred.warnings:
        print(f"warning: {message}", file=sys.stderr)
    print(json.dumps(pred.to_dict(include_tokens=args.tokens), ensure_ascii=False, indent=2))
    return 0


def _predict(args) -> int:
    from qa_core.batch import prediction_records, read_batch_file, write_predictions

    rows = read_batch_file(args.file)  # every row checked before the model loads
    reader = _load(args)
    predictions = reader.answer_batch(rows.questions, rows.contexts, batch_size=args.batch_size,
                                      progress=True, top_n=1, **_options(args))
    for message in dict.fromkeys(m for p in predictions for m in p.warnings):
        print(f"warning: {message}", file=sys.stderr)
    out = Path(args.output_dir or Path("outputs") / "predict" / Path(args.file).stem)
    paths = write_predictions(prediction_records(rows.ids, predictions), out)
    print(f"{len(rows):,} predictions: {', '.join(map(str, paths))}", file=sys.stderr)
    return 0


def _score(args) -> int:
    from qa_core.evaluation.files import score_files

    result, notes = score_files(args.data_file, args.prediction_file, args.normalization,
                                args.split)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The loader's one line (what was loaded, which settings) on stderr; stdout stays data.
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    logging.getLogger("qa_core").setLevel(logging.INFO)
    command = {"ask": _ask, "predict": _predict, "score": _score}[args.command]
    try:
        return command(args)
    except (QAError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
