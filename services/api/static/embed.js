/* Parley's comments widget, served as GET /embed.js (docs/contract.md §3; README "Embedding
 * the comments"). Plain JavaScript, no dependencies, no build step.
 *
 * Host markup:
 *   <div id="parley-comments" data-parley-article="SLUG" data-parley-title="…" data-parley-url="…"></div>
 *   <script src="https://COMMENTS-HOST/embed.js" async></script>
 *
 * It renders into an open shadow root on that element (what the element held, such as a
 * fallback for readers without JavaScript, is removed), talks only to the host it was loaded from,
 * sends no cookies (credentials: "omit"), keeps the reader's name, e-mail and commenter token in
 * localStorage only when they ask, and puts every user string in the page as text (textContent
 * and attribute values, never markup). Styles are a constructed stylesheet, which a host's CSP
 * style-src does not govern; no eval, no inline handlers. */
(() => {
  "use strict";
  const me =
    document.currentScript || document.querySelector('script[src$="/embed.js"], script[src*="/embed.js?"]');
  if (!me || !me.src || !window.fetch) return;
  try {
    performance.mark("parley:start");
  } catch (e) {
    /* marks are for measuring only */
  }
  const API = new URL("api/v1/", new URL(".", me.src)).href;
  const STORE = "parley:reader";
  const PAGE = 100; // comments a request (the API's maximum)
  const INITIAL = 200; // comments loaded before "Load more" is offered: the newest ones
  const FLAT = 3; // replies deeper than this are not indented further (FLAT_S in a narrow widget)
  const FLAT_S = 1;
  const REASONS = [
    ["spam", "Spam or advertising"],
    ["abuse", "Abusive or hateful"],
    ["off-topic", "Off-topic"],
    ["other", "Something else"],
  ];
  const FIELDS = [
    // name, label, type, required, maxlength, autocomplete
    ["author_name", "Name", "text", true, 100, "name"],
    ["author_email", "E-mail (never shown)", "email", true, 254, "email"],
    ["author_url", "Website (optional)", "url", false, 2048, "url"],
    ["content", "Comment", "textarea", true, 10000, "off"],
  ];
  const LABELS = { author_name: "Name", author_email: "E-mail", author_url: "Website", content: "Comment" };
  const PENDING =
    "Thank you! Your comment is awaiting moderation. It will appear here once it has been approved.";
  const WHEN = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

  const STYLE = `
:host{display:block}
.parley{--_bg:var(--parley-bg,#ffffff);--_fg:var(--parley-fg,#1d1d1f);--_muted:var(--parley-muted,#55595f);--_border:var(--parley-border,#c9ccd1);--_accent:var(--parley-accent,#0b57d0);--_on-accent:var(--parley-on-accent,#ffffff);--_error:var(--parley-error,#b3261e);--_ok-bg:var(--parley-notice-bg,#e6f4ea);--_ok-fg:var(--parley-notice-fg,#0d3b1e);--_field:var(--parley-field-bg,#ffffff);--_indent:var(--parley-indent,1.25rem);
color-scheme:light;container-type:inline-size;position:relative;display:block;box-sizing:border-box;background:var(--_bg);color:var(--_fg);font:var(--parley-font-size,1rem)/1.5 var(--parley-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);padding:var(--parley-padding,1rem);border-radius:var(--parley-radius,8px);text-align:start}
@media (prefers-color-scheme:dark){.parley{color-scheme:dark;--_bg:var(--parley-bg,#1b1c1f);--_fg:var(--parley-fg,#ececef);--_muted:var(--parley-muted,#b0b3ba);--_border:var(--parley-border,#4a4d55);--_accent:var(--parley-accent,#8ab4f8);--_on-accent:var(--parley-on-accent,#0a1a33);--_error:var(--parley-error,#ffb4ab);--_ok-bg:var(--parley-notice-bg,#16361f);--_ok-fg:var(--parley-notice-fg,#c8f0d2);--_field:var(--parley-field-bg,#232428)}}
.parley *,.parley *::before,.parley *::after{box-sizing:border-box}
[hidden]{display:none!important}
h2{font-size:1.25em;line-height:1.3;margin:0 0 .5em}
ol{list-style:none;margin:0;padding:0}
.p-c{margin:0;padding:.75em 0 0;border-top:1px solid var(--_border)}
.p-replies .p-c{border-top:0;padding-top:.5em}
.p-replies{margin:0 0 0 var(--_indent);padding-inline-start:.75em;border-inline-start:2px solid var(--_border)}
.p-replies:empty{display:none}
.p-flat{margin-inline-start:0}
@container (max-width:34rem){.p-replies{margin-inline-start:.4rem;padding-inline-start:.5em}.p-flat-s{margin-inline-start:0;padding-inline-start:0;border-inline-start:0}}
.p-c:focus{outline:none}.p-c:focus-visible>article{outline:3px solid var(--_accent);outline-offset:2px}
.p-meta{margin:0;font-size:.9em;color:var(--_muted);overflow-wrap:anywhere}
.p-author{color:var(--_fg)}
.p-meta time,.p-to{margin-inline-start:.5em}
.p-to{font-style:italic}
.p-text{white-space:pre-wrap;overflow-wrap:anywhere;margin:.2em 0 .3em}
a{color:var(--_accent)}
button{font:inherit;cursor:pointer;border-radius:4px;padding:.4em 1em;border:1px solid var(--_accent);background:var(--_accent);color:var(--_on-accent)}
button:disabled{opacity:.7;cursor:progress}
.p-actions{display:flex;gap:.25em;flex-wrap:wrap}
.p-actions button,.p-quiet{background:transparent;color:var(--_accent);border-color:transparent;padding:.2em .5em;font-size:.9em}
.p-quiet{border-color:var(--_accent)}
.p-more{margin-top:1em}
:focus-visible{outline:3px solid var(--_accent);outline-offset:2px}
.p-form{display:grid;gap:.6em;margin:.5em 0 1em;max-width:42em}
.p-who{display:grid;gap:.6em;grid-template-columns:repeat(auto-fit,minmax(12em,1fr))}
label,legend{display:block;font-weight:600;font-size:.9em;margin-bottom:.15em}
input,textarea{font:inherit;color:var(--_fg);background:var(--_field);border:1px solid var(--_muted);border-radius:4px;padding:.45em;width:100%}
textarea{resize:vertical;min-height:6em}
[aria-invalid=true]{border:2px solid var(--_error)}
.p-err{color:var(--_error);margin:.2em 0 0;font-size:.9em}
.p-msg{margin:0}.p-msg:empty{display:none}
.p-msg.p-bad{color:var(--_error)}
.p-hp{position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden}
.p-check{display:flex;gap:.5em;align-items:center;font-weight:400}
.p-check input{width:auto;margin:0}
.p-row{display:flex;gap:.5em;flex-wrap:wrap;align-items:center}
.p-notice{background:var(--_ok-bg);color:var(--_ok-fg);border-inline-start:4px solid currentColor;padding:.6em .8em;margin:.5em 0}
.p-status:empty{display:none}
fieldset{border:1px solid var(--_border);border-radius:4px;padding:.5em .75em;margin:0}
.p-closed [data-parley-action=reply],.parley:not(.p-mail) .p-notify{display:none}
.p-small{font-size:.85em;color:var(--_muted);margin:0}
`;

  /** An element: attributes as given (a value of false or null leaves one out, true sets it
   * empty) and children as nodes or text (Element.append makes strings text nodes). */
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const name in attrs || {}) {
      const value = attrs[name];
      if (value !== false && value != null) el.setAttribute(name, value === true ? "" : String(value));
    }
    for (const kid of kids) if (kid != null && kid !== false) el.append(kid);
    return el;
  }

  /** One API call: {status, data, headers}; status 0 when the server could not be reached. */
  async function call(method, path, json, headers) {
    const init = { method, credentials: "omit", headers: { Accept: "application/json", ...headers } };
    if (json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = json;
    }
    let response;
    try {
      response = await fetch(API + path, init);
    } catch (e) {
      return { status: 0, data: null, headers: new Headers() };
    }
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      /* no JSON body (a 304, a proxy's page) */
    }
    return { status: response.status, data, headers: response.headers };
  }

  function newKey() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function seconds(headers) {
    const n = parseInt(headers.get("Retry-After") || "", 10);
    if (!(n > 0)) return "a little while";
    if (n < 120) return n === 1 ? "1 second" : `${n} seconds`;
    return `${Math.ceil(n / 60)} minutes`;
  }

  function safeUrl(value) {
    try {
      const url = new URL(value);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function loadReader() {
    try {
      const stored = JSON.parse(localStorage.getItem(STORE) || "null");
      return stored && typeof stored === "object" ? stored : null;
    } catch (e) {
      return null;
    }
  }

  function style(root) {
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLE);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      // Browsers without constructable stylesheets: a <style> element, which a strict CSP
      // blocks unless its style-src allows it (README "Embedding the comments").
      root.append(h("style", null, STYLE));
    }
  }

  /** The message for a refused or failed request that is not a field error. */
  function problemText(r) {
    switch (r.status) {
      case 0:
        return "Could not reach the comment server. Check your connection, then send again.";
      case 403:
        return "Comments are closed on this article.";
      case 404:
        return "Comments are not enabled for this article.";
      case 409:
        return "You have already posted this comment.";
      case 413:
        return "Your comment is too long.";
      case 429:
        return `You are posting too quickly. Please wait ${seconds(r.headers)}, then send again.`;
      case 503:
        return `Comments cannot be saved right now; nothing was stored. Please try again in ${seconds(r.headers)}.`;
      default:
        return (r.data && typeof r.data.detail === "string" && r.data.detail) ||
          `Something went wrong (error ${r.status}). Please try again.`;
    }
  }

  class Widget {
    constructor(host) {
      this.slug = host.getAttribute("data-parley-article") || "";
      // For the registration of an unknown article (PARLEY_SITE_ORIGINS): within the API's limits.
      this.title = (host.getAttribute("data-parley-title") || "")
        .replace(/[\s\u0000-\u001f\u007f-\u009f]+/g, " ")
        .trim()
        .slice(0, 500);
      const url = safeUrl(host.getAttribute("data-parley-url") || "");
      this.url = url && url.length <= 2048 ? url : "";
      this.base = "articles/" + encodeURIComponent(this.slug);
      this.nodes = new Map(); // comment id -> {c, li, replies, slot, depth}
      this.orphans = new Map(); // parent id not shown yet -> its replies, shown at the top
      this.cursor = null;
      this.busy = false;
      this.seq = 0;
      this.reader = loadReader();
      this.token = (this.reader && this.reader.token) || null; // commenter token
      const root = host.attachShadow({ mode: "open" });
      host.replaceChildren(); // a fallback for readers without JavaScript, replaced by this
      style(root);
      this.heading = h("h2", { id: "parley-heading" }, "Comments");
      this.status = h("p", { class: "p-status p-small", role: "status", "aria-live": "polite" });
      this.notices = h("div", { class: "p-notices", role: "status", "aria-live": "polite" });
      this.main = h("div", { class: "p-main" });
      this.list = h("ol", { class: "p-list", "aria-label": "Comments" });
      this.more = h("button", { type: "button", class: "p-more p-quiet", hidden: true }, "Load more comments");
      this.box = h(
        "section",
        { class: "parley", "aria-labelledby": "parley-heading" },
        this.heading,
        this.notices,
        this.main,
        this.status,
        this.list,
        this.more,
      );
      root.append(this.box);
      root.addEventListener("click", (e) => this.click(e));
      root.addEventListener("keydown", (e) => this.key(e));
      this.more.addEventListener("click", () => this.page(true));
      this.start();
    }

    async start() {
      this.status.textContent = "Loading comments…";
      const form = this.form(null);
      const [article] = await Promise.all([call("GET", this.base), this.page(false)]);
      let open = true;
      if (article.status === 200 && article.data) {
        open = article.data.comments_open !== false;
        this.count = article.data.comment_count;
        // Parley sends mail: every form offers the "notify me" box (shown by this class).
        this.box.classList.toggle("p-mail", article.data.notify === true);
      }
      this.heading.textContent = this.countText();
      this.moreLabel();
      this.setOpen(open, form);
    }

    moreLabel() {
      const left = typeof this.count === "number" ? this.count - this.nodes.size : 0;
      this.more.textContent = left > 0 ? `Load more comments (${left} more)` : "Load more comments";
    }

    countText() {
      const n = typeof this.count === "number" ? this.count : this.nodes.size;
      return n === 1 ? "1 comment" : `${n} comments`;
    }

    setOpen(open, form) {
      this.box.classList.toggle("p-closed", !open);
      this.main.replaceChildren(
        open ? form.el : h("p", { class: "p-small" }, "Comments are closed on this article."),
      );
    }

    /** The next page of comments; on the first call, pages until INITIAL are shown. */
    async page(byUser) {
      if (this.busy) return;
      this.busy = true;
      this.more.disabled = true;
      // Newest first: the latest activity is what a reader sees; "Load more" goes back in time.
      const query =
        `?order=newest&limit=${PAGE}` + (this.cursor ? `&cursor=${encodeURIComponent(this.cursor)}` : "");
      const r = await call("GET", `${this.base}/comments${query}`);
      this.busy = false;
      this.more.disabled = false;
      if (r.status !== 200 || !r.data || !Array.isArray(r.data.comments)) {
        this.status.textContent =
          r.status === 404 ? "No comments yet." : "The comments could not be loaded. Please reload the page.";
        return;
      }
      const added = this.add(r.data.comments);
      this.cursor = r.data.next_cursor || null;
      this.more.hidden = !this.cursor;
      this.moreLabel();
      this.status.textContent = this.nodes.size ? "" : "No comments yet. Be the first.";
      if (typeof this.count !== "number") this.heading.textContent = this.countText();
      try {
        performance.mark("parley:rendered", { detail: { comments: this.nodes.size } });
      } catch (e) {
        /* measuring only */
      }
      if (byUser && added.length) added[0].li.focus();
      else if (!byUser && this.cursor && this.nodes.size < INITIAL) await this.page(false);
    }

    /** Comments of one page into the thread: each under its parent when that is shown. */
    add(comments) {
      const added = [];
      for (const c of comments) {
        if (!c || this.nodes.has(String(c.id))) continue;
        const node = this.comment(c);
        this.nodes.set(node.id, node);
        added.push(node);
      }
      for (const node of added) this.place(node);
      // Replies shown at the top while their parent was not: under it, now that it is.
      for (const node of added) {
        const waiting = this.orphans.get(node.id);
        this.orphans.delete(node.id);
        for (const reply of waiting || []) this.place(reply);
      }
      return added;
    }

    /** A comment under its parent when that is shown (else at the top, until it is). */
    place(node) {
      const parent = node.c.parent_id ? this.nodes.get(String(node.c.parent_id)) : null;
      if (parent && !node.li.contains(parent.li)) {
        // Replies read as a conversation, oldest first, whatever order they arrived in.
        const later = [...parent.replies.children].find((li) => {
          const other = this.nodes.get(li.getAttribute("data-comment-id"));
          return other && Date.parse(other.c.published_at) > Date.parse(node.c.published_at);
        });
        parent.replies.insertBefore(node.li, later || null);
      } else {
        if (node.c.parent_id) {
          const id = String(node.c.parent_id);
          this.orphans.set(id, [...(this.orphans.get(id) || []), node]);
        }
        this.list.append(node.li);
      }
      this.restyle(node);
      for (const el of node.replies.querySelectorAll("[data-comment-id]")) {
        this.restyle(this.nodes.get(el.getAttribute("data-comment-id")));
      }
    }

    /** Depth, indent and the "to NAME" / "in reply to an earlier comment" note of a comment. */
    restyle(node) {
      const parent = node.c.parent_id ? this.nodes.get(String(node.c.parent_id)) : null;
      const under = Boolean(parent) && node.li.parentNode === parent.replies;
      node.depth = under ? this.depth(node) : 0;
      node.li.setAttribute("data-depth", node.depth);
      node.replies.classList.toggle("p-flat", node.depth >= FLAT);
      node.replies.classList.toggle("p-flat-s", node.depth >= FLAT_S);
      if (node.to) node.to.remove();
      node.to = null;
      if (under && node.depth > FLAT_S) {
        node.to = h("span", { class: "p-to" }, "to ", h("bdi", null, parent.c.author_name || ""));
      } else if (!under && node.c.parent_id) {
        node.to = h("span", { class: "p-to" }, "in reply to an earlier comment");
      }
      if (node.to) node.meta.append(node.to);
    }

    depth(node) {
      let depth = 0;
      let at = node;
      while (at.c.parent_id && depth < 1000) {
        at = this.nodes.get(String(at.c.parent_id));
        if (!at) break;
        depth += 1;
      }
      return depth;
    }

    comment(c) {
      const id = String(c.id);
      const name = String(c.author_name || "");
      const url = c.author_url ? safeUrl(String(c.author_url)) : null;
      const who = url
        ? h("a", { href: url, rel: "nofollow ugc noopener noreferrer" }, h("bdi", null, name))
        : h("bdi", null, name);
      const when = new Date(c.published_at);
      const meta = h(
        "p",
        { class: "p-meta" },
        h("strong", { class: "p-author" }, who),
        h("time", { datetime: String(c.published_at || "") }, isNaN(when) ? "" : WHEN.format(when)),
      );
      const reply = h(
        "button",
        { type: "button", "data-parley-action": "reply", "aria-expanded": "false", "aria-label": `Reply to ${name}` },
        "Reply",
      );
      const report = h(
        "button",
        { type: "button", "data-parley-action": "report", "aria-expanded": "false", "aria-label": `Report the comment by ${name}` },
        "Report",
      );
      const slot = h("div", { class: "p-slot" });
      const replies = h("ol", { class: "p-replies" });
      const li = h(
        "li",
        { class: "p-c", id: `parley-c-${id}`, "data-comment-id": id, "data-parent-id": c.parent_id ? String(c.parent_id) : null, tabindex: "-1" },
        h(
          "article",
          { "aria-label": `Comment by ${name}` },
          meta,
          h("div", { class: "p-text", dir: "auto" }, String(c.content || "")),
          h("div", { class: "p-actions" }, reply, report),
          slot,
        ),
        replies,
      );
      return { id, c, li, meta, slot, replies, reply, report, panel: null };
    }

    click(e) {
      const button = e.target.closest && e.target.closest("button[data-parley-action]");
      if (!button) return;
      const li = button.closest("[data-comment-id]");
      const node = li && this.nodes.get(li.getAttribute("data-comment-id"));
      if (!node) return;
      const kind = button.getAttribute("data-parley-action");
      if (node.panel === kind) return this.close(node);
      if (kind === "reply") {
        const form = this.form(node.id, node);
        this.show(node, kind, form.el);
        const fields = form.el.elements;
        (fields.author_name.value ? fields.content : fields.author_name).focus();
      } else if (kind === "report") {
        const form = this.reportForm(node);
        this.show(node, kind, form);
        form.querySelector("input").focus();
      }
    }

    show(node, kind, el) {
      if (node.panel) this.opener(node).setAttribute("aria-expanded", "false");
      node.panel = kind;
      this.opener(node).setAttribute("aria-expanded", "true");
      node.slot.replaceChildren(el);
    }

    opener(node) {
      return node.panel === "report" ? node.report : node.reply;
    }

    /** Closes a comment's reply or report panel; focus goes back to the button that opened it. */
    close(node, keep) {
      if (!node.panel) return;
      const button = this.opener(node);
      button.setAttribute("aria-expanded", "false");
      node.panel = null;
      node.slot.replaceChildren(...(keep ? [keep] : []));
      if (!keep) button.focus();
    }

    key(e) {
      if (e.key !== "Escape") return;
      const slot = e.target.closest && e.target.closest(".p-slot");
      const li = slot && slot.closest("[data-comment-id]");
      const node = li && this.nodes.get(li.getAttribute("data-comment-id"));
      if (node && node.panel) {
        e.preventDefault();
        this.close(node);
      }
    }

    /** A comment form: the main one (parentId null) or a reply to one comment. */
    form(parentId, node) {
      const n = ++this.seq;
      const reader = this.reader || {};
      const state = { parentId, node, formToken: null, attempt: null, busy: false };
      const field = ([name, label, type, required, max, auto]) => {
        const id = `p${n}-${name}`;
        const input = h(type === "textarea" ? "textarea" : "input", {
          id,
          name,
          type: type === "textarea" ? null : type,
          required,
          "aria-required": required ? "true" : null,
          maxlength: max,
          autocomplete: auto,
          rows: type === "textarea" ? 5 : null,
        });
        if (reader[name] && name !== "content") input.value = String(reader[name]);
        const error = h("p", { class: "p-err", id: `${id}-err`, hidden: true });
        return h("div", { class: `p-f p-f-${name}` }, h("label", { for: id }, label), input, error);
      };
      const who = h("div", { class: "p-who" }, ...FIELDS.slice(0, 3).map(field));
      const honeypot = h(
        "div",
        { class: "p-hp", "aria-hidden": "true" },
        h("label", { for: `p${n}-website` }, "Leave this field empty"),
        h("input", { id: `p${n}-website`, name: "website", type: "text", tabindex: "-1", autocomplete: "off" }),
      );
      honeypot.inert = true;
      const remember = h(
        "label",
        { class: "p-check" },
        h("input", { type: "checkbox", name: "remember", checked: Boolean(this.reader) }),
        "Remember my name and e-mail on this device",
      );
      const notify = h(
        "label",
        { class: "p-check p-notify" },
        h("input", { type: "checkbox", name: "notify" }),
        "E-mail me when someone replies or a moderator publishes my comment",
      );
      const message = h("p", { class: "p-msg", role: "status", "aria-live": "polite" });
      const send = h("button", { type: "submit" }, parentId ? "Post reply" : "Post comment");
      const row = h("div", { class: "p-row" }, send);
      if (parentId) {
        const cancel = h("button", { type: "button", class: "p-quiet" }, "Cancel");
        cancel.addEventListener("click", () => this.close(node));
        row.append(cancel);
      }
      const el = h(
        "form",
        { class: "p-form", novalidate: true, "aria-label": parentId ? `Reply to ${node.c.author_name}` : "Leave a comment" },
        parentId ? null : h("h3", { class: "p-small" }, "Leave a comment. Comments are checked for spam and may wait for a moderator."),
        who,
        field(FIELDS[3]),
        honeypot,
        parentId ? h("input", { type: "hidden", name: "parent_id", value: parentId }) : null,
        remember,
        notify,
        message,
        row,
      );
      state.el = el;
      state.message = message;
      state.send = send;
      el.addEventListener("submit", (e) => {
        e.preventDefault();
        this.submit(state);
      });
      this.formToken(state);
      return state;
    }

    async formToken(state) {
      const r = await call("GET", `${this.base}/form-token`);
      if (r.status === 200 && r.data && typeof r.data.form_token === "string") state.formToken = r.data.form_token;
    }

    clearErrors(state) {
      for (const el of state.el.querySelectorAll("[aria-invalid]")) {
        el.removeAttribute("aria-invalid");
        el.removeAttribute("aria-describedby");
      }
      for (const el of state.el.querySelectorAll(".p-err")) {
        el.hidden = true;
        el.textContent = "";
      }
      state.message.textContent = "";
      state.message.classList.remove("p-bad");
    }

    say(state, text, bad) {
      state.message.textContent = text;
      state.message.classList.toggle("p-bad", Boolean(bad));
    }

    async submit(state) {
      if (state.busy) return;
      const f = state.el.elements;
      const body = {
        author_name: f.author_name.value,
        author_email: f.author_email.value,
        author_url: f.author_url.value,
        content: f.content.value,
        website: f.website.value,
      };
      if (state.parentId) body.parent_id = state.parentId;
      if (state.formToken) body.form_token = state.formToken;
      if (f.notify.checked && this.box.classList.contains("p-mail")) body.notify = true;
      if (this.url) body.article_url = this.url;
      if (this.title) body.article_title = this.title;
      const json = JSON.stringify(body);
      // One key per submission attempt: a retry of the same body reuses it (the API then
      // answers the first answer again and stores nothing new); an edited body is a new one.
      if (!state.attempt || state.attempt.json !== json) state.attempt = { key: newKey(), json };
      const headers = { "Idempotency-Key": state.attempt.key };
      if (this.token) headers["Commenter-Token"] = this.token;
      this.clearErrors(state);
      state.busy = true;
      state.send.disabled = true;
      this.say(state, "Sending…");
      const r = await call("POST", `${this.base}/comments`, json, headers);
      state.busy = false;
      state.send.disabled = false;
      if (r.status === 202 || r.status === 200) return this.accepted(state, r.data || {});
      if (r.status === 422 && r.data && r.data.errors && typeof r.data.errors === "object") {
        return this.fieldErrors(state, r.data);
      }
      if (r.status === 403) this.box.classList.add("p-closed");
      this.say(state, problemText(r), true);
    }

    fieldErrors(state, data) {
      const other = [];
      for (const [name, messages] of Object.entries(data.errors)) {
        const text = Array.isArray(messages) ? messages.join("; ") : String(messages);
        const input = LABELS[name] && state.el.elements[name];
        if (!input) {
          other.push(`${name}: ${text}`);
          continue;
        }
        const error = input.parentNode.querySelector(".p-err");
        error.textContent = `${LABELS[name]} ${text}`;
        error.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", error.id);
      }
      this.say(state, other.length ? other.join(" ") : "Please correct the fields marked below.", true);
      const first = state.el.querySelector("[aria-invalid=true]"); // the first in the form's order
      if (first) first.focus();
    }

    accepted(state, data) {
      if (typeof data.commenter_token === "string") this.token = data.commenter_token;
      const f = state.el.elements;
      if (f.remember.checked) {
        this.reader = {
          author_name: f.author_name.value,
          author_email: f.author_email.value,
          author_url: f.author_url.value,
          token: this.token,
        };
        try {
          localStorage.setItem(STORE, JSON.stringify(this.reader));
        } catch (e) {
          /* storage refused (private mode): remembered for this page only */
        }
      } else {
        this.reader = null;
        try {
          localStorage.removeItem(STORE);
        } catch (e) {
          /* nothing stored */
        }
      }
      const notice = h("p", { class: "p-notice", "data-parley-notice": "pending", tabindex: "-1" }, PENDING);
      if (state.parentId) {
        this.close(state.node, notice);
      } else {
        this.clearErrors(state);
        f.content.value = "";
        state.attempt = null;
        state.formToken = null;
        this.formToken(state); // a token is good for one comment
        this.notices.replaceChildren(notice);
      }
      notice.focus();
    }

    reportForm(node) {
      const n = ++this.seq;
      const message = h("p", { class: "p-msg", role: "status", "aria-live": "polite" });
      const radios = REASONS.map(([value, label]) =>
        h("label", { class: "p-check" }, h("input", { type: "radio", name: "reason", value }), label),
      );
      const note = h("textarea", { id: `p${n}-note`, name: "note", maxlength: 500, rows: 2 });
      const send = h("button", { type: "submit" }, "Send report");
      const cancel = h("button", { type: "button", class: "p-quiet" }, "Cancel");
      const form = h(
        "form",
        { class: "p-form p-report", novalidate: true, "aria-label": `Report the comment by ${node.c.author_name}` },
        h("fieldset", null, h("legend", null, "Why should moderators look at this comment?"), ...radios),
        h("div", null, h("label", { for: `p${n}-note` }, "Note for the moderators (optional)"), note),
        message,
        h("div", { class: "p-row" }, send, cancel),
      );
      cancel.addEventListener("click", () => this.close(node));
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const reason = form.elements.reason.value;
        if (!reason) {
          message.textContent = "Please choose a reason.";
          message.classList.add("p-bad");
          form.querySelector("input").focus();
          return;
        }
        const body = { reason };
        if (note.value.trim()) body.note = note.value.trim();
        const headers = this.token ? { "Commenter-Token": this.token } : {};
        send.disabled = true;
        message.classList.remove("p-bad");
        message.textContent = "Sending…";
        const r = await call("POST", `comments/${encodeURIComponent(node.id)}/reports`, JSON.stringify(body), headers);
        send.disabled = false;
        let done = null;
        if (r.status === 202) done = "Thank you. The moderators will look at this comment.";
        else if (r.status === 200) done = "You have already reported this comment. Thank you.";
        if (done) {
          const notice = h("p", { class: "p-notice", "data-parley-notice": "reported", tabindex: "-1" }, done);
          this.close(node, notice);
          notice.focus();
          return;
        }
        message.classList.add("p-bad");
        if (r.status === 422 && r.data && r.data.errors) {
          message.textContent = Object.values(r.data.errors).flat().join("; ") || problemText(r);
        } else if (r.status === 404) {
          message.textContent = "This comment is no longer published.";
        } else {
          message.textContent = r.status === 429 ? `You are sending reports too quickly. Please wait ${seconds(r.headers)}.` : problemText(r);
        }
      });
      return form;
    }
  }

  function start() {
    const host = document.getElementById("parley-comments");
    if (host && !host.shadowRoot) new Widget(host);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start, { once: true });
  else start();
})();
