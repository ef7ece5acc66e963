"""A folder of sources to clean documents and grouped passages (the stages before embedding)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from .catalog import Catalog
from .chunking import chunk_documents, group_duplicates
from .cleaning import clean_document
from .cleaning.rules import rules_bytes
from .domain import Document, Passage
from .errors import SourceError
from .lexicon import lexicon_bytes
from .loading import Skipped, fingerprint_sources, read_sources
from .settings import Settings

log = logging.getLogger(__name__)

# Bump when cleaning, chunking or term analysis changes what a folder turns into: old indexes become stale.
# (Edits to the code of those stages, to the chrome rules in data/boilerplate.toml and to the word lists
# in data/lexicon.toml are fingerprinted automatically.)
PIPELINE_VERSION = "8"
# The modules whose code decides what a folder turns into.
PIPELINE_CODE = (
    "cleaning/*.py",
    "catalog.py",
    "chunking.py",
    "corpus.py",
    "loading.py",
    "passage_analysis.py",
    "terms.py",
    "textfacts.py",
)


def pipeline_code_bytes() -> bytes:
    """The pipeline's own source: an index built by older cleaning code is stale, with no version to bump."""
    package = Path(__file__).parent
    paths = sorted(path for pattern in PIPELINE_CODE for path in package.glob(pattern))
    return b"".join(path.name.encode() + b"\0" + path.read_bytes() for path in paths)


@dataclass(frozen=True)
class Corpus:
    documents: tuple[Document, ...]
    passages: tuple[Passage, ...]
    warnings: tuple[str, ...]  # skipped files and documents missing a date or publisher


def corpus_fingerprint(settings: Settings) -> str:
    """Changes whenever the sources, the catalog, the pipeline or the chunking settings change."""
    extra = "|".join(
        [
            PIPELINE_VERSION,
            str(settings.passage_min_words),
            str(settings.passage_max_words),
            str(settings.duplicate_threshold),
            str(settings.max_file_bytes),
            settings.catalog_name,
        ]
    ).encode()
    # Editing the rules, the word lists or the pipeline's code changes what every page cleans to.
    extra += rules_bytes() + lexicon_bytes() + pipeline_code_bytes()
    catalog = settings.catalog_path
    if catalog.is_file():
        extra += catalog.read_bytes()
    return fingerprint_sources(settings.source_dir, extra)


def load_documents(settings: Settings) -> tuple[list[Document], list[str]]:
    catalog = Catalog.load(settings.catalog_path)
    documents, warnings = [], []
    for item in read_sources(settings.source_dir, settings.max_file_bytes):
        if isinstance(item, Skipped):
            warnings.append(str(item))
            continue
        doc = clean_document(item, catalog)
        if not doc.text:
            warnings.append(f"skipped {item.path.name}: no article text after cleaning")
            continue
        documents.append(doc)
        warnings.extend(f"{doc.doc_id}: {w}" for w in doc.warnings)
    return documents, warnings


def build_corpus(settings: Settings) -> Corpus:
    documents, warnings = load_documents(settings)
    for warning in warnings:
        log.warning(warning)
    if not documents:
        raise SourceError(f"no indexable documents in {settings.source_dir}", hint="add .txt, .md or .html files")
    passages = chunk_documents(documents, settings.passage_min_words, settings.passage_max_words)
    passages = group_duplicates(passages, settings.duplicate_threshold)
    return Corpus(tuple(documents), tuple(passages), tuple(warnings))
