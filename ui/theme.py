"""The page's look: theme, CSS (a narrow screen stacks what does not fit side by side), title,
header and footer (Gradio 6 takes theme and CSS in ``launch``)."""

from __future__ import annotations

import gradio as gr

# Rows with this class stack their children on a narrow screen (see the @media rule below).
STACK_NARROW = ["viqa-stack-narrow"]
TITLE = "viqa — Hỏi đáp tiếng Việt · Vietnamese question answering"  # one title: both languages
THEME = gr.themes.Soft(
    primary_hue="emerald", secondary_hue="amber", neutral_hue="slate",
    # System fonts only: the app must render offline, without Google Fonts.
    font=["Inter", "ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Noto Sans", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Noto Sans Mono", "monospace"],
)
CSS = """
/* Gradio copies top-level rules as they are but scopes those inside @media to descendants
   of `.gradio-container .contain`: the container's own rules must stay up here. */
.gradio-container {max-width: min(1280px, 100vw) !important; margin: auto;}
.gradio-container > .main {padding-inline: min(var(--size-8), 4vw) !important;}
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
/* A phone: what sits side by side on a wide screen is stacked, and nothing makes the page
   scroll sideways (a wide table scrolls inside its own box). */
@media (max-width: 640px) {
  .viqa-stack-narrow, .viqa-stack-narrow > .form {flex-direction: column !important;}
  .viqa-stack-narrow > *, .viqa-stack-narrow > .form > * {min-width: 100% !important;}
  /* wide tables keep readable columns and scroll inside their own box */
  .viqa-table .table-container {min-width: 36em;}
  #viqa-header h1 {font-size: 1.4em;}
  .viqa-table {max-width: 100%; overflow-x: auto;}
  /* one-click examples: a label wraps inside the screen instead of widening the page */
  #ask-examples .gallery-item, #ask-examples .gallery-item > div {max-width: 100%;
    white-space: normal !important; overflow-wrap: anywhere; text-align: left;}
}
"""
