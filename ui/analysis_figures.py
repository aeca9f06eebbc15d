"""Figures of an evaluation's analysis (plotly): the reliability diagram, the no-answer trade-off
and F1 by slice. They draw the dictionaries ``qa_core.evaluation.analysis`` builds (the ones in
``metrics.json``), so the Evaluate tab and a notebook plot the same numbers ``train.evaluate``
writes. Several models go side by side as ``{name: data}``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import plotly.graph_objects as go

from ui.figures import empty_figure
from ui.i18n import DEFAULT_LANGUAGE, t
from ui.tables import slice_name

MODEL_COLORS = ("#3b82f6", "#f59e0b", "#16a34a", "#a855f7")  # A blue, B amber, then more
PRECISION_COLOR, RECALL_COLOR, F1_COLOR = "#0d9488", "#a855f7", "#3b82f6"
NORMALIZATION_LABELS = {"squad": "SQuAD", "mlqa_vi": "MLQA-vi"}


def _escape(text: str) -> str:
    # Plotly reads a few HTML tags in names and text; a checkpoint called "<b>" stays text.
    return html.escape(str(text), quote=False)


def _color(i: int) -> str:
    return MODEL_COLORS[i % len(MODEL_COLORS)]


def _layout(fig: go.Figure, title: str | None, height: int, **layout) -> go.Figure:
    """The look the analysis figures share: title top left, legend in a row above the plot."""
    fig.update_layout(
        title=dict(text=_escape(title), x=0.01, y=0.98, yanchor="top", font=dict(size=14))
        if title
        else None,
        height=height,
        margin=dict(l=55, r=10, t=75 if title else 40, b=45),
        legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
        plot_bgcolor="rgba(0,0,0,0)",
        **layout,
    )
    return fig


def reliability_figure(calibrations: Mapping[str, Mapping], title: str | None = None,
                       lang: str = DEFAULT_LANGUAGE) -> go.Figure:
    """Accuracy against confidence per probability bin, for each ``{name: calibration}``.

    A calibrated model's bars reach the dashed diagonal; bars below it mean overconfidence.
    Each legend entry gives the model's ECE; hovering a bar gives its questions and mean
    probability. Empty bins have no bar.
    """
    if not any(b["count"] for cal in calibrations.values() for b in cal["bins"]):
        return empty_figure(t("figure.no_predictions", lang))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name=t("figure.calibrated", lang),
            line=dict(color="#9ca3af", dash="dash"),
            hoverinfo="skip",
        )
    )
    for i, (name, cal) in enumerate(calibrations.items()):
        bins = [b for b in cal["bins"] if b["count"]]
        fig.add_trace(
            go.Bar(
                x=[(b["lo"] + b["hi"]) / 2 for b in bins],
                y=[b["accuracy"] for b in bins],
                width=[(b["hi"] - b["lo"]) / max(len(calibrations), 1) * 0.9 for b in bins],
                offset=[
                    (b["lo"] - (b["lo"] + b["hi"]) / 2)
                    + i * (b["hi"] - b["lo"]) / max(len(calibrations), 1)
                    for b in bins
                ],
                customdata=[[b["lo"], b["hi"], b["count"], b["mean_probability"]] for b in bins],
                name=f"{_escape(name)} (ECE {cal['ece']:.3f})",
                marker=dict(color=_color(i)),
                hovertemplate=t("figure.reliability_hover", lang) + "<extra>%{fullData.name}</extra>",
            )
        )
    return _layout(
        fig,
        title,
        380,
        xaxis=dict(title=dict(text=t("figure.top_probability", lang)), range=[0, 1], dtick=0.1),
        yaxis=dict(title=dict(text=t("figure.fraction_right", lang)), range=[0, 1.02]),
        barmode="overlay",  # each bar's offset places it in its bin
    )


def no_answer_figure(curve: Mapping | None, title: str | None = None,
                     lang: str = DEFAULT_LANGUAGE) -> go.Figure:
    """Precision and recall of "no answer" and overall F1 (%) against the no-answer threshold,
    the chosen threshold as a dashed line and the best F1 as a star."""
    if not curve or not curve.get("points"):
        return empty_figure(t("figure.no_trade_off", lang))
    points = curve["points"]
    x = [p["threshold"] for p in points]

    def percent(key: str) -> list[float | None]:
        return [None if p[key] is None else 100.0 * p[key] for p in points]

    fig = go.Figure()
    for label, color, values in (
        (t("figure.precision", lang), PRECISION_COLOR, percent("precision")),
        (t("figure.recall", lang), RECALL_COLOR, percent("recall")),
        (t("figure.f1_all", lang, normalization=curve.get("normalization", "")), F1_COLOR,
         [p["f1"] for p in points]),
    ):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=values,
                mode="lines",
                name=_escape(label),
                line=dict(color=color, width=2),
                line_shape="hv",
                connectgaps=False,
                hovertemplate=t("figure.threshold_hover", lang, what=_escape(label))
                + "<extra></extra>",
            )
        )
    best = curve.get("best")
    if best:
        fig.add_trace(
            go.Scatter(
                x=[best["threshold"]],
                y=[best["f1"]],
                mode="markers",
                name=t("figure.best_f1", lang),
                marker=dict(symbol="star", size=14, color=F1_COLOR),
                hovertemplate=t("figure.best_f1_hover", lang) + "<extra></extra>",
            )
        )
    chosen = curve.get("chosen")
    if chosen:
        # The label sits low, on a background: the precision and recall lines run near 100%
        # at the top, where they crossed it.
        fig.add_vline(
            x=chosen["threshold"],
            line=dict(color="#ef4444", dash="dash", width=2),
            annotation=dict(
                text=t("figure.chosen", lang, threshold=f"{chosen['threshold']:.3f}",
                       f1=f"{chosen['f1']:.1f}"),
                font=dict(color="#ef4444"), bgcolor="rgba(255,255,255,0.85)",
            ),
            annotation_position="bottom right",
        )
    return _layout(
        fig,
        title,
        380,
        xaxis=dict(title=dict(text=t("figure.threshold_axis", lang))),
        yaxis=dict(title=dict(text="%"), range=[0, 102]),
        hovermode="x unified",
    )


def breakdown_figure(
    breakdowns: Mapping[str, Mapping[str, Mapping]],
    *,
    normalization: str = "mlqa_vi",
    metric: str = "f1",
    title: str | None = None,
    lang: str = DEFAULT_LANGUAGE,
) -> go.Figure:
    """Bars of ``metric`` per slice, one colour per ``{name: breakdown}`` (e.g. A and B).

    A breakdown is ``{slice: {count, squad: {exact, f1}, mlqa_vi: {exact, f1}}}``; slices come
    in the first model's order, then any only the others have.
    """
    slices = list(dict.fromkeys(s for b in breakdowns.values() for s in b))
    if not slices:
        return empty_figure(t("figure.nothing_to_break_down", lang))
    fig = go.Figure()
    for i, (name, breakdown) in enumerate(breakdowns.items()):
        present = [s for s in slices if s in breakdown]
        values = [breakdown[s][normalization][metric] for s in present]
        fig.add_trace(
            go.Bar(
                x=[_escape(slice_name(s, lang)) for s in present],
                y=values,
                name=_escape(name),
                marker=dict(color=_color(i)),
                text=[f"{v:.1f}" for v in values],
                textposition="outside",
                customdata=[breakdown[s]["count"] for s in present],
                hovertemplate=t("figure.slice_hover", lang) + "<extra>%{fullData.name}</extra>",
            )
        )
    label = f"{'F1' if metric == 'f1' else 'EM'} ({NORMALIZATION_LABELS.get(normalization, normalization)})"
    return _layout(
        fig,
        title,
        360,
        barmode="group",
        xaxis=dict(categoryorder="array",
                   categoryarray=[_escape(slice_name(s, lang)) for s in slices]),
        yaxis=dict(title=dict(text=label), range=[0, 110]),
        showlegend=len(breakdowns) > 1,
    )


def f1_by_question_type_figure(
    by_question_type: Mapping[str, Mapping[str, Mapping]],
    normalization: str = "mlqa_vi",
    title: str | None = None,
    lang: str = DEFAULT_LANGUAGE,
) -> go.Figure:
    """:func:`breakdown_figure` of F1 by question type, for ``{name: by_question_type}``."""
    return breakdown_figure(by_question_type, normalization=normalization, title=title,
                            lang=lang)
