// The chat page: sends the whole conversation to /api/chat and renders answers with their sources.
// Source text is untrusted: it is only ever inserted with textContent / createTextNode, never as HTML.
"use strict";

(() => {
  const ABSTAIN_TEXT = "The sources don't answer this";
  const UNCERTAIN_TEXT = "No passage states this directly. These are the nearest passages, and their closest sentences:";
  const MAX_MESSAGES = 50;
  const MAX_MESSAGE_CHARS = 4000;
  const MAX_BODY_BYTES = 48 * 1024; // under the server's default 64 KiB body limit
  const ORDER_KEY = "qa.orderByDate";
  const encoder = new TextEncoder();

  const form = document.getElementById("ask-form");
  const box = document.getElementById("question");
  const sendButton = document.getElementById("send");
  const conversation = document.getElementById("conversation");
  const orderToggle = document.getElementById("order-by-date");
  const dialog = document.getElementById("doc-dialog");
  const docTitle = document.getElementById("doc-title");
  const docMeta = document.getElementById("doc-meta");
  const docStatus = document.getElementById("doc-status");
  const docText = document.getElementById("doc-text");

  const messages = []; // {role, content}: what /api/chat receives
  const documentCache = new Map(); // doc_id -> Promise of the document JSON
  let turnCount = 0;
  let busy = false;

  // ---- small DOM helpers ---------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function button(className, text, label) {
    const node = el("button", className, text);
    node.type = "button";
    if (label) node.setAttribute("aria-label", label);
    return node;
  }

  const dayFormat = new Intl.DateTimeFormat("en-GB", {
    weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC",
  });

  function isoDay(value) {
    return typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value);
  }

  function humanDate(iso) {
    if (!isoDay(iso)) return "undated";
    const date = new Date(iso + "T00:00:00Z");
    return Number.isNaN(date.getTime()) ? iso : dayFormat.format(date);
  }

  function dateBadge(iso) {
    const badge = el(isoDay(iso) ? "time" : "span", "date-badge", humanDate(iso));
    if (isoDay(iso)) badge.dateTime = iso;
    else badge.classList.add("undated");
    return badge;
  }

  function safeUrl(value) {
    // Only web links become links: a source's url could be javascript: or data:.
    try {
      const url = new URL(value);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch {
      return null;
    }
  }

  function sourceName(citation) {
    return citation.publisher || "Unknown publisher";
  }

  // Text with [start, end) spans wrapped in <mark>, built from text nodes only.
  function appendMarked(parent, text, spans, markClass) {
    const sorted = (spans || [])
      .map(([s, e]) => [Math.max(0, Math.min(s, text.length)), Math.max(0, Math.min(e, text.length))])
      .filter(([s, e]) => e > s)
      .sort((a, b) => a[0] - b[0]);
    let at = 0;
    for (const [start, end] of sorted) {
      if (start < at) continue; // overlapping spans: the first one wins
      if (start > at) parent.appendChild(document.createTextNode(text.slice(at, start)));
      const mark = el("mark", markClass, text.slice(start, end));
      parent.appendChild(mark);
      at = end;
    }
    if (at < text.length) parent.appendChild(document.createTextNode(text.slice(at)));
  }

  // ---- answers ---------------------------------------------------------------------------

  function cardId(turn, rank) {
    return `turn-${turn}-source-${rank}`;
  }

  function focusCard(turn, rank) {
    const card = document.getElementById(cardId(turn, rank));
    if (!card) return;
    const details = card.closest("details");
    if (details) details.open = true;
    card.scrollIntoView({ behavior: "smooth", block: "center" });
    card.focus({ preventScroll: true });
    card.classList.remove("flash");
    void card.offsetWidth; // restart the animation
    card.classList.add("flash");
  }

  // The composed answer: each sentence ends with its [n] marker, which becomes a button to source card n.
  function answerText(text, turn, passages) {
    const p = el("p", "answer-text");
    const byRank = new Map(passages.map((passage) => [passage.rank, passage]));
    const pattern = /\[(\d+)\]/g;
    let part = el("span", "answer-part");
    let at = 0;
    for (const match of text.matchAll(pattern)) {
      const rank = Number(match[1]);
      const passage = byRank.get(rank);
      const before = text.slice(at, match.index);
      if (before.trim()) part.appendChild(document.createTextNode(part.childNodes.length ? before : before.trimStart()));
      if (passage) {
        const label = `Source ${rank}: ${sourceName(passage.citation)}, ${humanDate(passage.citation.date)}`;
        const marker = button("cite-marker", `[${rank}]`, label);
        marker.addEventListener("click", () => focusCard(turn, rank));
        if (!part.childNodes.length && p.lastChild) {
          p.lastChild.appendChild(marker); // "[1] [2]": a second marker for the same sentence
        } else {
          part.appendChild(marker);
          p.appendChild(part);
          part = el("span", "answer-part");
        }
      } else {
        part.appendChild(document.createTextNode(match[0]));
      }
      at = match.index + match[0].length;
    }
    const rest = text.slice(at).trim();
    if (rest) part.appendChild(document.createTextNode(rest));
    if (part.childNodes.length) p.appendChild(part);
    return p;
  }

  function alsoReported(passage) {
    const others = passage.also_reported_by || [];
    if (!others.length) return null;
    const wrap = el("div", "also");
    wrap.appendChild(el("span", "also-label", "Also reported by"));
    const list = el("ul", "also-list");
    for (const other of others) {
      const item = el("li");
      const open = button("link-button", null, null);
      open.appendChild(el("span", "also-publisher", sourceName(other)));
      open.appendChild(dateBadge(other.date));
      open.setAttribute("aria-label", `${sourceName(other)}, ${humanDate(other.date)}: open the article`);
      open.addEventListener("click", () => openDocument(other, null));
      item.appendChild(open);
      list.appendChild(item);
    }
    wrap.appendChild(list);
    return wrap;
  }

  function sourceCard(passage, turn) {
    const c = passage.citation;
    const card = el("li", "card");
    card.id = cardId(turn, passage.rank);
    card.tabIndex = -1;
    card.dataset.rank = String(passage.rank);
    card.dataset.date = isoDay(c.date) ? c.date : "";

    const head = el("div", "card-head");
    head.appendChild(el("span", "rank", `[${passage.rank}]`));
    head.appendChild(el("span", "publisher", sourceName(c)));
    head.appendChild(dateBadge(c.date));
    card.appendChild(head);

    const title = el("h4", "card-title");
    const open = button("link-button title-button", c.title || c.doc_id);
    open.setAttribute("aria-haspopup", "dialog");
    open.addEventListener("click", () => openDocument(c, passage));
    title.appendChild(open);
    card.appendChild(title);

    if (c.author) card.appendChild(el("p", "byline", `By ${c.author}`));

    const text = el("p", "passage");
    appendMarked(text, passage.text || "", passage.highlights, "answer-sentence");
    card.appendChild(text);

    const also = alsoReported(passage);
    if (also) card.appendChild(also);
    return card;
  }

  function evidenceList(passages, turn) {
    const list = el("ol", "evidence");
    for (const passage of passages) list.appendChild(sourceCard(passage, turn));
    orderCards(list);
    return list;
  }

  function renderAnswer(data, turn) {
    const article = el("article", "answer");
    const passages = Array.isArray(data.passages) ? data.passages : [];
    if (data.resolved_question && data.resolved_question !== data.question) {
      const resolved = el("p", "resolved");
      resolved.appendChild(el("span", "resolved-label", "Searched for: "));
      resolved.appendChild(document.createTextNode(data.resolved_question));
      article.appendChild(resolved);
    }
    if (data.abstained) {
      article.classList.add("abstained");
      article.appendChild(el("p", "abstain-text", ABSTAIN_TEXT));
      if (passages.length) {
        const details = el("details", "nearest");
        details.appendChild(el("summary", null, `Nearest passages (${passages.length})`));
        details.appendChild(evidenceList(passages, turn));
        article.appendChild(details);
      }
      return article;
    }
    if (data.confidence === "low") {
      article.classList.add("uncertain");
      article.appendChild(el("p", "uncertain-text", UNCERTAIN_TEXT));
    }
    article.appendChild(answerText(data.answer || "", turn, passages));
    if (passages.length) {
      const heading = data.confidence === "low" ? "Nearest passages" : "Sources";
      article.appendChild(el("h3", "evidence-heading", `${heading} (${passages.length})`));
      article.appendChild(evidenceList(passages, turn));
    }
    return article;
  }

  // ---- order by date -------------------------------------------------------------------

  function orderCards(list) {
    const byDate = orderToggle.checked;
    const cards = Array.from(list.children);
    cards.sort((a, b) => {
      const rankOrder = Number(a.dataset.rank) - Number(b.dataset.rank);
      if (!byDate) return rankOrder;
      const da = a.dataset.date || "9999-99-99"; // undated last
      const db = b.dataset.date || "9999-99-99";
      return da < db ? -1 : da > db ? 1 : rankOrder;
    });
    for (const card of cards) list.appendChild(card);
    list.classList.toggle("timeline", byDate);
  }

  function applyOrder() {
    for (const list of document.querySelectorAll(".evidence")) orderCards(list);
    try {
      localStorage.setItem(ORDER_KEY, orderToggle.checked ? "1" : "0");
    } catch {
      /* storage may be off; the toggle still works for this page */
    }
  }

  // ---- the conversation ------------------------------------------------------------------

  function addTurn(className) {
    const intro = document.getElementById("intro");
    if (intro) intro.remove();
    const turn = el("section", `turn ${className}`);
    conversation.appendChild(turn);
    return turn;
  }

  function setBusy(value) {
    busy = value;
    conversation.setAttribute("aria-busy", value ? "true" : "false");
    sendButton.disabled = value;
    sendButton.textContent = value ? "Asking…" : "Ask";
  }

  async function problemDetail(response) {
    try {
      const body = await response.json();
      if (body && typeof body.detail === "string") return body.detail;
    } catch {
      /* not JSON */
    }
    return `the server answered ${response.status}`;
  }

  // The latest messages that fit the API's bounds: at most 50, each at most 4,000 characters, and the
  // whole body well under the server's size limit (follow-ups only lean on the last few turns anyway).
  function historyForRequest() {
    const recent = messages.slice(-MAX_MESSAGES);
    const kept = [];
    let bytes = 0;
    for (let i = recent.length - 1; i >= 0; i--) {
      const content = recent[i].content.slice(0, MAX_MESSAGE_CHARS);
      bytes += encoder.encode(JSON.stringify(content)).length + 32;
      if (kept.length && bytes > MAX_BODY_BYTES) break;
      kept.unshift({ role: recent[i].role, content });
    }
    return kept;
  }

  async function ask(question) {
    const turn = ++turnCount;
    const userTurn = addTurn("turn-user");
    userTurn.appendChild(el("h2", "visually-hidden", "You asked"));
    userTurn.appendChild(el("p", "bubble", question));
    messages.push({ role: "user", content: question });

    const reply = addTurn("turn-assistant loading");
    reply.appendChild(el("p", "loading-text", "Searching the sources…"));
    setBusy(true);
    try {
      const response = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ messages: historyForRequest() }),
      });
      if (!response.ok) throw new Error(await problemDetail(response));
      const data = await response.json();
      reply.replaceChildren(el("h2", "visually-hidden", "Answer"), renderAnswer(data, turn));
      reply.classList.remove("loading");
      messages.push({ role: "assistant", content: data.abstained ? `${ABSTAIN_TEXT}.` : data.answer || "" });
    } catch (error) {
      messages.pop(); // the failed question is not part of the conversation
      userTurn.classList.add("failed");
      reply.classList.remove("loading");
      reply.classList.add("turn-error");
      const reason = error instanceof TypeError ? "the server could not be reached" : error.message;
      reply.replaceChildren(el("p", "error-text", `No answer: ${reason}.`));
      if (!box.value.trim()) box.value = question;
    } finally {
      setBusy(false);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = box.value.trim();
    if (!question || busy) {
      box.focus();
      return;
    }
    box.value = "";
    ask(question);
    box.focus();
  });

  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  // ---- the document panel ------------------------------------------------------------------

  function loadDocument(docId) {
    if (!documentCache.has(docId)) {
      const request = fetch(`/api/documents/${encodeURIComponent(docId)}`, {
        headers: { Accept: "application/json" },
      }).then(async (response) => {
        if (!response.ok) throw new Error(await problemDetail(response));
        return response.json();
      });
      request.catch(() => documentCache.delete(docId)); // failures are retried next time
      documentCache.set(docId, request);
    }
    return documentCache.get(docId);
  }

  function renderMeta(doc) {
    docMeta.replaceChildren();
    docMeta.appendChild(el("span", "publisher", doc.publisher || "Unknown publisher"));
    if (doc.author) docMeta.appendChild(el("span", "byline", `By ${doc.author}`));
    docMeta.appendChild(dateBadge(doc.date));
    const href = doc.url && safeUrl(doc.url);
    if (href) {
      const link = el("a", "original-link", "Original page");
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      docMeta.appendChild(link);
    }
  }

  // The document's text with the cited passage marked; the answering sentences inside it marked more strongly.
  function renderDocumentText(text, citation, passage) {
    docText.replaceChildren();
    const start = Math.max(0, Math.min(citation.start, text.length));
    const end = Math.max(start, Math.min(citation.end, text.length));
    docText.appendChild(document.createTextNode(text.slice(0, start)));
    const cited = el("mark", "cited-passage");
    cited.id = "cited-passage";
    cited.tabIndex = -1;
    const inner = text.slice(start, end);
    appendMarked(cited, inner, passage ? passage.highlights : [], "answer-sentence");
    docText.appendChild(cited);
    docText.appendChild(document.createTextNode(text.slice(end)));
    return cited;
  }

  async function openDocument(citation, passage) {
    docTitle.textContent = citation.title || citation.doc_id;
    docMeta.replaceChildren();
    docText.replaceChildren();
    docStatus.textContent = "Loading the article…";
    dialog.setAttribute("aria-busy", "true");
    if (!dialog.open) dialog.showModal();
    try {
      const doc = await loadDocument(citation.doc_id);
      docTitle.textContent = doc.title || citation.doc_id;
      renderMeta(doc);
      const cited = renderDocumentText(doc.text || "", citation, passage);
      docStatus.textContent = "The cited passage is highlighted.";
      cited.scrollIntoView({ block: "center" });
      cited.focus({ preventScroll: true });
    } catch (error) {
      docStatus.textContent = `The article could not be loaded: ${error.message}.`;
    } finally {
      dialog.setAttribute("aria-busy", "false");
    }
  }

  document.getElementById("doc-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close(); // a click on the backdrop
  });

  // ---- start -------------------------------------------------------------------------------

  try {
    orderToggle.checked = localStorage.getItem(ORDER_KEY) === "1";
  } catch {
    /* storage may be off */
  }
  orderToggle.addEventListener("change", applyOrder);

  fetch("/api/health", { headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : null))
    .then((health) => {
      if (!health) return;
      const summary = document.getElementById("corpus-summary");
      const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
      summary.textContent =
        `Answers quoted from ${plural(health.documents, "indexed article")} ` +
        `(${plural(health.passages, "passage")}), each cited with its date.`;
    })
    .catch(() => {});

  box.focus();
})();
