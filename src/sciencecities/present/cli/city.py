"""`sciencecities city NAME`: the profile of one science city, section by section."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import pyarrow as pa
import typer

from sciencecities.errors import InputError
from sciencecities.present.cli.common import (
    BoundariesOpt,
    EditionOpt,
    FormatOpt,
    OutOpt,
    StoreOpt,
    YearOpt,
    YearsOpt,
    ensure_built,
    err,
    out,
    parse_years,
    settings,
)
from sciencecities.present.export import Format, rich_table, write_sections
from sciencecities.rank.profile import CityProfile, city_profile
from sciencecities.store import Store

__all__ = ["city_cmd"]


def city_cmd(
    name: Annotated[
        str, typer.Argument(help="The science city: its id or name, e.g. Hefei, Boston or 'Cambridge, GB'.")
    ],
    year: YearOpt = None,
    years: YearsOpt = None,
    boundaries: BoundariesOpt = None,
    top: Annotated[int, typer.Option("--top", help="How many institutions to list.")] = 10,
    fmt: FormatOpt = Format.table,
    out_file: OutOpt = None,
    store: StoreOpt = None,
    edition: EditionOpt = None,
) -> None:
    """The profile of a science city: rank, Share and Count by year, subjects and specialisation, institutions,
    contribution to its country's Share (default window: the latest year)."""
    conf = settings(store=store, edition=edition, boundaries=boundaries)
    data = Store(conf.store)
    edition_name = ensure_built(data, conf, "city")
    profile = city_profile(
        data, name, years=parse_years(year, years), edition=edition_name, boundaries=conf.boundaries, top=top
    )
    if fmt is Format.table:
        if out_file is not None:
            raise InputError("--out needs a file format", "add --format json, xlsx, csv or parquet")
        _print(profile)
    elif fmt is Format.json:
        payload = {"meta": profile.meta, "summary": profile.summary}
        payload |= {k: v.to_pylist() for k, v in profile.tables().items() if k != "summary"}
        text = json.dumps(payload, indent=2, default=str) + "\n"
        (out_file.write_text(text, encoding="utf-8") if out_file else sys.stdout.write(text))
    else:
        write_sections(profile.tables(), fmt, out_file, profile.meta)
    if not profile.summary["count"]:
        err.print(
            f"[yellow]{profile.city.name} has no credited articles in {profile.meta['edition']} in "
            f"{profile.summary['years']}[/]: try --years, or another edition"
        )
    if out_file is not None:
        err.print(f"wrote the profile of {profile.city.name} to {out_file}")


def _print(profile: CityProfile) -> None:
    summary = profile.summary
    rows: list[tuple[str, Any]] = [
        ("science city", f"{summary['name']} ({summary['id']}), {summary['country']}"),
        ("years", summary["years"]),
        ("rank", f"{summary['rank']} of {summary['of_cities']}" if summary["rank"] else "not ranked"),
        ("previous rank", summary["previous_rank"]),
        ("Share", f"{summary['share']:,.3f}"),
        ("Count", f"{summary['count']:,}"),
        (
            "Adjusted Share",
            None if summary["adjusted_share"] is None else f"{summary['adjusted_share']:,.3f}",
        ),
        ("change in Adjusted Share", None if summary["change"] is None else f"{summary['change']:+.1%}"),
        (
            "contribution to the country's Share",
            None
            if summary["contribution_to_country"] is None
            else f"{summary['contribution_to_country']:.1f}%",
        ),
        ("institutions with Share", summary["institutions"]),
    ]
    facts = pa.table(
        {"field": [k for k, _ in rows], "value": ["-" if v is None else str(v) for _, v in rows]}
    )
    out.print(
        rich_table(
            facts, f"{summary['name']} ({profile.meta['edition']}, boundaries {profile.meta['boundaries']})"
        )
    )
    out.print(rich_table(profile.by_year, "rank, Count and Share by year"))
    if profile.subjects.num_rows:
        out.print(
            rich_table(profile.subjects, "subjects (specialisation > 1: more of its output than the world's)")
        )
    out.print(
        rich_table(
            profile.institutions.drop_columns(["previous_rank", "adjusted_share_previous"]), "institutions"
        )
    )
    if profile.collaborators is not None:
        out.print(rich_table(profile.collaborators, "top collaborating cities"))
