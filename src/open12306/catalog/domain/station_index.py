"""Find stations by what people type: telecode, Chinese name, pinyin, initials or city.

Precedence of :meth:`StationIndex.resolve` (the first rule that matches wins):

1. the query is exactly a station code as stored (``VNP``; telecodes are upper case, GTFS stop
   ids as given) -> that station;
2. the query is a station name and/or a city name (``北京``, ``北京南``, also ``北京南站``)
   -> when it names a city, all the city's stations with the station of that name first
   (even when that station is filed under another city); otherwise the station of that name;
3. full pinyin and pinyin initials (``beijingnan``, ``bjn``) -> every station that has them,
   pinyin hits before initials hits; a pinyin hit on a city's namesake station (``shanghai``)
   brings the whole city along, as in rule 2;
4. the query is a station code in another letter case (``vnp``) -> that station.

So ``SHX`` is the station whose telecode is SHX while ``shx`` means the initials of 上海西.

Every entry point that takes a station takes these forms: search resolves a city to all its
stations; :meth:`StationIndex.on_route` (orders, on-board sales, manifests) picks the stop of a
train's route the query names, a city meaning the route's stop in that city; and
:meth:`StationIndex.one` (a gate's station) needs the query to name one station.
Queries are compared after Unicode NFKC folding, case folding and removing blanks, ``'`` and
``-``. Within every answer stations come in *rank* order: cities' namesake stations (北京), then
stations named after their city (北京南), then the rest; ties keep the order stations were
given in (the shipped file keeps 12306's own order, capitals first).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence

from open12306.catalog.domain.stations import Station
from open12306.shared.errors import DomainError, NotFound

_DROPPED = frozenset(" \t'’-_·.")
_MIN_FUZZY = 3
_CODE_LIKE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,15}")


class UnknownStation(DomainError):
    """No station matches ``query``; ``suggestions`` holds the nearest candidates."""

    def __init__(self, field: str, query: str, suggestions: Iterable[Station]) -> None:
        self.query = query
        self.suggestions = list(suggestions)
        hint = "、".join(f"{s.name} ({s.code})" for s in self.suggestions)
        message = f"unknown station {query!r}" + (f"; did you mean: {hint}?" if hint else "")
        super().__init__(field, "unknown_station", message)


class AmbiguousStation(DomainError):
    """``query`` names several stations where one is needed; ``suggestions`` holds them."""

    def __init__(self, field: str, query: str, candidates: Iterable[Station]) -> None:
        self.query = query
        self.suggestions = list(candidates)
        hint = "、".join(f"{s.name} ({s.code})" for s in self.suggestions[:8])
        more = "…" if len(self.suggestions) > 8 else ""
        message = (
            f"{query!r} names {len(self.suggestions)} stations: {hint}{more}; give one of them"
        )
        super().__init__(field, "ambiguous_station", message)


def normalize(text: str) -> str:
    """The comparison key of ``text``: NFKC, case-folded, blanks and punctuation removed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch not in _DROPPED and ch.isprintable())


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``limit + 1`` when it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return min(previous[-1], limit + 1)


def _deletions(key: str) -> set[str]:
    return {key[:i] + key[i + 1 :] for i in range(len(key))}


def _is_namesake(station: Station) -> bool:
    return bool(station.city) and station.name == station.city


