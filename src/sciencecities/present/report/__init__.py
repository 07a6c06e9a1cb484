"""`sciencecities report`: a static, offline HTML report of one year: highlights, tables, charts, and the
method statement (edition, boundaries, options, coverage, audit summary), with every table as CSV and xlsx."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from sciencecities import __version__, editions
from sciencecities.audit import audit
from sciencecities.errors import InputError, ScienceCitiesError
from sciencecities.index.build import built_names, describe, load_index
from sciencecities.present.export import write_xlsx
from sciencecities.rank.access import built_edition
from sciencecities.rank.collaboration import collaboration
from sciencecities.rank.highlights import highlights
from sciencecities.rank.queries import city_locations, rank, trend
from sciencecities.resolve.subjects import ALL
from sciencecities.store import Store

__all__ = ["Report", "build_report"]


@dataclass(frozen=True)
class Report:
    """What `build_report` wrote: the index page and every file beside it."""

    index: Path
    files: list[Path]
    year: int


def build_report(
    store: Store,
    out: Path,
    *,
    year: int | None = None,
    edition: str = "nature-index",
    boundaries: str = "metro",
    top: int = 20,
    resamples: int | None = 1000,
    seed: int = 0,
) -> Report:
    """Write the report of `year` (default: the latest year with articles) into the folder `out`.

    The page shows the highlights against the year before, the top science cities (bars and a world map),
    countries, the ranks of the leading cities over the years, the leading city per subject, the strongest
    collaborations between cities (and their network), and the method with its coverage and audit summary.
    Charts are PNG and SVG; nothing is fetched from the internet when the page is opened. The city and
    country tables carry 95% stability intervals of Share and rank from `resamples` bootstrap resamples
    drawn with `seed` (None: no intervals).
    """
    from sciencecities.present import charts  # imported here: Altair and vl-convert take a second to load

    built, method = built_edition(store, edition)
    name = built["edition"]
    year = year if year is not None else _latest(store, name)
    out.mkdir(parents=True, exist_ok=True)
    (out / "charts").mkdir(exist_ok=True)
    (out / "tables").mkdir(exist_ok=True)
    files: list[Path] = []
    window = (year, year)

    def table_block(
        key: str, title: str, table: pa.Table, columns: list[str], note: str = ""
    ) -> dict[str, Any]:
        path = out / "tables" / f"{key}.csv"
        pacsv.write_csv(table, path)
        files.append(path)
        tables[key] = table
        return {
            "id": key,
            "title": title,
            "note": note,
            "charts": [],
            "table": _html_table(table, columns, path, out),
        }

    def chart(block: dict[str, Any], key: str, drawing: Any, alt: str) -> None:
        png = charts.save(drawing, out / "charts" / f"{key}.png")
        svg = charts.save(drawing, out / "charts" / f"{key}.svg")
        files.extend([png, svg])
        block["charts"].append({"png": _rel(png, out), "svg": _rel(svg, out), "alt": alt})

    tables: dict[str, pa.Table] = {}
    blocks = []
    uncertainty: dict[str, Any] = (
        {"intervals": True, "resamples": resamples, "seed": seed} if resamples is not None else {}
    )
    interval_note = (
        f" share_lo-share_hi and rank_lo-rank_hi: 95% stability intervals over {resamples:,} bootstrap "
        f"resamples of the articles (seed {seed})."
        if uncertainty
        else ""
    )
    interval_columns = ["share_lo", "share_hi", "rank_lo", "rank_hi"] if uncertainty else []
    cities = rank(store, level="city", years=window, edition=name, boundaries=boundaries, **uncertainty)
    if cities.table.num_rows == 0:
        raise InputError(f"edition {name} has no credited articles in {year}", "give --year a year with data")
    located = city_locations(store, edition=name, boundaries=boundaries)
    mapped = cities.table.join(located, "id", join_type="left outer").sort_by([("rank", "ascending")])
    block = table_block(
        "cities",
        f"Top {top} science cities, {year}",
        _top(cities.table, top),
        [
            "rank",
            "previous_rank",
            "name",
            "country_code",
            "count",
            "share",
            "adjusted_share",
            "change",
            "contribution",
            *interval_columns,
        ],
        "contribution: the city's Share as a percentage of its country's; change: in Adjusted Share against "
        f"{year - 1}." + interval_note,
    )
    chart(
        block, "top_cities", charts.top_bars(cities.table, f"Science cities by Share, {year}", n=top), "bars"
    )
    chart(block, "world", charts.world_map(mapped, f"Science cities by Share, {year}"), "world map")
    blocks.append(block)
    leaders = trend(store, level="city", edition=name, boundaries=boundaries, top=10, years=(year - 9, year))
    if leaders.table.num_rows:
        block = {
            "id": "trajectories",
            "title": "Ranks of the leading cities",
            "note": "",
            "charts": [],
            "table": None,
        }
        chart(block, "bump", charts.bump(leaders.table, f"Rank by year, top 10 of {year}"), "bump chart")
        tables["trajectories"] = leaders.table
        blocks.append(block)
    countries = rank(store, level="country", years=window, edition=name, **uncertainty)
    blocks.append(
        table_block(
            "countries",
            f"Top {top} countries, {year}",
            _top(countries.table, top),
            [
                "rank",
                "previous_rank",
                "name",
                "count",
                "share",
                "adjusted_share",
                "change",
                *interval_columns,
            ],
            interval_note.strip(),
        )
    )
    blocks.append(
        table_block(
            "subjects",
            f"Leading science city per subject, {year}",
            *_subjects(store, method, window, boundaries),
        )
    )
    pairs = collaboration(store, level="city", years=window, edition=name, boundaries=boundaries, top=top)
    if pairs.table.num_rows:
        block = table_block(
            "collaboration",
            f"Strongest collaborations between science cities, {year}",
            pairs.table,
            ["rank", "name_a", "country_code_a", "name_b", "country_code_b", "articles", "score"],
            "score: the summed Share of both cities on the articles they co-author (DESIGN §4).",
        )
        ids = set(pairs.table["id_a"].to_pylist()) | set(pairs.table["id_b"].to_pylist())
        nodes = cities.table.filter(pc.is_in(cities.table["id"], pa.array(sorted(ids))))
        chart(
            block,
            "network",
            charts.network(pairs.table, nodes, f"Collaboration between cities, {year}"),
            "network",
        )
        blocks.append(block)
    if built_names(store):
        from sciencecities.present.charts.index import score_intervals

        built_index = load_index(store)
        block = table_block(
            "index",
            f"Composite index: {built_index.manifest.get('title') or built_index.manifest['framework']}",
            pa.Table.from_pandas(built_index.scores.head(top), preserve_index=False),
            ["rank", "name", "country_code", "score", "tier_label", "median_rank", "rank_lo", "rank_hi"],
            describe(built_index.manifest),
        )
        drawing = score_intervals(built_index.scores, "Index scores and rank intervals", top)
        chart(block, "index", drawing, "index")
        blocks.append(block)
    facts = _facts(store, year, name, boundaries)
    report = audit(store, name)
    written = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    method_rows = _method(store, built, method, boundaries, cities.meta, year)
    xlsx = out / "report.xlsx"
    write_xlsx(tables, xlsx, {"edition": name, "boundaries": boundaries, "year": year, **dict(method_rows)})
    facts_path = out / "highlights.json"
    facts_path.write_text(json.dumps(facts[1], indent=2, default=str) + "\n", encoding="utf-8")
    page = _template().render(
        title=f"Science cities {year}: {method.title}",
        subtitle=f"Edition {name} v{method.version}, boundaries {boundaries}; Share by fractional counting",
        sections=[{"id": "highlights", "title": "Highlights"}, *blocks, {"id": "method", "title": "Method"}],
        highlights=facts[0],
        blocks=blocks,
        method=method_rows,
        audit=_audit_rows(report),
        version=__version__,
        written=written,
    )
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return Report(index, [index, xlsx, facts_path, *files], year)


def _latest(store: Store, edition: str) -> int:
    totals = store.read("article_totals", edition)
    last = pc.max(totals.filter(pc.equal(totals["subject"], ALL))["year"]).as_py()
    if last is None:
        raise InputError(f"edition {edition} has no eligible articles", "ingest works of its journals first")
    return int(last)


def _top(table: pa.Table, top: int) -> pa.Table:
    return table.filter(pc.less_equal(table["rank"], top))


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _cell(value: Any) -> dict[str, Any]:
    if value is None:
        return {"text": "-", "numeric": False}
    if isinstance(value, float):
        return {"text": f"{value:,.3f}", "numeric": True}
    return {"text": str(value), "numeric": isinstance(value, int)}


def _html_table(table: pa.Table, columns: list[str], csv: Path, root: Path) -> dict[str, Any]:
    shown = [c for c in columns if c in table.column_names]
    rows = [[_cell(row[c]) for c in shown] for row in table.select(shown).to_pylist()]
    return {"columns": shown, "rows": rows, "csv": _rel(csv, root)}


def _subjects(
    store: Store, method: editions.Edition, window: tuple[int, int], boundaries: str
) -> tuple[pa.Table, list[str]]:
    """One row per subject of the edition: its leading city, the city's Share, and the subject's articles."""
    rows = []
    for sid, label in method.subjects.items():
        first = rank(
            store, level="city", years=window, subject=sid, edition=method.name, boundaries=boundaries, top=1
        )
        leader = first.table.to_pylist()
        rows.append(
            {
                "subject": label,
                "leader": ", ".join(r["name"] for r in leader) or "-",
                "country_code": ", ".join(sorted({r["country_code"] or "-" for r in leader})) or "-",
                "share": leader[0]["share"] if leader else None,
                "count": leader[0]["count"] if leader else None,
            }
        )
    schema = pa.schema(
        [
            ("subject", pa.string()),
            ("leader", pa.string()),
            ("country_code", pa.string()),
            ("share", pa.float64()),
            ("count", pa.int64()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema), ["subject", "leader", "country_code", "share", "count"]


def _facts(store: Store, year: int, edition: str, boundaries: str) -> tuple[list[str], dict[str, Any]]:
    """The highlights' sentences and JSON; none when the year before has nothing to compare with."""
    try:
        found = highlights(store, year=year, edition=edition, boundaries=boundaries)
    except ScienceCitiesError as exc:
        return [], {"year": year, "facts": [], "note": exc.message}
    return [fact.text for fact in found.facts], found.to_json()


