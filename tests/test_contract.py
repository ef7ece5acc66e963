"""The public JSON contract is written once (the dataclasses): the serialiser and the schema both come from it."""

from __future__ import annotations

import dataclasses
import re

import jsonschema_rs
import pytest

from qa_service.domain import Answer, AnswerPassage, Citation, Document
from qa_service.errors import InvalidRequestError
from qa_service.requests import AskRequest
from qa_service.serialize import (
    DocumentDetail,
    DocumentSummary,
    answer_dict,
    document_detail,
    document_row,
    response_schema,
    to_json,
)

REF = "#/$defs/{model}"
CITATION = Citation(
    doc_id="001", title="Japan weighs its options", publisher="TRT World", author=None, date="2025-05-04",
    url=None, start=10, end=90,
)  # fmt: skip
PASSAGE = AnswerPassage(
    rank=1, text="Kato said on Friday.", score=0.61, highlights=((0, 20),), citation=CITATION,
    also_reported_by=(dataclasses.replace(CITATION, doc_id="002", publisher="Reuters", source="Reuters"),),
)  # fmt: skip


def answer(**changes: object) -> Answer:
    return Answer(**{"question": "What did Kato say?", "abstained": False, "answer": "Kato said. [1]",
                     "passages": (PASSAGE,), **changes})  # fmt: skip


def conforms(kind: type, data: object) -> list[str]:
    return [e.message for e in jsonschema_rs.Draft202012Validator(response_schema(kind, REF)).iter_errors(data)]


def test_an_answer_is_serialised_in_the_contracts_order_with_the_new_fields() -> None:
    data = answer_dict(answer())
    assert list(data) == ["question", "abstained", "confidence", "answer", "passages"]
    assert data["confidence"] == "high"
    citation = data["passages"][0]["citation"]
    assert list(citation) == ["doc_id", "title", "publisher", "source", "author", "date", "url", "start", "end"]
    assert citation["source"] is None and data["passages"][0]["also_reported_by"][0]["source"] == "Reuters"
    assert data["passages"][0]["highlights"] == [[0, 20]]
    assert conforms(Answer, data) == []


def test_a_chat_answer_adds_resolved_question_last() -> None:
    data = answer_dict(answer(resolved_question="What did Katsunobu Kato say?"))
    assert list(data)[-1] == "resolved_question" and conforms(Answer, data) == []


@pytest.mark.parametrize(
    ("abstained", "given", "expected"),
    [
        (False, None, "high"),
        (True, None, "none"),
        (False, "low", "low"),
        (False, "high", "high"),
        (True, "none", "none"),
    ],
)
def test_confidence_is_worked_out_where_the_answer_is_made(abstained: bool, given, expected: str) -> None:
    made = answer(
        abstained=abstained, answer=None if abstained else "x [1]", **({"confidence": given} if given else {})
    )
    assert made.confidence == expected
    assert dataclasses.replace(made, question="again?").confidence == expected  # the cache's copy keeps it


@pytest.mark.parametrize(("abstained", "given"), [(False, "none"), (True, "low"), (True, "high")])
def test_confidence_none_goes_with_abstaining_and_only_with_it(abstained: bool, given: str) -> None:
    with pytest.raises(ValueError, match="does not go with abstained"):
        answer(abstained=abstained, confidence=given)


def test_document_rows_carry_source_after_publisher() -> None:
    doc = Document(doc_id="d1", title="T", text="Body.", publisher="Kyodo", source="Reuters", warnings=("no date",))
    row = document_row(doc, 3)
    assert list(row) == ["doc_id", "title", "publisher", "source", "author", "date", "url", "passages", "warnings"]
    assert row["source"] == "Reuters" and row["warnings"] == ["no date"]
    detail = document_detail(doc, 3)
    assert detail == {**row, "text": "Body."} and list(detail)[-1] == "text"
    assert conforms(DocumentSummary, row) == [] and conforms(DocumentDetail, detail) == []


@pytest.mark.parametrize("kind", [Answer, DocumentSummary, DocumentDetail])
def test_the_schema_lists_every_field_the_serialiser_writes_in_the_same_order(kind: type) -> None:
    schema = response_schema(kind, REF)
    names = [f.name for f in dataclasses.fields(kind)]
    assert list(schema["properties"]) == names
    assert schema["additionalProperties"] is False
    assert all("default" not in prop for prop in schema["properties"].values())  # a response always has a value
    required = set(schema["required"])
    assert required == set(names) - {"resolved_question"}  # the one field left out when it has no value


def test_a_field_the_schema_does_not_know_fails_the_check() -> None:
    """What the conformance run would catch if a serialiser and a schema were ever written apart again."""
    data = {**answer_dict(answer()), "extra": 1}
    assert conforms(Answer, data)
    assert to_json(CITATION)["start"] == 10


# ---- requests: the schema states exactly what the validator accepts ------------------------------------


def accepted(question: str) -> bool:
    try:
        AskRequest.parse({"question": question})
    except InvalidRequestError:
        return False
    return True


def test_the_visible_character_pattern_and_the_validator_agree_on_every_character() -> None:
    pattern = re.compile(AskRequest.model_json_schema()["properties"]["question"]["pattern"])
    disagree = [
        hex(code)
        for code in [*range(0xD800), *range(0xE000, 0x10000), 0x1F600, 0xE0020, 0x10FFFD]
        if bool(pattern.search(chr(code))) != accepted(chr(code))
    ]
    assert disagree == []


@pytest.mark.parametrize(("k", "expected"), [(12.0, 12), (1.0, 1), (20.0, 20), (5, 5)])
def test_k_as_a_whole_number_written_with_a_fraction_is_that_integer(k, expected: int) -> None:
    """JSON Schema's `integer` includes 12.0, so the server does too; 12.5, "12" and true stay refused."""
    assert AskRequest.parse({"question": "Japan?", "k": k}).k == expected


@pytest.mark.parametrize("k", [12.5, "12", True, 21.0, 0.0, float("1e300")])
def test_k_that_is_not_a_whole_number_from_1_to_20_is_refused(k) -> None:
    with pytest.raises(InvalidRequestError, match="k: "):
        AskRequest.parse({"question": "Japan?", "k": k})
