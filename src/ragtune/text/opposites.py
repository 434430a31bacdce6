"""Word lists behind :mod:`ragtune.text.contradiction`: negation cues, clause boundaries,
number words and units, antonyms, quantifier classes and value sets (months, weekdays,
frequencies). Plain data, so a team can read (and extend) what the judge treats as
opposite. Example::

    UNITS["mins"], UNITS["minutes"]      # ("time", "min") twice: the same unit
    QUANT["always"], QUANT["sometimes"]  # "every", "some": a quantifier change
"""

from __future__ import annotations

CUES = frozenset("not never no none nobody nothing nowhere neither nor cannot without".split())
BOUNDS = frozenset(
    "and but while whereas although though however because unless except which who whom "
    "whose where when if so yet until".split()
)
BOUND_AFTER = frozenset("more less later earlier fewer greater longer than".split())
# "one" is left out: it is a pronoun as often as a number ("one of the managers").
NUM_WORDS = dict(
    zip(
        "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty "
        "ninety".split(),
        [*range(2, 21), 30, 40, 50, 60, 70, 80, 90],
        strict=True,
    )
)
SCALE = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}
# family: synonym groups (the first name of a group is the unit's canonical name), so that
# "30 mins" = "30 minutes" but "30 minutes" != "30 hours".
UNIT_FAMILIES = {
    "size": "b byte bytes|kb kib kilobyte kilobytes|mb mib megabyte megabytes|gb gib gigabyte "
    "gigabytes|tb tib terabyte terabytes|pb",
    "time": "ns|ms millisecond milliseconds|s sec secs second seconds|min mins minute minutes|"
    "h hr hrs hour hours|day days|week weeks|month months|year years",
    "length": "mm|cm|km|m metre metres meter meters|inch inches|ft feet foot|mile miles",
    "money": "eur € euro euros|usd $ dollar dollars|gbp £ pound pounds|chf|cent cents",
    "percent": "% percent",
    "rate": "hz|khz|mhz|ghz|rpm",
}
UNITS = {
    word: (family, group.split()[0])
    for family, groups in UNIT_FAMILIES.items()
    for group in groups.split("|")
    for word in group.split()
}
UNIT_SKIP = frozenset("working calendar business consecutive full whole additional extra".split())
ANTONYMS = [
    p.split("/")
    for p in (
        "increase/decrease increase/reduce rise/fall raise/lower enable/disable before/after "
        "minimum/maximum allow/deny allow/forbid allowed/forbidden permitted/forbidden "
        "allow/prohibit permit/forbid permit/prohibit accept/reject approve/reject grant/revoke "
        "include/exclude "
        "inclusive/exclusive add/remove true/false open/closed start/stop begin/end first/last "
        "earliest/latest earlier/later early/late higher/lower highest/lowest more/less "
        "most/least larger/smaller largest/smallest bigger/smaller above/below upper/lower "
        "longer/shorter long/short faster/slower fast/slow public/private required/optional "
        "mandatory/optional internal/external input/output success/failure succeed/fail "
        "pass/fail synchronous/asynchronous sync/async local/remote online/offline "
        "automatically/manually automatic/manual explicit/implicit explicitly/implicitly "
        "static/dynamic visible/hidden show/hide encrypt/decrypt compress/decompress "
        "upload/download import/export push/pull inside/outside increment/decrement "
        "ascending/descending permanent/temporary permanently/temporarily full/empty "
        "lowercase/uppercase same/different positive/negative gain/loss win/lose "
        "better/worse best/worst strong/weak new/old newer/older newest/oldest "
        "connect/disconnect appear/disappear agree/disagree continue/discontinue "
        "valid/invalid mutable/immutable possible/impossible correct/incorrect "
        "complete/incomplete active/inactive secure/insecure visible/invisible "
        "consistent/inconsistent sufficient/insufficient direct/indirect "
        "dependent/independent accessible/inaccessible compatible/incompatible legal/illegal "
        "regular/irregular relevant/irrelevant reversible/irreversible finite/infinite "
        "proper/improper exact/inexact accurate/inaccurate appropriate/inappropriate "
        "next/previous"
    ).split()
]
PREFIXES = ("un", "non")
PREFIX_STOP = frozenset("unless until union unit units unique under uniform universal".split())
QUANTIFIERS = {
    "every": "all every each always everyone everybody everything",
    "some": "some sometimes several occasionally",
    "most": "most mostly usually generally typically often frequently",
    "few": "few rarely seldom",
}
QUANT = {w: cls for cls, words in QUANTIFIERS.items() for w in words.split()}
SETS = [
    s.split()
    for s in (
        "january february march april june july august september october november december",
        "monday tuesday wednesday thursday friday saturday sunday",
        "hourly daily weekly fortnightly monthly quarterly yearly annually",
    )
]
SET_OF = {w: n for n, words in enumerate(SETS) for w in words}
