"""The page in the visitor's language: Vietnamese for a browser that asks for ``vi``, English
otherwise.

Every word a person sees lives in one catalogue per language (``ui/locales/en.json``,
``ui/locales/vi.json``), looked up by key (:func:`t`). Gradio's own ``gr.I18n`` never picks
``vi`` (its page only knows the languages Gradio ships), so the language is chosen on the
server, from the ``Accept-Language`` header of each request:

* components are built with their English words and relabelled on page load
  (:class:`Labels`: one ``demo.load`` event that updates every registered component);
* handlers take the ``gr.Request`` and write their results, messages and figures in its
  language.

The engine's messages (``qa_core.errors``: ``QAError`` and ``Phrase``) are English templates
with values; :func:`translate` looks the template up in the Vietnamese catalogue's ``engine``
section and fills the translation with the same values, translating values that are
themselves phrases.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

import gradio as gr

from qa_core.errors import Phrase, QAError, fill

LANGUAGES = ("en", "vi")
DEFAULT_LANGUAGE = "en"
LOCALES = Path(__file__).resolve().parent / "locales"
ENGINE = "engine"  # the section of a catalogue that translates the engine's templates


@cache
def catalogue(language: str) -> dict:
    """The catalogue of ``language`` (``ui/locales/<language>.json``)."""
    return json.loads((LOCALES / f"{language}.json").read_text(encoding="utf-8"))


def language_of(accept_language: str | None) -> str:
    """The page's language for an ``Accept-Language`` header: the first of its languages
    (by preference weight) that the app speaks, else English.

    >>> language_of("vi-VN,vi;q=0.9,en-US;q=0.8"), language_of("en-US,en;q=0.9,vi;q=0.8")
    ('vi', 'en')
    >>> language_of("fr-FR,fr;q=0.9,vi;q=0.5"), language_of(None), language_of("de")
    ('vi', 'en', 'en')
    """
    ranked = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        base = tag.strip().lower().split("-")[0]
        if base in LANGUAGES and weight > 0:
            ranked.append((-weight, position, base))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


def language(request: gr.Request | None) -> str:
    """The language of a request's page (English when there is no request, as in tests)."""
    headers = getattr(request, "headers", None) if request is not None else None
    return language_of(headers.get("accept-language") if headers is not None else None)


def t(key: str, lang: str = DEFAULT_LANGUAGE, n: int | None = None, **params) -> str:
    """The words of ``key`` in ``lang``, filled with ``params`` (``str.format``). An entry with
    ``one``/``other`` forms takes the one that fits ``n`` (Vietnamese has one form)."""
    entry = catalogue(lang).get(key)
    if entry is None:
        entry = catalogue(DEFAULT_LANGUAGE)[key]  # a missing key fails loudly in English
    if isinstance(entry, dict):
        entry = entry["one"] if n == 1 and "one" in entry else entry["other"]
    if n is not None:
        params.setdefault("n", n)
    return entry.format(**params) if params else entry


def translate(text, lang: str) -> str:
    """An engine message (``QAError``, ``Phrase``) or any text, in ``lang``. Values that are
    themselves phrases are translated too; a template the catalogue lacks stays English."""
    if not isinstance(text, (Phrase, QAError)):
        return str(text)
    params = {key: translate(value, lang) if isinstance(value, (Phrase, QAError)) else value
              for key, value in text.params.items()}
    template = text.template
    if lang != DEFAULT_LANGUAGE:
        template = catalogue(lang).get(ENGINE, {}).get(template, template)
    return fill(template, params)


class Labels:
    """Components whose words follow the visitor's language.

    Build a component with its English words and register it: ``labels(component,
    label="ask.question")`` maps properties to catalogue keys; ``labels.custom(component,
    update)`` takes a function ``lang -> component update`` (dropdown choices, table headers).
    :meth:`localise`, wired to the page's load event, returns every update in the request's
    language (nothing to change for English, the words they were built with).
    """

    def __init__(self):
        self._items: list[tuple[gr.components.Component, Callable[[str], object]]] = []

    def __call__(self, component, **keys: str):
        def update(lang: str):
            return type(component)(**{prop: t(key, lang) for prop, key in keys.items()})

        self._items.append((component, update))
        return component

    def custom(self, component, update: Callable[[str], object]):
        self._items.append((component, update))
        return component

    @property
    def components(self) -> list:
        return [component for component, _ in self._items]

    def localise(self, request: gr.Request):
        """Every registered component's words in the visitor's language."""
        lang = language(request)
        if lang == DEFAULT_LANGUAGE:
            return [gr.skip() for _ in self._items]
        return [update(lang) for _, update in self._items]
