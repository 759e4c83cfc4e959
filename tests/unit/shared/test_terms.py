"""Listed words found however they are spelled, and honest text that must not turn into one."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.moderation import terms
from shared.moderation.rules import DEFAULT_LISTS
from shared.moderation.terms import LEET, LOOKALIKE, SPELLED, find_terms, reads_as, unspaced

BLOCK = DEFAULT_LISTS["block_word"]
HOLD = DEFAULT_LISTS["hold_word"]
# Words hidden inside honest ones (the Scunthorpe problem), never whole words of the corpus.
HIDDEN = ("cialis", "rapist", "anal", "sex", "rape", "ass", "cunt", "cock", "penis", "tit")

# What readers of a news site write: place names, professions, scores, dates, ordinals,
# codes and abbreviations, with listed words hidden inside honest ones.
CORPUS = [
    "The specialist at the clinic said the waiting list is now 18 weeks.",
    "My therapist recommends reading less news before bed, honestly good advice.",
    "Their analytics team got the turnout numbers wrong by 4%.",
    "Flooding in Essex again; the council should have acted in 2019.",
    "Sussex police confirmed two arrests on the A27 last night.",
    "She graduated cum laude and now runs the B2B side of the firm.",
    "Grape harvest in Moldova was down a third this year, prices will rise.",
    "He finished 1st in the 400m and 4th in the long jump.",
    "The 3rd round of talks starts on 16 May at 10:30 local time.",
    "Scunthorpe United lost 2-1 at home, a classic late collapse.",
    "An assassin in a spy novel is more believable than this plot.",
    "We had a cocktail on the terrace while the sun went down.",
    "Class sizes in our school went from 24 to 31 pupils in five years.",
    "The A55 was closed for 6 hours after the crash near Bangor.",
    "Via Grace Street you reach the old market in ten minutes.",
    "I'd rate the new phone a solid 4/5, the battery lasts 2 days.",
    "4 gr8 days in Lisbon, the food alone was worth it!",
    "COVID-19 cases rose 5% in week 37, says the UKHSA.",
    "Version 3.0.1 of the app fixed the login bug for me.",
    "The G7 and the G20 both issued statements; neither said much.",
    "Mortgage rates: 5.25% fixed for 2 years, 4.9% for 5 years.",
    "In 1984 my father worked at the docks, 7 days a week.",
    "The M25 at junction 10 is a car park every Friday at 5pm.",
    "A B C news reported it first, then the BBC picked it up.",
    "The Q & A session after the talk was the best part.",
    "Middlesex won by 45 runs at Lord's, their 3rd win in a row.",
    "Shares in Analog Devices fell 3.5% after the results.",
    "Our parish raffle: 1st prize a hamper, 2nd prize a bottle of wine.",
    "Cockburn's port and a cocktail of policies: Whitehall as usual.",
    "P.S. the U.S. and the U.K. signed it at 3 p.m. on the 4th.",
    "Use code B2B4U at checkout, valid until 31/12.",
    "The e-mail from the IT specialist said to reboot twice.",
    "Assassin's Creed sold 5 million copies in its first week.",
    "Visiting Penistone next week for the 10k race; titles at stake.",
    "A 55-year-old man was taken to hospital, police said at 7:45.",
]


@pytest.mark.parametrize(
    "text",
    [
        "v i a g r a",
        "buy v.i.a.g.r.a now",
        "v-i-a-g-r-a",
        "v_i_a_g_r_a",
        "v * i * a * g * r * a",  # up to three separators between letters
        "vi4gra",
        "v1agra",
        "V!AGRA",
        "vi@gr@",
        "v 1 a g r 4",  # both
        "v ! a g r a",  # a lone symbol for a letter
        "v ! i ! a ! g ! r ! a",  # or as a separator
        "v1@gr@",  # half the letters, no more
        "v1\u0430gra",  # and a Cyrillic look-alike
    ],
)
def test_spelled_block_word_is_found(text):
    assert find_terms(text, BLOCK) == [("viagra", SPELLED)]


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("p4yday l0an", "payday loan"),
        ("p a y d a y  l o a n", "payday loan"),  # the words run together once joined
        ("c@sino", "casino"),
        ("c1@l!s", "cialis"),  # symbols between letters, read as written
        ("p0rn", "porn"),
        ("x.x.x", "xxx"),
        ("b1tc0in", "bitcoin"),
        ("t e l e g r a m", "telegram"),
    ],
)
def test_spelled_terms_of_both_lists(text, term):
    assert (term, SPELLED) in find_terms(text, BLOCK + HOLD)


@pytest.mark.parametrize(
    "text",
    [
        "via grace",  # joined letters must each be single
        "vi agra",
        "v iagra",
        "viag ra",
        "4 gr8 days",
        "A55 road",  # a number is not a word: at most half the letters replaced
        "455 people",
        "53x",
        "1 2 3 4 5",
        "S c u n t h o r p e",  # joined, still a whole word that hides "cunt"
        "cl4ss and 4ss4ssin",
        "Sus5ex",
    ],
)
def test_spelling_does_not_invent_words(text):
    lists = (*BLOCK, *HOLD, *HIDDEN, "agr", "great", "grate", "agrb", "a", "days a")
    assert [term for term, how in find_terms(text, lists) if how == SPELLED] == []


def test_plain_and_lookalike_hits_keep_their_kind():
    text = "viagra, v\u0456agra and c4sino"
    assert find_terms(text, {"viagra", "casino"}) == [("casino", SPELLED), ("viagra", "")]
    assert find_terms("v\u0456agra", {"viagra"}) == [("viagra", LOOKALIKE)]


def test_unspaced_joins_only_runs_of_single_characters():
    assert unspaced("buy v i a g r a now") == "buy viagra now"
    assert unspaced("a b c and v.i.a") == "abc and via"
    assert unspaced("via grace, I am") == "via grace, I am"
    assert unspaced("v\ni\na") == "v\ni\na"  # not across lines
    assert unspaced("v    i") == "v    i"  # four separators are a gap, not a spacing


def test_reads_as_allows_at_most_half_the_letters_replaced():
    assert reads_as("viagra", "v1agra")
    assert reads_as("casino", "c4s1n0")
    assert reads_as("ass", "4ss")
    assert not reads_as("ass", "a55")
    assert not reads_as("ass", "455")
    assert reads_as("payday loan", "p4ydayloan")


@pytest.mark.parametrize("text", CORPUS)
def test_honest_corpus_matches_no_listed_word(text):
    assert find_terms(text, BLOCK) == []
    assert find_terms(text, HOLD) == []
    assert find_terms(text, HIDDEN) == []


SETTINGS = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # the same inputs on every run: a failure here is reproducible
    database=None,  # and nothing written into the checkout
    suppress_health_check=list(HealthCheck),
)
SEPARATORS = list(" .-_*,/|~+!:$@#'")
TERMS = st.sampled_from(BLOCK + HOLD)


def with_separators(draw: st.DrawFn, term: str) -> str:
    """Each word's letters parted by one separator each; the words by a space.

    Next to a symbol written for a letter the separator is a space: in "v!.a" the "!" is
    as much a separator as the ".", in "v ! a" it stands alone, for a letter.
    """
    words = []
    for word in term.split():
        spelled = word[0]
        for before, ch in zip(word, word[1:], strict=False):
            symbol = not (before.isalnum() and ch.isalnum())
            spelled += (" " if symbol else draw(st.sampled_from(SEPARATORS))) + ch
        words.append(spelled)
    return " ".join(words)


def with_stand_ins(draw: st.DrawFn, term: str) -> str:
    """Some letters swapped for their digits or symbols, at most half of them."""
    chars = list(term)
    replaceable = [i for i, ch in enumerate(chars) if ch in LEET]
    letters = sum(1 for ch in chars if ch.isalpha())
    if replaceable:
        swapped = st.lists(st.sampled_from(replaceable), unique=True, max_size=letters // 2)
        for i in draw(swapped):
            chars[i] = draw(st.sampled_from(LEET[chars[i]]))
    return "".join(chars)


@st.composite
def spelled(draw: st.DrawFn) -> tuple[str, str]:
    term = draw(TERMS)
    text = term
    if draw(st.booleans()):
        text = with_stand_ins(draw, text)
    if draw(st.booleans()):
        text = with_separators(draw, text)
    return term, text


@SETTINGS
@given(spelled(), st.sampled_from(["{}", "Buy {} now!", "Best offer: {}, today only.", "({})"]))
def test_a_listed_word_however_spelled_is_found(case, context):
    term, text = case
    assert term in dict(find_terms(context.format(text), BLOCK + HOLD))


@st.composite
def split_word(draw: st.DrawFn) -> tuple[str, str]:
    """A one-word term cut into pieces, at least one of several letters, spaced apart."""
    term = draw(TERMS.filter(lambda t: " " not in t and len(t) > 2))
    cuts = sorted(draw(st.lists(st.integers(1, len(term) - 1), unique=True, min_size=1)))
    pieces = [term[i:j] for i, j in zip([0, *cuts], [*cuts, len(term)], strict=True)]
    if all(len(piece) == 1 for piece in pieces):
        pieces = [pieces[0] + pieces[1], *pieces[2:]]
    return term, draw(st.sampled_from(SEPARATORS[:4])).join(pieces)


@SETTINGS
@given(split_word())
def test_a_word_split_into_longer_pieces_is_not_joined(case):
    term, text = case
    assert term not in dict(find_terms(f"so {text} then", BLOCK + HOLD))


@SETTINGS
@given(st.text(alphabet="0123456789 .,:-/%", max_size=60))
def test_numbers_never_read_as_words(text):
    assert find_terms(text, (*BLOCK, *HOLD, *HIDDEN)) == []


def test_lone_symbols_are_the_stand_ins_of_letters():
    symbols = {ch for stand_ins in LEET.values() for ch in stand_ins if not ch.isalnum()}
    assert symbols == set(terms._SYMBOL.strip("[]"))
    assert unspaced("v ! a g r a") == "v!agra"  # "!" is a letter here
    assert unspaced("v!i!a!g!r!a") == "viagra"  # and a separator here
    assert unspaced("@ i r d r o p") == "@irdrop"
    assert unspaced("v ! i ! a", symbols=False) == "via"
