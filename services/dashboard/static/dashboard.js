/* Parley dashboard: keyboard moderation, actions without reloads, live queue.
 * No inline scripts (the Content-Security-Policy forbids them); the pages work without
 * this file, through plain forms. Server-rendered HTML is the only markup inserted. */
(function () {
  "use strict";

  var queue = document.getElementById("queue");
  if (!queue) return;

  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var cardsBox = document.getElementById("cards");
  var wavesBox = document.getElementById("waves");
  var toastBox = document.getElementById("toast");
  var help = document.getElementById("help");
  var bulkForm = document.getElementById("bulk");
  var selectPage = document.getElementById("select-page");
  var status = queue.dataset.status;
  var label = queue.dataset.label;
  var live = queue.dataset.live === "1";
  var grouped = queue.dataset.group === "1";
  var since = queue.dataset.since;
  var wavesSig = queue.dataset.waves || "";
  var maxShown = Number(queue.dataset.maxShown); // the most card ids one poll may ask about
  var VERB = { approve: "Approved", spam: "Marked as spam", reject: "Rejected" };
  var KEYS = { a: "approve", s: "spam", r: "reject" };
  var current = null;
  var armed = null; // {key, until}: a second press confirms an action on many comments
  var toastTimer = null;

  // --- cards and focus ------------------------------------------------------------------

  function cards() {
    return Array.prototype.slice.call(queue.querySelectorAll(".card:not(.pending)"));
  }

  function focusCard(card, scroll) {
    if (current) current.classList.remove("current");
    current = card || null;
    if (current) {
      current.classList.add("current");
      current.focus({ preventScroll: true });
      if (scroll !== false) current.scrollIntoView({ block: "nearest" });
    }
    updateEmpty();
  }

  function move(delta) {
    var list = cards();
    if (!list.length) return;
    var i = list.indexOf(current);
    i = i < 0 ? 0 : Math.min(list.length - 1, Math.max(0, i + delta));
    focusCard(list[i]);
  }

  function neighbour(card) {
    var list = cards();
    var i = list.indexOf(card);
    if (i < 0) return list[0] || null;
    return list[i + 1] || list[i - 1] || null;
  }

  function updateEmpty() {
    var empty = document.getElementById("empty");
    if (empty) empty.hidden = queue.querySelectorAll(".card").length > 0;
  }

  function dropCard(card) {
    if (card === current) focusCard(neighbour(card));
    card.remove();
    updateSelected();
    updateEmpty();
  }

  // --- talking to the server ------------------------------------------------------------

  function api(method, url, body) {
    var opts = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.headers["X-CSRFToken"] = csrf;
      opts.body = JSON.stringify(body);
    }
    return fetch(url, opts).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (data) {
        if (!res.ok) {
          var err = new Error((data && (data.detail || data.title)) || "HTTP " + res.status);
          err.status = res.status;
          throw err;
        }
        return data;
      });
    });
  }

  function toast(message, kind) {
    toastBox.textContent = message;
    toastBox.className = "toast " + (kind || "ok");
    toastBox.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { toastBox.hidden = true; }, kind === "error" ? 8000 : 3000);
  }

  function failed(err) {
    if (err.status === 401) {
      toast("Your session ended: sign in again (reloading…)", "error");
      setTimeout(function () { window.location.reload(); }, 1500);
    } else {
      toast(err.message || "Something went wrong; nothing was changed.", "error");
    }
  }

  function updateCounts(counts) {
    if (!counts) return;
    document.querySelectorAll("[data-count]").forEach(function (el) {
      var n = counts[el.dataset.count];
      if (n !== undefined) el.textContent = n;
    });
    document.title = "(" + counts[status] + ") " + label + " · Parley";
  }

  // --- actions --------------------------------------------------------------------------

  function actOnCard(card, action) {
    if (card.classList.contains("pending")) return;
    var next = card === current ? neighbour(card) : null;
    card.classList.add("pending");
    if (next || card === current) focusCard(next);
    var url = "/admin/api/comments/" + encodeURIComponent(card.dataset.id) + "/action";
    return api("POST", url, { action: action }).then(function (data) {
      updateCounts(data.counts);
      card.remove();
      updateSelected();
      updateEmpty();
    }, function (err) {
      var allowed = card.querySelector('button[value="' + action + '"]');
      if (err.status === 409 && allowed || err.status === 404) {
        // The card offered this action, so the comment moved meanwhile (another moderator,
        // or a recheck): it no longer belongs here.
        card.remove();
        updateSelected();
        updateEmpty();
        toast("Already decided elsewhere: " + err.message, "error");
        return;
      }
      card.classList.remove("pending");
      failed(err);
    });
  }

  function chunked(ids, action) {
    var done = 0, failures = [], statuses = {};
    var chunks = [];
    for (var i = 0; i < ids.length; i += 200) chunks.push(ids.slice(i, i + 200));
    return chunks.reduce(function (promise, chunk) {
      return promise.then(function () {
        return api("POST", "/admin/api/bulk", { action: action, ids: chunk }).then(function (data) {
          done += data.done;
          Object.keys(data.failed).forEach(function (id) { failures.push(data.failed[id]); });
          Object.assign(statuses, data.statuses);
          updateCounts(data.counts);
          if (ids.length > 200) toast(VERB[action] + ": " + done + " of " + ids.length + "…");
        });
      });
    }, Promise.resolve()).then(function () {
      return { done: done, failures: failures, statuses: statuses };
    });
  }

  function report(action, result) {
    var text = VERB[action] + ": " + result.done + " comment" + (result.done === 1 ? "" : "s") + ".";
    if (result.failures.length) text += " Not possible for " + result.failures.length + " (" + result.failures[0] + ").";
    toast(text, result.failures.length ? "error" : "ok");
  }

  function actOnIds(ids, action, cardsToDrop) {
    if (!ids.length) return Promise.resolve();
    cardsToDrop.forEach(function (c) { c.classList.add("pending"); });
    if (cardsToDrop.indexOf(current) >= 0) focusCard(neighbour(current));
    return chunked(ids, action).then(function (result) {
      cardsToDrop.forEach(function (c) {
        if (c.dataset.kind === "wave" || result.statuses[c.dataset.id]) c.remove();
        else c.classList.remove("pending");
      });
      updateSelected();
      updateEmpty();
      report(action, result);
      return result;
    }, function (err) {
      cardsToDrop.forEach(function (c) { c.classList.remove("pending"); });
      failed(err);
    });
  }

  function idsFor(query) {
    var params = new URLSearchParams(query);
    params.set("status", status);
    return api("GET", "/admin/api/ids?" + params.toString());
  }

  function actOnWave(wave, action) {
    return idsFor(wave.dataset.query).then(function (data) {
      return actOnIds(data.ids, action, [wave]);
    }, failed);
  }

  function actOnAllMatching(action) {
    return idsFor(queue.dataset.query).then(function (data) {
      var shown = cards().filter(function (c) { return c.dataset.kind === "comment"; });
      return actOnIds(data.ids, action, []).then(function () {
        if (data.capped) toast("Done the first " + data.ids.length + " of " + data.total + "; repeat for the rest.", "error");
        shown.forEach(function (c) { c.classList.add("pending"); });
        window.location.reload();
      });
    }, failed);
  }

  function selected() {
    return Array.prototype.slice.call(queue.querySelectorAll(".card input.select:checked"));
  }

  function updateSelected() {
    var n = selected().length;
    var box = document.getElementById("selected-count");
    if (box) box.textContent = n + " selected";
    queue.classList.toggle("has-selection", n > 0);
  }

  function actOnSelected(action) {
    var boxes = selected();
    var cardsToDrop = boxes.map(function (b) { return b.closest(".card"); });
    return actOnIds(boxes.map(function (b) { return b.value; }), action, cardsToDrop);
  }

  // A second press (or click) within 4 s confirms an action on many comments.
  function confirmed(key, message) {
    var now = Date.now();
    if (armed && armed.key === key && armed.until > now) {
      armed = null;
      return true;
    }
    armed = { key: key, until: now + 4000 };
    toast(message, "warn");
    return false;
  }

  function act(action, key) {
    if (selected().length) return actOnSelected(action);
    if (!current) return;
    if (current.dataset.kind === "wave") {
      var n = current.dataset.count;
      if (confirmed("wave:" + current.dataset.hash + ":" + action,
                    "Press " + key + " again to " + action + " all " + n + " comments of this wave.")) {
        return actOnWave(current, action);
      }
      return;
    }
    return actOnCard(current, action);
  }

  // --- events ---------------------------------------------------------------------------

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || e.target.isContentEditable) {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    var key = e.key;
    if (key === "?") { help.hidden = !help.hidden; e.preventDefault(); return; }
    if (key === "Escape") {
      help.hidden = true;
      selected().forEach(function (b) { b.checked = false; });
      updateSelected();
      return;
    }
    if (!help.hidden) return;
    if (key === "j") { move(1); e.preventDefault(); }
    else if (key === "k") { move(-1); e.preventDefault(); }
    else if (key === "x") {
      if (current) {
        var box = current.querySelector("input.select");
        if (box) { box.checked = !box.checked; updateSelected(); }
      }
      e.preventDefault();
    } else if (key === "h") {
      var details = current && current.querySelector("details.history");
      if (details) details.open = !details.open;
    } else if (KEYS[key]) {
      e.preventDefault();
      act(KEYS[key], key);
    }
  });

  queue.addEventListener("click", function (e) {
    var card = e.target.closest(".card");
    if (card && card !== current && !e.target.closest("a")) focusCard(card, false);
  });
  queue.addEventListener("change", function (e) {
    if (e.target.classList.contains("select")) updateSelected();
  });
  if (selectPage) {
    selectPage.addEventListener("change", function () {
      queue.querySelectorAll(".card input.select").forEach(function (b) { b.checked = selectPage.checked; });
      updateSelected();
    });
  }

  // Forms keep working without this file; with it, they act in place.
  queue.addEventListener("submit", function (e) {
    var form = e.target;
    var button = e.submitter;
    if (!button || !button.value) return;
    var action = button.value;
    e.preventDefault();
    if (form === bulkForm) {
      if (button.dataset.scope === "all") {
        if (confirmed("all:" + action, "Click again to " + action + " every comment matching this filter.")) {
          actOnAllMatching(action);
        }
      } else if (selected().length) {
        actOnSelected(action);
      } else {
        toast("Select comments first (x, or the boxes).", "warn");
      }
      return;
    }
    var card = form.closest(".card");
    if (!card) return;
    if (card.dataset.kind === "wave") {
      if (confirmed("wave:" + card.dataset.hash + ":" + action,
                    "Click again to " + action + " all " + card.dataset.count + " comments of this wave.")) {
        actOnWave(card, action);
      }
    } else {
      if (card !== current) focusCard(card, false);
      actOnCard(card, action);
    }
  });

  document.getElementById("help-button").addEventListener("click", function () { help.hidden = !help.hidden; });
  document.getElementById("help-close").addEventListener("click", function () { help.hidden = true; });

  // --- live queue -----------------------------------------------------------------------

  function shownIds() {
    var ids = {};
    queue.querySelectorAll(".card[data-id]").forEach(function (c) { ids[c.dataset.id] = true; });
    return ids;
  }

  function poll() {
    var params = new URLSearchParams(queue.dataset.query);
    params.set("status", status);
    if (!grouped) params.set("group", "0");
    if (live) {
      params.set("since", since);
      if (grouped) params.set("waves", wavesSig);
      var asked = Object.keys(shownIds()).slice(0, maxShown);
      if (asked.length) params.set("shown", asked.join(","));
    }
    return api("GET", "/admin/api/poll?" + params.toString()).then(function (data) {
      updateCounts(data.counts);
      if (!live) return;
      since = data.since;
      // Cards decided meanwhile by another moderator (or a recheck) leave; a card this
      // page is acting on is pending, and its own action removes it.
      var gone = (data.gone || []).map(function (id) {
        return queue.querySelector('.card[data-kind="comment"][data-id="' + id + '"]');
      }).filter(function (c) { return c && !c.classList.contains("pending"); });
      gone.forEach(dropCard);
      if (gone.length) {
        toast(gone.length + " comment" + (gone.length === 1 ? " was" : "s were") + " decided elsewhere");
      }
      if (data.html) {
        var known = shownIds();
        var tpl = document.createElement("template");
        tpl.innerHTML = data.html;
        var fresh = Array.prototype.slice.call(tpl.content.querySelectorAll(".card")).filter(function (c) {
          return !known[c.dataset.id];
        });
        fresh.reverse().forEach(function (c) {
          c.classList.add("fresh");
          cardsBox.insertBefore(c, cardsBox.firstChild);
        });
        if (fresh.length) {
          toast(fresh.length + " new comment" + (fresh.length === 1 ? "" : "s"));
          if (!current) focusCard(fresh[fresh.length - 1], false);
        }
      }
      if (data.waves_html !== null && data.waves_html !== undefined && data.waves !== wavesSig) {
        var keep = current && current.dataset.kind === "wave" ? current.dataset.hash : null;
        wavesBox.innerHTML = data.waves_html;
        wavesSig = data.waves;
        if (keep) {
          var again = wavesBox.querySelector('.card[data-hash="' + keep + '"]');
          focusCard(again || cards()[0], false);
        }
      }
      updateEmpty();
    }).catch(function (err) {
      if (err.status === 401) failed(err);
    });
  }

  function loop() {
    poll().then(function () { setTimeout(loop, document.hidden ? 15000 : 5000); });
  }

  updateSelected();
  focusCard(cards()[0], false);
  setTimeout(loop, 5000);
})();
