"""The answer-type checks: figures, expected numbers and dates, spellings that mean the same."""

from __future__ import annotations

import pytest

from qa_service.analysis import analyse
from qa_service.evidence import check
from qa_service.terms import terms
from qa_service.textfacts import Figure, figures


def unmet(question: str, text: str) -> int:
    """How many checks ``text`` fails for ``question`` (0: it can answer it)."""
    return check(analyse(question), text).unmet


@pytest.mark.parametrize(
    ("coarse", "fine"),
    [
        (Figure("1", "trillion"), Figure("1.13", "trillion")),  # "$1 trillion-plus"
        (Figure("1.1", "trillion"), Figure("1.13", "trillion")),  # rounded
        (Figure("3", "percent"), Figure("3.4", "percent")),
        (Figure("24", "percent"), Figure("24", "percent")),
    ],
)
def test_a_rounded_figure_restates_the_precise_one_both_ways(coarse, fine):
    assert coarse.restates(fine) and fine.restates(coarse)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (Figure("24", "percent"), Figure("25", "percent")),  # two different tariff rates
        (Figure("1", "trillion"), Figure("1", "billion")),
        (Figure("1.2", "trillion"), Figure("1.13", "trillion")),
        (Figure("10", ""), Figure("10", "percent")),
    ],
)
def test_different_figures_do_not_restate_each_other(one, other):
    assert not one.restates(other)


def test_figures_are_read_with_their_units_and_years_left_to_dates():
    found = figures("A 24% tariff, 24 per cent, US$1,130 billion and $1.13 trillion since 2020, on April 2.")
    assert found == (
        Figure("24", "percent"),
        Figure("24", "percent"),
        Figure("1130", "billion"),
        Figure("1.13", "trillion"),
        Figure("2", ""),
    )


def test_a_quantity_question_is_not_answered_by_the_figure_it_quotes():
    question = "How much of Japan's $1.13 trillion is held by private investors?"
    assert analyse(question).answer_type == "figure"
    assert unmet(question, "Japan's bond holders own $1.13 trillion of Treasury notes.") == 1
    assert unmet(question, "Japan's $1 trillion-plus pile, about $1.13 trillion.") == 1
    assert unmet(question, "Private investors hold $400 billion of the $1.13 trillion.") == 0


def test_a_quoted_figure_must_occur_in_the_passage_rounding_allowed():
    question = "What did Kato say about the $1.1 trillion pile?"
    assert unmet(question, "Kato said the $1.13 trillion pile could be a card.") == 0
    assert unmet(question, "Kato said the holdings could be a card.") == 1


def test_count_words_answer_how_many_but_not_how_much():
    text = "The two largest owners, Japan and China, added to their holdings."
    assert unmet("How many countries added to their holdings?", text) == 0
    assert unmet("How much did Japan add to its holdings?", text) == 1
    assert unmet("How much did Japan add to its holdings?", "Japan's holdings doubled.") == 0


@pytest.mark.parametrize(
    "question",
    [
        "What was the yen-dollar exchange rate in May?",
        "What tariff rate did Trump impose?",
        "what is the current yield on the 10-year note",
        "By how much did holdings rise?",
    ],
)
def test_questions_about_a_rate_or_amount_want_a_number(question):
    assert analyse(question).answer_type == "figure"


def test_a_date_question_is_not_answered_by_the_date_it_names():
    question = "When in May did Kato clarify his remarks?"
    assert analyse(question).answer_type == "date"
    assert unmet(question, "In May, Kato clarified his remarks.") == 1
    assert unmet(question, "On Sunday, Kato clarified his remarks.") == 0


def test_a_where_question_wants_a_place_not_a_month():
    question = "Where did Kato clarify his comments?"
    assert analyse(question).answer_type == "place"
    assert unmet(question, "Kato told a press conference in Milan.") == 0
    assert unmet(question, "Kato clarified his comments in May.") == 1
    assert analyse("What did Kato say in Milan?").answer_type == "quote"


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who replaced the finance minister?", "person"),
        ("which outlet reported it first", "person"),
        ("Why did the yen fall?", "reason"),
        ("How many ships arrived?", "count"),
        ("what did the data show for february?", "other"),
        ("Did Japan threaten to sell?", "yes_no"),
        ("kato treasuries card", "other"),
    ],
)
def test_the_kind_of_answer_a_question_asks_for(question, kind):
    assert analyse(question).answer_type == kind


def test_a_who_question_is_held_by_a_sentence_naming_a_new_person():
    query = analyse("Who met the trade negotiator in Washington?")
    assert check(query, "The negotiator met Treasury Secretary Scott Bessent in Washington.").holds_type
    assert not check(query, "The negotiator travelled to Washington for talks.").holds_type


@pytest.mark.parametrize(
    ("asked", "written"),
    [("TV", "television"), ("American", "U.S."), ("America", "US"), ("programme", "program")],
)
def test_spellings_that_mean_the_same_share_a_term(asked, written):
    assert terms(asked) == terms(written)


def test_a_question_in_other_words_than_the_source_is_still_answered(seed_service):
    result = seed_service.ask("What did Kato say on TV?")
    assert not result.abstained
    assert "television" in result.passages[0].text


def test_the_split_of_a_total_the_sources_only_give_whole_is_not_answered(seed_service):
    result = seed_service.ask("What share of the $1.13 trillion do private investors hold?")
    assert result.confidence != "high"
