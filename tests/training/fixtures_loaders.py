"""Tiny data files in each official format, written into a test's tmp_path.

Real MovieLens / Book-Crossing files may not be copied into the repository; these fixtures are
hand-made in the same formats (separators, quoting, latin-1) with values chosen so that tests can
state every expected count and feature value by hand.
"""

from __future__ import annotations

from pathlib import Path

ML1M_RATINGS_4 = (
    "1::10::5::978300760\n"
    "1::20::3::978302109\n"
    "2::10::4::978301968\n"
    "3::30::1::978300275\n"
    "2::40::5::978824291\n"
)
ML1M_USERS = (
    "1::F::1::10::48067\n"
    "2::M::56::16::70072\n"
    "3::M::25::15::T8H1N5\n"
    "9::F::35::0::02139\n"  # never rates: not a user of the dataset
)
ML1M_MOVIES = (
    "10::Café Society (1995)::Comedy|Drama\n"
    "20::Toy Story (1995)::Animation|Children's|Comedy\n"
    "30::City of Lost Children, The (1995)::Adventure|Sci-Fi\n"
    "50::Never Rated (1990)::Drama\n"  # not in the ratings: not in the catalogue
)  # movie 40 is rated but missing here: unknown features


def write_ml1m(root: Path, *, timestamps: bool = True, ratings: str | None = None) -> Path:
    """ML-1M files under ``root/ml-1m``; ``ratings`` replaces the ratings text."""
    d = root / "ml-1m"
    d.mkdir(parents=True, exist_ok=True)
    if ratings is None:
        ratings = ML1M_RATINGS_4
        if not timestamps:
            ratings = "".join(ln.rsplit("::", 1)[0] + "\n" for ln in ratings.splitlines())
    (d / "ratings.dat").write_text(ratings, encoding="latin-1")
    (d / "users.dat").write_text(ML1M_USERS, encoding="latin-1")
    (d / "movies.dat").write_bytes(ML1M_MOVIES.encode("latin-1"))
    return d


def _flags(*genres: int) -> str:
    return "|".join("1" if g in genres else "0" for g in range(19))


ML100K_DATA = (
    "196\t242\t3\t881250949\n"
    "186\t302\t3\t891717742\n"
    "196\t302\t4\t881251000\n"
    "186\t267\t1\t891717000\n"
)
ML100K_ITEMS = (
    f"242|Kolya (1996)|24-Jan-1997||http://us.imdb.com/M/title-exact?Kolya%20(1996)|{_flags(5)}\n"
    f"302|L.A. Confidential (1997)|01-Jan-1997||http://x|{_flags(6, 10, 13, 16)}\n"
    f"267|unknown||||{_flags(0)}\n"
    f"400|Crème Brûlée (1980)|01-Jan-1980||http://y|{_flags(8)}\n"
)
ML100K_USERS = "196|49|M|writer|55105\n186|39|F|executive|00000\n"


def write_ml100k(root: Path, *, data: str | None = None) -> Path:
    d = root / "ml-100k"
    d.mkdir(parents=True, exist_ok=True)
    (d / "u.data").write_text(data if data is not None else ML100K_DATA, encoding="latin-1")
    (d / "u.item").write_bytes(ML100K_ITEMS.encode("latin-1"))
    (d / "u.user").write_text(ML100K_USERS, encoding="latin-1")
    return d


BX_RATINGS = (
    '"User-ID";"ISBN";"Book-Rating"\n'
    '"276725";"034545104X";"0"\n'
    '"276726";"0155061224";"5"\n'
    '"276725";"0195153448";"0"\n'
    '"276727";"0446520802";"0"\n'
    '"276726";"9999999999";"7"\n'  # not in BX-Books.csv
)
BX_BOOKS = (
    '"ISBN";"Book-Title";"Book-Author";"Year-Of-Publication";"Publisher";'
    '"Image-URL-S";"Image-URL-M";"Image-URL-L"\n'
    '"0195153448";"Classical Mythology";"Mark P. O. Morford";"2002";"Oxford University Press";'
    '"http://s";"http://m";"http://l"\n'
    '"034545104X";"Flesh Tones: A Novel";"M. J. Rose";"2002";"Ballantine Books";"s";"m";"l"\n'
    '"0155061224";"Rites of Passage; Café Stories";"Judith Rae";"0";"Heinle &amp; Heinle";'
    '"s";"m";"l"\n'
    # The real file's malformed kind of line: an escaped quote ends the title, the author follows
    # unquoted.
    '"0446520802";"DK Readers: Creating the X-Men (Level 4: Proficient Readers)\\";'
    'Michael Teitelbaum";"2000";"DK Publishing Inc";"s";"m";"l"\n'
)
BX_USERS = (
    '"User-ID";"Location";"Age"\n'
    '"276725";"tyler, texas, usa";NULL\n'
    '"276726";"seattle, washington, USA ";"25"\n'
    '"276727";"rijeka, n/a, n/a";"16"\n'
    '"276799";"stockton, california, usa";"18"\n'  # never rates
)


def write_bookcrossing(
    root: Path,
    *,
    ratings: str | None = None,
    books: str | None = None,
    users: str | None = None,
) -> Path:
    d = root / "bx"
    d.mkdir(parents=True, exist_ok=True)
    (d / "BX-Book-Ratings.csv").write_bytes((ratings or BX_RATINGS).encode("latin-1"))
    (d / "BX-Books.csv").write_bytes((books or BX_BOOKS).encode("latin-1"))
    (d / "BX-Users.csv").write_bytes((users or BX_USERS).encode("latin-1"))
    return d


CSV_INTERACTIONS = (
    "user,item,ts,rating\n"
    "alice,m1,100,5\n"
    "bob,m2,50,3\n"
    "alice,m2,200,4\n"
    'carol,"m,3",10,1\n'  # a quoted separator inside an id
)
CSV_ITEMS = (
    "item,genres,studio\n"
    "m1,Action|Comedy|Action,Ghibli\n"
    '"m,3",,Pixar\n'
    "m9,Drama,A24\n"  # never interacted with: ignored
)  # m2 has no row: unknown features
CSV_USERS = "user;age_group\nalice;young\nbob;\n"


def write_csv(root: Path, files: dict[str, str] | None = None) -> Path:
    """The csv-loader fixture files (``files`` overrides / adds file contents by name)."""
    d = root / "own"
    d.mkdir(parents=True, exist_ok=True)
    contents = {
        "interactions.csv": CSV_INTERACTIONS,
        "items.csv": CSV_ITEMS,
        "users.csv": CSV_USERS,
    }
    contents.update(files or {})
    for name, text in contents.items():
        (d / name).write_text(text, encoding="utf-8")
    return d
