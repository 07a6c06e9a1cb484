"""`sciencecities highlights --year Y [--vs Y0]`: the facts of a news story about a ranking, as Markdown
sentences or as JSON facts with the numbers behind each."""

from __future__ import annotations

import json
import sys
from enum import Enum
from typing import Annotated

import typer
from rich.markdown import Markdown

from sciencecities.present.cli.common import (
    BoundariesOpt,
    EditionOpt,
    LevelOpt,
    OutOpt,
    StoreOpt,
    ensure_built,
    err,
    out,
    settings,
)
from sciencecities.rank.highlights import highlights
from sciencecities.store import Store

__all__ = ["HighlightsFormat", "highlights_cmd"]


class HighlightsFormat(str, Enum):
    """Output formats of `highlights`: Markdown sentences, or JSON facts with their numbers and metadata."""

    markdown = "markdown"
    json = "json"


def highlights_cmd(
    year: Annotated[int, typer.Option("--year", help="The year of the ranking to report on.")],
    vs: Annotated[
        int | None, typer.Option("--vs", help="The year to compare with [default: the year before].")
    ] = None,
    level: LevelOpt = "city",
    boundaries: BoundariesOpt = None,
    fmt: Annotated[
        HighlightsFormat, typer.Option("--format", "-f", help="Markdown sentences or JSON facts.")
    ] = HighlightsFormat.markdown,
    out_file: OutOpt = None,
    store: StoreOpt = None,
    edition: EditionOpt = None,
) -> None:
    """The facts a news story about the ranking states, computed: the top 10 and their moves, new entrants to
    the top 10/50/200, the biggest risers and fallers in Adjusted Share, entities per country in each tier,
    subject sweeps, and overtakes in the top 10."""
    conf = settings(store=store, edition=edition, boundaries=boundaries)
    data = Store(conf.store)
    name = ensure_built(data, conf, level)
    story = highlights(data, year=year, vs=vs, level=level, edition=name, boundaries=conf.boundaries)
    if fmt is HighlightsFormat.json:
        text = json.dumps(story.to_json(), indent=2, default=str) + "\n"
    else:
        text = story.to_markdown()
    if out_file is not None:
        out_file.write_text(text, encoding="utf-8")
        err.print(f"wrote {len(story.facts)} facts to {out_file}")
    elif fmt is HighlightsFormat.markdown and out.is_terminal:
        out.print(Markdown(text))
    else:
        sys.stdout.write(text)
