"""The answer-type checks: figures, expected numbers and dates, spellings that mean the same."""

from __future__ import annotations

import pytest

from qa_service.evidence import PENALTY, Figure, evidence_factor, figures, parse_question
from qa_service.terms import terms


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
    question = parse_question("How much of Japan's $1.13 trillion is held by private investors?")
    assert question.wants_number
    assert evidence_factor(question, "Japan's bond holders own $1.13 trillion of Treasury notes.") == PENALTY
    assert evidence_factor(question, "Japan's $1 trillion-plus pile, about $1.13 trillion.") == PENALTY
    assert evidence_factor(question, "Private investors hold $400 billion of the $1.13 trillion.") == 1.0


def test_a_quoted_figure_must_occur_in_the_passage_rounding_allowed():
    question = parse_question("What did Kato say about the $1.1 trillion pile?")
    assert evidence_factor(question, "Kato said the $1.13 trillion pile could be a card.") == 1.0
    assert evidence_factor(question, "Kato said the holdings could be a card.") == PENALTY


def test_count_words_answer_how_many_but_not_how_much():
    text = "The two largest owners, Japan and China, added to their holdings."
    how_much = parse_question("How much did Japan add to its holdings?")
    assert evidence_factor(parse_question("How many countries added to their holdings?"), text) == 1.0
    assert evidence_factor(how_much, text) == PENALTY
    assert evidence_factor(how_much, "Japan's holdings doubled.") == 1.0


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
    assert parse_question(question).wants_number


def test_a_date_question_is_not_answered_by_the_date_it_names():
    question = parse_question("When in May did Kato clarify his remarks?")
    assert question.wants_date
    assert evidence_factor(question, "In May, Kato clarified his remarks.") == PENALTY
    assert evidence_factor(question, "On Sunday, Kato clarified his remarks.") == 1.0


def test_a_where_question_wants_a_place_not_a_month():
    question = parse_question("Where did Kato clarify his comments?")
    assert question.wants_place
    assert evidence_factor(question, "Kato told a press conference in Milan.") == 1.0
    assert evidence_factor(question, "Kato clarified his comments in May.") == PENALTY
    assert not parse_question("What did Kato say in Milan?").wants_place


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
    assert result.abstained and result.answer is None
