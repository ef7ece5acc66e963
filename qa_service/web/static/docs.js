// Renders /api/openapi.json as a readable page with plain DOM calls (no CDN, works offline).
"use strict";

(() => {
  const METHODS = ["get", "post", "put", "patch", "delete"];

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function code(text) {
    return el("code", null, text);
  }

  function refName(ref) {
    return ref.split("/").pop();
  }

  function schemaLink(ref) {
    const name = refName(ref);
    const link = el("a", "schema-link", name);
    link.href = `#schema-${name}`;
    return link;
  }

  // A compact, human-readable type: links for $ref, "array of X", "A or B", enums as values.
  function typeNode(schema) {
    const span = el("span", "type");
    if (!schema || typeof schema !== "object") {
      span.textContent = "any";
      return span;
    }
    if (schema.$ref) {
      span.appendChild(schemaLink(schema.$ref));
    } else if (Array.isArray(schema.anyOf) || Array.isArray(schema.oneOf)) {
      (schema.anyOf || schema.oneOf).forEach((part, i) => {
        if (i) span.appendChild(document.createTextNode(" or "));
        span.appendChild(typeNode(part));
      });
    } else if (Array.isArray(schema.enum)) {
      span.appendChild(document.createTextNode(schema.enum.map((v) => JSON.stringify(v)).join(" | ")));
    } else if (schema.type === "array" && Array.isArray(schema.prefixItems)) {
      span.appendChild(document.createTextNode("["));
      schema.prefixItems.forEach((part, i) => {
        if (i) span.appendChild(document.createTextNode(", "));
        span.appendChild(typeNode(part));
      });
      span.appendChild(document.createTextNode("]"));
    } else if (schema.type === "array") {
      span.appendChild(document.createTextNode("array of "));
      span.appendChild(typeNode(schema.items));
    } else if (schema.const !== undefined) {
      span.textContent = JSON.stringify(schema.const);
    } else {
      span.textContent = (schema.type || "any") + (schema.format ? ` (${schema.format})` : "");
    }
    return span;
  }

  function constraints(schema) {
    const parts = [];
    const add = (key, label) => {
      if (schema[key] !== undefined) parts.push(`${label} ${schema[key]}`);
    };
    add("minimum", "≥");
    add("maximum", "≤");
    add("minLength", "min length");
    add("maxLength", "max length");
    add("minItems", "min items");
    add("maxItems", "max items");
    for (const part of schema.anyOf || []) parts.push(...constraints(part));
    if (schema.default !== undefined) parts.push(`default ${JSON.stringify(schema.default)}`);
    return parts;
  }

  function propertiesTable(schema) {
    const props = schema.properties || {};
    const required = new Set(schema.required || []);
    const names = Object.keys(props).sort((a, b) => Number(required.has(b)) - Number(required.has(a)));
    const table = el("table", "props");
    const head = el("tr");
    for (const title of ["Field", "Type", "Required", "Notes"]) {
      const th = el("th", null, title);
      th.scope = "col";
      head.appendChild(th);
    }
    table.appendChild(el("thead")).appendChild(head);
    const body = el("tbody");
    for (const name of names) {
      const prop = props[name];
      const row = el("tr");
      const nameCell = el("th", null);
      nameCell.scope = "row";
      nameCell.appendChild(code(name));
      row.appendChild(nameCell);
      row.appendChild(el("td")).appendChild(typeNode(prop));
      row.appendChild(el("td", null, required.has(name) ? "yes" : "no"));
      const notes = el("td");
      if (prop.description) notes.appendChild(el("p", null, prop.description));
      const limits = constraints(prop);
      if (limits.length) notes.appendChild(el("p", "limits", limits.join(" · ")));
      row.appendChild(notes);
      body.appendChild(row);
    }
    table.appendChild(body);
    return table;
  }

  function mediaSchema(content) {
    for (const [type, media] of Object.entries(content || {})) {
      if (media && media.schema) return { type, schema: media.schema };
    }
    return null;
  }

  function renderOperation(path, method, op) {
    const section = el("section", "operation");
    section.id = `op-${method}-${path.replace(/[^a-z0-9]+/gi, "-")}`;
    const heading = el("h3", "operation-heading");
    heading.appendChild(el("span", `method method-${method}`, method.toUpperCase()));
    heading.appendChild(code(path));
    section.appendChild(heading);
    if (op.summary) section.appendChild(el("p", "summary", op.summary));
    if (op.description) section.appendChild(el("p", null, op.description));

    for (const param of op.parameters || []) {
      const p = el("p", "param");
      p.appendChild(document.createTextNode(`Path parameter `));
      p.appendChild(code(param.name));
      p.appendChild(document.createTextNode(": "));
      p.appendChild(typeNode(param.schema));
      section.appendChild(p);
    }
    const body = op.requestBody && mediaSchema(op.requestBody.content);
    if (body) {
      const p = el("p", "request-body");
      p.appendChild(document.createTextNode("Request body ("));
      p.appendChild(code(body.type));
      p.appendChild(document.createTextNode("): "));
      p.appendChild(typeNode(body.schema));
      section.appendChild(p);
    }
    const list = el("dl", "responses");
    for (const [status, response] of Object.entries(op.responses || {})) {
      const dt = el("dt", `status status-${status[0]}xx`, status);
      const dd = el("dd", null, response.description || "");
      const media = mediaSchema(response.content);
      if (media) {
        dd.appendChild(document.createTextNode(" "));
        dd.appendChild(typeNode(media.schema));
      }
      list.appendChild(dt);
      list.appendChild(dd);
    }
    section.appendChild(el("h4", null, "Responses"));
    section.appendChild(list);
    return section;
  }

  function render(spec) {
    document.getElementById("api-title").textContent = `${spec.info.title} ${spec.info.version} — HTTP API`;
    document.getElementById("api-description").textContent = spec.info.description || "";
    document.title = `${spec.info.title} HTTP API`;
    const toc = document.getElementById("toc-list");
    const endpoints = document.getElementById("endpoints");
    for (const [path, item] of Object.entries(spec.paths || {})) {
      for (const method of METHODS) {
        if (!item[method]) continue;
        const section = renderOperation(path, method, item[method]);
        endpoints.appendChild(section);
        const link = el("a", null, `${method.toUpperCase()} ${path}`);
        link.href = `#${section.id}`;
        toc.appendChild(el("li")).appendChild(link);
      }
    }
    const schemas = document.getElementById("schemas");
    for (const [name, schema] of Object.entries((spec.components || {}).schemas || {})) {
      const section = el("section", "schema");
      section.id = `schema-${name}`;
      section.appendChild(el("h3", null, name));
      if (schema.description) section.appendChild(el("p", null, schema.description));
      if (schema.properties) section.appendChild(propertiesTable(schema));
      schemas.appendChild(section);
    }
    for (const id of ["toc", "endpoints-section", "errors-section", "schemas-section"]) {
      document.getElementById(id).hidden = false;
    }
  }

  const status = document.getElementById("docs-status");
  const main = document.getElementById("docs");
  fetch("/api/openapi.json", { headers: { Accept: "application/json" } })
    .then((response) => {
      if (!response.ok) throw new Error(`the server answered ${response.status}`);
      return response.json();
    })
    .then((spec) => {
      render(spec);
      status.textContent = "";
      status.hidden = true;
      if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
    })
    .catch((error) => {
      status.textContent = `The API description could not be loaded: ${error.message}.`;
    })
    .finally(() => main.setAttribute("aria-busy", "false"));
})();
