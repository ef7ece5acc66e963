"""Follow-up resolution: self-contained questions untouched, follow-ups made searchable."""

from __future__ import annotations

from qa_service.conversation import Turn, is_follow_up, resolve

HISTORY = [
    Turn("user", "What did Japan's finance minister say on Friday about the Treasury holdings?"),
    Turn("assistant", "Japanese Finance Minister Katsunobu Kato said the holdings could be among such cards."),
]


def test_self_contained_question_is_left_alone():
    question = "What tariff rate has Trump imposed on Japanese exports?"
    assert not is_follow_up(question)
    assert resolve(question, HISTORY) == question


def test_no_history_means_no_change():
    assert resolve("who is he?", []) == "who is he?"


def test_pronoun_becomes_the_person_last_named_without_titles():
    resolved = resolve("who is he?", HISTORY)
    assert resolved.startswith("who is Katsunobu Kato?")
    assert "United States" not in resolved


def test_ellipsis_carries_the_earlier_question():
    resolved = resolve(
        "and China?",
        [
            Turn("user", "How much did Japan's Treasury holdings rise in February?"),
            Turn("assistant", "Foreign holdings rose 3.4 per cent in February."),
        ],
    )
    assert resolved.startswith("and China?") and "Treasury holdings rise in February" in resolved


def test_reference_to_a_statement_carries_the_earlier_answer():
    history = [
        Turn("user", "What's the key issue in the trade talks?"),
        Turn("assistant", "The key issue is the imposition of tariffs on Japanese-made vehicles."),
    ]
    resolved = resolve("which outlet said so?", history)
    assert "Japanese-made vehicles" in resolved


MEETING = "The harbour master Ana Ruiz met Transport Secretary Tom Lee in the capital on Monday."


def test_after_a_who_question_he_is_the_person_the_answer_named():
    history = [Turn("user", "Who did Ruiz meet in the capital?"), Turn("assistant", MEETING)]
    resolved = resolve("what did he promise her?", history)
    assert resolved.startswith("what did Tom Lee promise her?")
    assert "Ana Ruiz" not in resolved  # the answer's other people would pull the search off him


def test_after_another_question_he_is_the_person_it_asked_about():
    history = [Turn("user", "When did Lee meet the harbour master?"), Turn("assistant", MEETING)]
    assert resolve("what did he promise?", history).startswith("what did Tom Lee promise?")


def test_surname_alone_is_found_as_speaker():
    history = [
        Turn("user", "When did he clarify?"),
        Turn("assistant", "On May 4, Kato clarified that Japan would not sell."),
    ]
    assert resolve("where was he when he said that?", history).startswith("where was Kato")


def test_chat_answers_a_follow_up_against_the_corpus(seed_service):
    turns = [
        Turn("user", "Who described the situation as a street fight?"),
        Turn("assistant", "“This is a street fight,” said Nicholas Smith, chief Japan strategist at CLSA."),
        Turn("user", "did he say japan actually has to use it?"),
    ]
    result = seed_service.chat(turns)
    assert result.question == "did he say japan actually has to use it?"
    assert "Nicholas Smith" in result.resolved_question
    assert any("just brandish it" in p.text for p in result.passages[:3])


def test_later_follow_up_searches_sources_after_the_previous_answer(seed_service):
    first = "What did Japan's finance minister say on Friday about the country's US Treasury holdings?"
    previous = seed_service.ask(first)
    turns = [Turn("user", first), Turn("assistant", previous.answer), Turn("user", "what did he say two days later?")]
    result = seed_service.chat(turns)
    assert "[sources dated 2025-05-03 or later]" in result.resolved_question
    assert not result.abstained
    assert all(p.citation.date >= "2025-05-03" for p in result.passages)
    assert any(
        "weren't meant to suggest selling" in p.text or "does not plan to sell" in p.text for p in result.passages[:3]
    )


def test_time_words_are_recognised():
    from qa_service.conversation import time_direction

    assert time_direction("what did he say two days later?") == 1
    assert time_direction("and what had he said before?") == -1
    assert time_direction("who is he?") == 0
