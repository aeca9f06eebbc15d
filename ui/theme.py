"""The page's look: theme, CSS, title, header and footer (Gradio 6 takes theme and CSS in
``launch``)."""

from __future__ import annotations

import gradio as gr

TITLE = "viqa — Vietnamese question answering"
THEME = gr.themes.Soft(
    primary_hue="emerald", secondary_hue="amber", neutral_hue="slate",
    # System fonts only: the app must render offline, without Google Fonts.
    font=["Inter", "ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Noto Sans", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Noto Sans Mono", "monospace"],
)
CSS = """
.gradio-container {max-width: 1280px !important; margin: auto;}
#viqa-header h1 {margin: 0.2em 0 0 0; font-size: 1.9em;}
#viqa-header p {margin: 0.2em 0 0.4em 0; color: var(--body-text-color-subdued);}
.viqa-outcome h3 {margin: 0.1em 0 0.1em 0; font-size: 1.45em;}
.viqa-outcome p {margin: 0;}
.viqa-highlight {line-height: 1.8;}
/* Vietnamese stacks two diacritics on a letter: tables use the text font, not a monospace one */
.viqa-table [role="grid"] * {font-family: var(--font) !important;}
#viqa-footer {font-size: 0.85em; color: var(--body-text-color-subdued); margin-top: 0.5em;}
/* Dropdowns: Gradio lets the chosen text run under the arrow; stop it before, ending in "…" */
.gradio-container .wrap-inner .secondary-wrap {min-width: 0;}
.gradio-container .wrap-inner .secondary-wrap input {
  padding-right: calc(2 * var(--size-5) + 4px); text-overflow: ellipsis; min-width: 0;
}
/* Table headers wrap between words, never inside one ("probabil-ity") */
.viqa-table thead th, .viqa-table thead th * {word-break: normal !important;
  overflow-wrap: normal !important; hyphens: none;}
"""
HEADER = (
    "# viqa — Vietnamese extractive question answering\n"
    "Ask a question about a Vietnamese passage. Every candidate answer is marked **at the exact "
    "characters the model chose**, with its probability, and the heatmaps show why."
)
FOOTER = (
    "Answers are spans of the context; probabilities are a softmax over all valid spans (and "
    "the no-answer score when allowed). Models load on first use and stay cached. "
    "Programmatic use: the `/answer` endpoint (*Use via API* below)."
)