class StationIndex:
    """An in-memory index over stations for exact lookup, autocomplete and near-miss hints.

    Build it from 12306 stations and/or GTFS stops; :meth:`add` joins more stations later
    (it rebuilds the index, so add in bulk).
    """

    def __init__(self, stations: Iterable[Station] = ()) -> None:
        self._by_code: dict[str, Station] = {}
        self._build([])
        self.add(stations)

    # -- building ---------------------------------------------------------------------------

    def add(self, stations: Iterable[Station]) -> None:
        """Join ``stations`` to the index; a code already present raises ``duplicate_code``."""
        new = list(stations)
        merged = dict(self._by_code)
        for station in new:
            if not station.code or not station.name:
                raise DomainError("stations", "empty", f"station {station!r} lacks code or name")
            if station.code in merged:
                raise DomainError(
                    "stations", "duplicate_code", f"station code {station.code!r} already exists"
                )
            merged[station.code] = station
        if new:
            self._by_code = merged
            self._build(list(merged.values()))

    def _build(self, stations: list[Station]) -> None:
        order = {s.code: i for i, s in enumerate(stations)}
        self._ranked = sorted(
            stations,
            key=lambda s: (
                not _is_namesake(s),
                not (s.city and s.name.startswith(s.city)),
                order[s.code],
            ),
        )
        self._rank = {s.code: i for i, s in enumerate(self._ranked)}
        self._code_folded: dict[str, list[Station]] = defaultdict(list)
        self._by_name: dict[str, list[Station]] = defaultdict(list)
        self._by_city: dict[str, list[Station]] = defaultdict(list)
        self._by_pinyin: dict[str, list[Station]] = defaultdict(list)
        self._by_initials: dict[str, list[Station]] = defaultdict(list)
        self._prefixes: dict[str, list[Station]] = defaultdict(list)
        self._near: dict[str, list[Station]] = defaultdict(list)
        self._by_char: dict[str, list[Station]] = defaultdict(list)
        texts: list[str] = []
        self._offsets: list[int] = []
        position = 0
        for station in self._ranked:
            self._index_station(station)
            self._offsets.append(position)
            text = normalize(station.name) + "\0" + station.pinyin + "\0\0"
            texts.append(text)
            position += len(text)
        self._haystack = "".join(texts)

    def _index_station(self, station: Station) -> None:
        name, pinyin, initials = normalize(station.name), station.pinyin, station.initials
        self._code_folded[station.code.casefold()].append(station)
        self._by_name[name].append(station)
        if station.city:
            self._by_city[normalize(station.city)].append(station)
        if pinyin:
            self._by_pinyin[pinyin].append(station)
        if initials:
            self._by_initials[initials].append(station)
        keys = {name, pinyin, initials} - {""}
        for prefix in {key[:end] for key in keys for end in range(1, len(key) + 1)}:
            self._prefixes[prefix].append(station)
        for key in {name, pinyin} - {""}:
            if len(key) >= _MIN_FUZZY:
                for variant in _deletions(key) | {key}:
                    self._near[variant].append(station)
        for char in set(name):
            if not char.isascii():
                self._by_char[char].append(station)

    # -- exact lookups ----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self) -> Iterator[Station]:
        return iter(self._ranked)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def get(self, code: str) -> Station | None:
        """The station with exactly this code, or None."""
        return self._by_code.get(code)

    def city_of(self, code: str) -> str:
        """The city of station ``code`` (its own name when it has no city); NotFound if unknown."""
        station = self._by_code.get(code)
        if station is None:
            raise NotFound("station", "not_found", f"no station with code {code!r}")
        return station.city or station.name

    def stations_in_city(self, city: str) -> list[Station]:
        """All stations of ``city`` in rank order (the namesake station first); [] if unknown."""
        return list(self._by_city.get(normalize(city), ()))

    def resolve(self, query: str) -> list[Station]:
        """Every station ``query`` names exactly, by the precedence in the module docstring."""
        exact = self._by_code.get(query.strip())
        if exact is not None:
            return [exact]
        key = normalize(query)
        if not key:
            return []
        found = self._resolve_key(key)
        if not found and key.endswith("站") and len(key) > 1:
            found = self._resolve_key(key[:-1])
        return found

    def _resolve_key(self, key: str) -> list[Station]:
        named = self._by_name.get(key, [])
        city = self._by_city.get(key, [])
        if named or city:
            return _unique([*named, *city])
        spelled: list[Station] = []
        for station in self._by_pinyin.get(key, []):
            spelled.append(station)
            if _is_namesake(station):
                spelled.extend(self._by_city.get(normalize(station.city), []))
        spelled.extend(self._by_initials.get(key, []))
        if spelled:
            return _unique(spelled)
        return list(self._code_folded.get(key, []))

    def lookup(self, query: str, field: str = "from") -> list[Station]:
        """:meth:`resolve`, raising ``empty`` or :class:`UnknownStation` instead of []."""
        if not normalize(query):
            raise DomainError(field, "empty", f"{field} station must not be empty")
        found = self.resolve(query)
        if not found:
            raise UnknownStation(field, query, self.suggest(query))
        return found

    def on_route(self, query: str, route: Sequence[str], field: str = "station") -> str | None:
        """The code of the stop of ``route`` (station codes in calling order) that ``query``
        names in any form :meth:`resolve` takes: a station (telecode, name, pinyin, initials)
        is that station, a city the route's stop in that city (the first in rank order if the
        route calls at several). None when the stations it names are all off the route;
        ``empty`` or :class:`UnknownStation` (with suggestions) when it names none."""
        wanted = query.strip()
        if wanted in route:
            return wanted
        found = self.resolve(query)
        stops = set(route)
        for station in found:
            if station.code in stops:
                return station.code
        for code in route:  # a stop missing from the index, in another letter case
            if code.casefold() == wanted.casefold():
                return code
        if not found:
            self.lookup(query, field)
        return None

    def one(self, query: str, field: str = "station") -> Station:
        """The one station ``query`` names: a telecode, or a name, pinyin or initials only
        one station has; a name that is also a city's (北京) means the station of that name.
        ``empty`` / :class:`UnknownStation` as :meth:`lookup`; :class:`AmbiguousStation`
        when it names several."""
        found = self.lookup(query, field)
        if len(found) == 1:
            return found[0]
        key = normalize(query)
        keys = {key, key.removesuffix("站")} if len(key) > 1 else {key}
        exact = [s for s in found if normalize(s.name) in keys or s.pinyin in keys]
        if len(exact) == 1:
            return exact[0]
        raise AmbiguousStation(field, query, found)

    def code_of(self, query: str, field: str = "station") -> str:
        """The station code ``query`` stands for: itself when it is a code of this index or is
        written as one (upper-case letters and digits: a transit operator's station, a stop
        kept elsewhere), else the code of the one station it names (:meth:`one`)."""
        wanted = query.strip()
        if wanted in self._by_code or _CODE_LIKE.fullmatch(wanted):
            return wanted
        return self.one(wanted, field).code

    # -- autocomplete and near misses -------------------------------------------------------

    def search(self, prefix: str, limit: int = 10) -> list[Station]:
        """Autocomplete: exact name/pinyin/initials/code hits first, then prefix hits by rank."""
        key = normalize(prefix)
        if not key or limit <= 0:
            return []
        exact = [
            *self._by_name.get(key, []),
            *self._by_pinyin.get(key, []),
            *self._by_initials.get(key, []),
            *self._code_folded.get(key, []),
        ]
        exact.sort(key=self._rank_of)
        return _unique([*exact, *self._prefixes.get(key, [])[:limit]])[:limit]

    def suggest(self, query: str, limit: int = 8) -> list[Station]:
        """Ranked near misses for ``query``: prefix, edit distance ≤ 2, a known shorter prefix,
        substring, then shared Chinese characters."""
        key = normalize(query)
        if not key or limit <= 0:
            return []
        found: list[Station] = []
        for tier in (
            self._prefix_hits,
            self._edit_hits,
            self._shortened_prefix_hits,
            self._substring_hits,
            self._shared_char_hits,
        ):
            found = _unique([*found, *tier(key, limit)])
            if len(found) >= limit:
                break
        return found[:limit]

    def _rank_of(self, station: Station) -> int:
        return self._rank[station.code]

    def _prefix_hits(self, key: str, limit: int) -> list[Station]:
        return self._prefixes.get(key, [])[:limit]

    def _edit_hits(self, key: str, limit: int) -> list[Station]:
        if len(key) < _MIN_FUZZY:
            return []
        candidates = _unique(
            station
            for variant in _deletions(key) | {key}
            for station in self._near.get(variant, [])
        )
        scored = []
        for station in candidates:
            distance = min(
                edit_distance(key, text, 2) for text in (normalize(station.name), station.pinyin)
            )
            if distance <= 2:
                scored.append((distance, self._rank_of(station), station))
        scored.sort(key=lambda item: item[:2])
        return [station for _, _, station in scored[:limit]]

    def _shortened_prefix_hits(self, key: str, limit: int) -> list[Station]:
        for end in range(len(key) - 1, 1, -1):
            hits = self._prefixes.get(key[:end])
            if hits:
                return hits[:limit]
        return []

    def _substring_hits(self, key: str, limit: int) -> list[Station]:
        if len(key) < 2:
            return []
        hits: list[Station] = []
        start = self._haystack.find(key)
        while start >= 0 and len(hits) < limit:
            slot = bisect_right(self._offsets, start) - 1
            hits.append(self._ranked[slot])
            following = slot + 1
            resume = (
                self._offsets[following] if following < len(self._offsets) else len(self._haystack)
            )
            start = self._haystack.find(key, resume)
        return hits

    def _shared_char_hits(self, key: str, limit: int) -> list[Station]:
        shared: Counter[str] = Counter()
        for char in set(key):
            for station in self._by_char.get(char, []):
                shared[station.code] += 1
        best = sorted(shared.items(), key=lambda item: (-item[1], self._rank[item[0]]))
        return [self._by_code[code] for code, _ in best[:limit]]


def _unique(stations: Iterable[Station]) -> list[Station]:
    seen: set[str] = set()
    result = []
    for station in stations:
        if station.code not in seen:
            seen.add(station.code)
            result.append(station)
    return result