def _method(
    store: Store,
    built: dict[str, Any],
    method: editions.Edition,
    boundaries: str,
    meta: dict[str, Any],
    year: int,
) -> list[tuple[str, str]]:
    """The method statement: what was counted, how, on what data."""
    geography = built.get("geography", {})
    sets = geography.get("boundaries", {})
    coverage = meta.get("coverage", {})
    options = built["options"]
    placed = coverage.get("placed_share_fraction")
    return [
        ("edition", f"{method.name} v{method.version}: {method.title}"),
        ("journals", str(len(method.journal_list())) if method.has_journal_list else "every source"),
        ("subjects", ", ".join(method.subjects.values()) or "none"),
        ("boundaries", f"{boundaries} v{sets.get(boundaries, {}).get('version', '?')}"),
        ("year", str(year)),
        ("base year of Adjusted Share", str(meta.get("base_year"))),
        ("counting", "fractional (Share): 1/n per affiliated author, split over the author's institutions"),
        ("options", ", ".join(f"{k}={v}" for k, v in sorted(options.items()))),
        ("works in the store", f"{coverage.get('works_in_store') or 0:,}"),
        ("eligible articles (all years)", f"{coverage.get('eligible_articles') or 0:,}"),
        ("articles with an affiliated author", f"{coverage.get('credited_articles') or 0:,}"),
        ("Share placed in a science city", "-" if placed is None else f"{placed:.1%}"),
        ("store", f"{store.root} (version {meta.get('store_version')})"),
        ("built", str(built.get("built"))),
    ]


def _audit_rows(report: Any) -> list[tuple[str, str]]:
    totals = report.totals
    skipped = ", ".join(
        f"{r['reason']}: {r['works']:,}" for r in report.sections.get("skipped_works", [])[:8]
    )
    rows = [
        ("records in quarantine", f"{totals.get('quarantined', 0):,}"),
        ("works not counted, by reason", skipped or "none"),
    ]
    if totals.get("built"):
        rows += [
            (
                "institutions without a country (their Share)",
                f"{totals['institutions_without_country']:,} ({totals['share_without_country']:.3f})",
            ),
            (
                "credited institutions without a place (their Share)",
                f"{totals['credited_institutions_without_place']:,} ({totals['share_without_place']:.3f})",
            ),
            ("institutions placed outside their country code", f"{totals['place_country_disagreements']:,}"),
            ("works with truncated author lists", f"{totals['works_with_truncated_author_lists']:,}"),
        ]
    return rows


def _template() -> jinja2.Template:
    folder = resources.files("sciencecities.present.report") / "templates"
    text = (folder / "report.html.j2").read_text(encoding="utf-8")
    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(text)
