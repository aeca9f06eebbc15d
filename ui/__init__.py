"""viqa's Gradio interface: one module per tab, shared widgets and state, no model at import.

* :mod:`ui.settings`: :class:`~ui.settings.Settings`, what the app allows (from ``VIQA_*``).
* :mod:`ui.state`: :class:`~ui.state.ViqaApp`, the state every tab shares (reader cache,
  dataset cache) and the one ``predict`` path.
* :mod:`ui.widgets`: components and error helpers used by several tabs.
* :mod:`ui.theme`: theme, CSS, header and footer.
* :mod:`ui.display`: reader results → component values (highlights, figures, tables, text).
* :mod:`ui.ask`, :mod:`ui.compare`, :mod:`ui.datasets`, :mod:`ui.evaluate`, :mod:`ui.batch`:
  one tab each, ``build(...)`` laying out its components and wiring its events to the handlers
  beside it.

``app.py`` assembles the tabs into the Blocks and launches them.
"""
