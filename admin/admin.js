// The support team's page: analytics with charts, the conversations behind
// each figure, dead letters with retry, and rule suggestions. Every text
// from the service is set with textContent, never parsed as HTML.
(function () {
  "use strict";
  var KEY = "madoguchi-admin-token";
  var SVG = "http://www.w3.org/2000/svg";
  var $ = function (id) { return document.getElementById(id); };
  var drill = null;

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function api(method, path) {
    return fetch(path, { method: method, headers: { Authorization: "Bearer " + sessionStorage.getItem(KEY) } })
      .then(function (r) {
        if (r.status === 401) { signOut(); throw new Error("The admin token was refused."); }
        return r.json().then(function (body) { return { status: r.status, body: body }; });
      });
  }

  function signOut() {
    sessionStorage.removeItem(KEY);
    $("app").hidden = true; $("logout").hidden = true; $("login").hidden = false;
    $("token").focus();
  }

  function pct(x) { return x === null || x === undefined ? "–" : (x * 100).toFixed(1) + " %"; }

  function query() {
    var q = [];
    ["from", "to", "channel", "locale"].forEach(function (k) { if ($(k).value) q.push(k + "=" + encodeURIComponent($(k).value)); });
    return q.join("&");
  }

  function drillButton(label, params, text) {
    var b = el("button", text === undefined ? label : text, "link");
    b.type = "button";
    b.addEventListener("click", function () { openDrill(label, params); });
    return b;
  }

  function kpis(f) {
    var box = $("kpis"); box.replaceChildren();
    [["Conversations", f.conversations, "metric=all"],
     ["Resolved by the bot", pct(f.resolution.rate) + " (" + f.resolution.resolved + ")", "metric=resolved"],
     ["Reopened", f.resolution.reopened, "metric=reopened"],
     ["Fallback rate", pct(f.fallback.rate), "metric=fallback"],
     ["Escalation rate", pct(f.escalations.rate) + " (" + f.escalations.handoffs + ")", "metric=escalated"],
     ["CSAT average", f.csat.average === null ? "–" : f.csat.average.toFixed(2), "metric=csat"],
     ["First replies on time", pct(f.first_reply.on_time_rate), "metric=late_reply"]
    ].forEach(function (k) {
      var d = el("div", null, "kpi");
      var v = drillButton(k[0], k[2], k[1]); v.className = "link value";
      v.setAttribute("aria-label", k[0] + ": " + k[1] + ", show conversations");
      d.append(v, el("span", k[0], "label"));
      box.append(d);
    });
  }

  function daily(days) {
    var box = $("daily"); box.replaceChildren();
    var max = Math.max.apply(null, [1].concat(days.map(function (d) { return d.conversations; })));
    var w = 40, h = 160, svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 " + (days.length * w + 10) + " " + (h + 30));
    svg.setAttribute("preserveAspectRatio", "xMinYMid meet");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "Conversations, resolved and escalated per day");
    days.forEach(function (d, i) {
      [["conv", d.conversations, 0], ["res", d.resolved, 12], ["esc", d.escalated, 24]].forEach(function (s) {
        var r = document.createElementNS(SVG, "rect"), bh = (s[1] / max) * h;
        r.setAttribute("class", s[0]); r.setAttribute("x", i * w + 5 + s[2]); r.setAttribute("width", 10);
        r.setAttribute("y", h - bh); r.setAttribute("height", bh);
        var t = document.createElementNS(SVG, "title"); t.textContent = d.date + ": " + s[1]; r.append(t);
        svg.append(r);
      });
      var label = document.createElementNS(SVG, "text");
      label.setAttribute("x", i * w + 5); label.setAttribute("y", h + 15); label.textContent = d.date.slice(5);
      svg.append(label);
    });
    var legend = el("p", null, "legend");
    [["#9db8e6", "conversations"], ["#1e7a3d", "resolved"], ["#b3261e", "escalated"]].forEach(function (l) {
      var s = el("span", l[1]), i = el("i"); i.style.background = l[0]; s.prepend(i); legend.append(s);
    });
    var list = el("ul", null, "bars");
    days.forEach(function (d) {
      if (d.conversations) list.append(bar(d.date, d.conversations, max, drillButton("Started " + d.date, "metric=all&date=" + d.date, d.date)));
    });
    box.append(svg, legend, list);
  }

  function bar(label, n, max, node) {
    var li = el("li"), b = el("span", null, "bar");
    b.style.width = Math.max(1, (n / Math.max(max, 1)) * 100) + "%";
    li.append(node || el("span", label), el("span").appendChild(b).parentNode, el("span", n, "n"));
    return li;
  }

  function bars(id, rows) {
    var box = $(id); box.replaceChildren();
    if (!rows.length) { box.append(el("p", "Nothing in this period.")); return; }
    var max = Math.max.apply(null, rows.map(function (r) { return r.n; }));
    var list = el("ul", null, "bars");
    rows.forEach(function (r) { list.append(bar(r.label, r.n, max, drillButton(r.title, r.params, r.label))); });
    box.append(list);
  }

  function render(body) {
    var f = body.figures;
    kpis(f);
    daily(f.daily);
    bars("reasons", f.escalations.by_reason.map(function (r) {
      return { label: r.reason, n: r.count, title: "Escalated: " + r.reason, params: "metric=escalated&reason=" + encodeURIComponent(r.reason) };
    }));
    bars("csat", Object.keys(f.csat.distribution).map(function (s) {
      return { label: s + " ★", n: f.csat.distribution[s], title: "CSAT " + s, params: "metric=csat&score=" + s };
    }));
    bars("unmatched", f.unmatched.map(function (u) {
      return { label: u.example, n: u.messages, title: "Unmatched: " + u.group, params: "metric=unmatched&group=" + encodeURIComponent(u.group) };
    }));
    bars("intents", f.intents.slice(0, 15).map(function (i) {
      return { label: i.intent, n: i.messages, title: "Intent " + i.intent, params: "metric=intent&intent=" + encodeURIComponent(i.intent) };
    }));
  }

  function openDrill(label, params) {
    drill = { label: label, params: params, after: null };
    $("drill").replaceChildren();
    loadDrill();
    $("drill-title").scrollIntoView();
  }

  function loadDrill() {
    var path = "/v1/admin/analytics/conversations?" + drill.params + "&limit=20&" + query() + (drill.after ? "&after=" + encodeURIComponent(drill.after) : "");
    api("GET", path).then(function (r) {
      $("drill-what").textContent = drill.label + " — " + (r.body.total || 0) + (r.body.total === 1 ? " conversation" : " conversations");
      (r.body.conversations || []).forEach(function (c) {
        var li = el("li");
        li.append(el("strong", c.summary || c.id),
          el("div", c.id + " · " + c.channel + " · " + c.locale + " · " + c.created_at +
            (c.resolved ? " · resolved (" + c.settled_by + ")" : "") + (c.reopened ? " · reopened" : "") +
            c.escalations.map(function (e) { return " · " + e.reason + "/" + e.priority; }).join(""), "meta"));
        c.messages.forEach(function (m) { li.append(el("q", m.text)); });
        $("drill").append(li);
      });
      drill.after = r.body.next || null;
      $("drill-more").hidden = !drill.after;
    }).catch(report);
  }

  function deadLetters() {
    api("GET", "/v1/admin/handoffs?status=dead").then(function (r) {
      letters("dead-handoffs", r.body.handoffs || [], function (h) {
        return [h.id + " · " + h.reason + " · " + h.priority, h.last_error, "/v1/admin/handoffs/" + encodeURIComponent(h.id) + "/retry"];
      });
    }).catch(report);
    api("GET", "/v1/admin/email/outbox?status=dead").then(function (r) {
      letters("dead-mail", r.body.mails || [], function (m) {
        return [m.id + " · " + (m.recipient || "") + " · " + (m.subject || ""), m.last_error, "/v1/admin/email/outbox/" + encodeURIComponent(m.id) + "/retry"];
      });
    }).catch(report);
  }

  function letters(id, items, describe) {
    var box = $(id); box.replaceChildren();
    if (!items.length) { box.append(el("li", "None.")); return; }
    items.forEach(function (item) {
      var d = describe(item), li = el("li"), b = el("button", "Retry");
      b.type = "button";
      b.setAttribute("aria-label", "Retry " + d[0]);
      b.addEventListener("click", function () {
        b.disabled = true;
        api("POST", d[2]).then(function (r) {
          $("status").textContent = r.status < 300 ? "Put back in the outbox: " + d[0] : (r.body.error && r.body.error.message) || "Retry failed";
          deadLetters();
        }).catch(report);
      });
      li.append(el("div", d[0]), el("div", d[1] || "", "meta"), b);
      box.append(li);
    });
  }

  function suggestions() {
    var box = $("suggestions"); box.replaceChildren();
    api("GET", "/v1/admin/suggestions").then(function (r) {
      if (r.status === 404) { box.append(el("p", "Suggestions are not available on this server.")); return; }
      var list = el("ul", null, "list");
      (r.body.suggestions || []).forEach(function (s) {
        var li = el("li"), b = el("button", "Replay");
        b.type = "button";
        li.append(el("strong", (s.kind === "intent" ? "New intent " + (s.name || "") : "Keywords for " + (s.intent || "")) + " (" + (s.locale || "any") + ")"),
          el("div", s.keywords.join(", ") + " · support " + s.support, "meta"));
        s.messages.slice(0, 3).forEach(function (m) { li.append(el("q", m.text)); });
        var out = el("div", null, "meta");
        b.setAttribute("aria-label", "Replay suggestion " + s.id);
        b.addEventListener("click", function () {
          api("POST", "/v1/admin/suggestions/" + encodeURIComponent(s.id) + "/replay").then(function (x) {
            var t = x.body.conversation_tests || { passed: 0, failed: [] };
            out.textContent = (x.body.flipped || []).length + " messages change; conversation tests: " + t.passed + " passed, " + t.failed.length + " failed";
          }).catch(report);
        });
        li.append(b, out);
        list.append(li);
      });
      if (!list.children.length) list.append(el("li", "No suggestions."));
      box.append(list);
    }).catch(report);
  }

  function report(err) { $("status").textContent = String(err.message || err); }

  function load() {
    $("status").textContent = "Loading…";
    api("GET", "/v1/admin/analytics?" + query()).then(function (r) {
      if (r.status !== 200) { $("status").textContent = (r.body.error && r.body.error.message) || "Error"; return; }
      $("status").textContent = "From " + r.body.from + " to " + r.body.to + " (" + r.body.time_zone + ")";
      render(r.body);
    }).catch(report);
    deadLetters();
    suggestions();
  }

  function start() {
    $("login").hidden = true; $("app").hidden = false; $("logout").hidden = false;
    load();
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("login").addEventListener("submit", function (e) {
      e.preventDefault();
      sessionStorage.setItem(KEY, $("token").value);
      api("GET", "/v1/admin/analytics").then(function (r) {
        if (r.status === 200) { $("token").value = ""; start(); }
      }).catch(function (err) { $("login-error").textContent = err.message; });
    });
    $("logout").addEventListener("click", signOut);
    $("period").addEventListener("submit", function (e) { e.preventDefault(); load(); });
    $("drill-more").addEventListener("click", loadDrill);
    if (sessionStorage.getItem(KEY)) start(); else $("token").focus();
  });
})();
