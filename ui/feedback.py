"""Failures turned into messages in the page, in the visitor's language; never a traceback.

* The engine's errors (``qa_core.errors.QAError``) were written to be read by the user who
  caused them: they are shown, translated (``ui.i18n.translate``).
* Anything else (a library's ``ValueError``, a bug) is shown as one generic line naming the
  action, with the details in the server's log only: on a public server an exception's own
  text may name files on the server's disk, which callers must not learn.
"""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import gradio as gr

from qa_core.errors import QAError
from ui.i18n import DEFAULT_LANGUAGE, language, t, translate
from ui.text import escape_markdown

logger = logging.getLogger("viqa.app")


def user_error(message: str, title: str, print_exception: bool = False) -> gr.Error:
    """A ``gr.Error`` whose message is shown as text: Gradio renders these messages as HTML,
    and they may quote the user's input (a checkpoint name, a file name)."""
    return gr.Error(html.escape(message, quote=False), title=html.escape(title, quote=False),
                    print_exception=print_exception)


def warn_user(message: str) -> None:
    """``gr.Warning`` with the message shown as text (see :func:`user_error`)."""
    gr.Warning(html.escape(message, quote=False))


@contextmanager
def user_errors(action: str, lang: str = DEFAULT_LANGUAGE) -> Iterator[None]:
    """Turn anything raised inside into a ``gr.Error`` in ``lang`` that names ``action`` (a
    key of the catalogue's ``action.*`` words, e.g. ``load_model``)."""
    try:
        yield
    except gr.Error:
        raise
    except QAError as exc:  # the engine's own messages say what to change
        raise user_error(translate(exc, lang), t("title.cannot", lang,
                                                 action=t(f"action.{action}", lang))) from exc
    except Exception as exc:
        logger.exception("Unexpected error while trying to %s", action)
        raise user_error(
            t("error.unexpected", lang, type=type(exc).__name__, action=t(f"action.{action}", lang)),
            t("title.cannot", lang, action=t(f"action.{action}", lang)), print_exception=True,
        ) from exc


def error_markdown(err: gr.Error) -> str:
    """A failed action's title and message as Markdown that stays in the page."""
    title = html.unescape(err.title or "")  # user_error escaped them for the toast
    message = html.unescape(str(err.message))
    return f"**⚠ {escape_markdown(title)}:** {escape_markdown(message)}"


def errors_shown_in(fn: Callable, message: int, outputs: int,
                    cleared: Callable[[str], Mapping[int, object]] | None = None) -> Callable:
    """``fn`` as an event handler whose errors stay readable: a ``gr.Error`` it raises is
    shown as a toast *and* written (:func:`error_markdown`) into its Markdown output number
    ``message`` of ``outputs``. Gradio would otherwise leave only a red badge once the toast
    closes. The outputs ``cleared()`` names (position → value) are reset, so no result of an
    earlier run is shown as if it were this one's; the others keep their values. ``cleared``
takes the page's language (from the handler's ``gr.Request``, English without one).
    ``cleared`` is called only on failure: a component made while the page is being built
    would be laid out on the page.

    ``fn`` itself still raises (its tests and direct callers see the error); only the wiring
    uses this wrapper. Gradio reads the signature of ``fn`` through it (``gr.Progress``,
    ``gr.Request``, ``gr.SelectData``).
    """

    @functools.wraps(fn)
    def handler(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error as err:
            gr.Warning(err.message, title=err.title)  # already escaped by user_error
            values = [gr.skip()] * outputs
            request = next((a for a in (*args, *kwargs.values()) if isinstance(a, gr.Request)),
                           None)
            for position, value in (cleared(language(request)) if cleared else {}).items():
                values[position] = value
            values[message] = error_markdown(err)
            return tuple(values) if outputs > 1 else values[0]

    return handler
