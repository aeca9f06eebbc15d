"""viqa's Gradio interface: one module per tab, shared widgets and state, no model at import.

* :mod:`ui.settings`: :class:`~ui.settings.Settings`, what the app allows (from ``VIQA_*``).
* :mod:`ui.state`: :class:`~ui.state.ViqaApp`, the state every tab shares (reader cache,
  dataset cache) and the one ``predict`` path.
* :mod:`ui.widgets`: components used by several tabs; :mod:`ui.feedback`: messages and errors.
* :mod:`ui.theme`: theme, CSS, header and footer.
* :mod:`ui.i18n`: the page's words in the visitor's language (``ui/locales/``).
* :mod:`ui.gpu`: every model run goes through one function a ZeroGPU Space lends a GPU to.
* :mod:`ui.checkpoints`: which checkpoints this server serves, and how names resolve.
* :mod:`ui.highlights`, :mod:`ui.figures`, :mod:`ui.tables`, :mod:`ui.summaries`,
  :mod:`ui.analysis_figures`: reader results → component values.
* :mod:`ui.ask`, :mod:`ui.compare`, :mod:`ui.datasets`, :mod:`ui.evaluate`, :mod:`ui.batch`:
  one tab each, ``build(...)`` laying out its components and wiring its events to the handlers
  beside it.

``app.py`` assembles the tabs into the Blocks and launches them.
"""
