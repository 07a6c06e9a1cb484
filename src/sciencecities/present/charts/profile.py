"""The subject profile of one entity: where it publishes more, or less, than the world does."""

from __future__ import annotations

import altair as alt

from sciencecities.present.charts._data import Rows, frame, inline

STRONGER = "#2f6f9f"
WEAKER = "#b9c3cc"
"""Bar colours for subjects above and below the world's average (specialisation 1)."""


def subject_profile(rows: Rows, title: str) -> alt.LayerChart:
    """Bars of specialisation per subject with a rule at 1 (the world average) and the entity's Share
    written beside each bar, strongest subject first.

    `rows` has one row per subject: `subject` (display name), `share` (the entity's Share in it),
    `world_share` (the subject's fraction of all the world's articles) and `specialisation` (the subject's
    fraction of the entity's own Share over `world_share`).
    """
    df = frame(rows, ("subject", "share", "world_share", "specialisation"), "subject profile")
    df = df.sort_values(["specialisation", "subject"], ascending=[False, True])
    df["share_label"] = df["share"].map("Share {:,.2f}".format)
    y = alt.Y("subject:N", sort=list(df["subject"]), title=None)
    x = alt.X("specialisation:Q", title="Specialisation (1 = world average)")
    tips = [
        alt.Tooltip("subject:N", title="Subject"),
        alt.Tooltip("share:Q", title="Share", format=",.2f"),
        alt.Tooltip("world_share:Q", title="World's fraction in the subject", format=".1%"),
        alt.Tooltip("specialisation:Q", title="Specialisation", format=".2f"),
    ]
    base = alt.Chart(inline(df))
    bars = base.mark_bar().encode(
        x=x,
        y=y,
        color=alt.condition(alt.datum.specialisation >= 1, alt.value(STRONGER), alt.value(WEAKER)),
        tooltip=tips,
    )
    shares = base.mark_text(align="left", dx=4, fontSize=10).encode(x=x, y=y, text="share_label:N")
    world = (
        alt.Chart(alt.InlineData(values=[{"average": 1.0}]))
        .mark_rule(strokeDash=[4, 3])
        .encode(x="average:Q")
    )
    return alt.LayerChart(layer=[bars, world, shares], title=title).properties(width=420, height=alt.Step(22))
