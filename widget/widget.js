// madoguchi chat widget: one <script> tag on the shop's page.
//
//   <script src="https://chat.shop.example/widget.js" defer
//           data-title="Hanamaru Goods" data-color="#c0392b"></script>
//
// Plain JavaScript, no framework. The launcher lives in a shadow root, so
// the shop's CSS cannot reach it and it cannot reach the shop's; the panel
// is built only when opened. Every text goes into the page as text, never
// as HTML. The conversation's id and token stay in localStorage (never in a
// URL); live events are read with fetch streaming, so the token stays in the
// Authorization header, and resume from the last event id after a dropped
// connection.
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || window.madoguchiWidget) return;
  const data = script.dataset;
  const server = (data.server || new URL(script.src, location.href).origin).replace(/\/$/, "");
  const lang = (data.locale || document.documentElement.lang || navigator.language || "en").slice(0, 2).toLowerCase() === "ja" ? "ja" : "en";
  const store = "madoguchi:" + server;

  const TEXT = {
    ja: {
      open: "チャットで問い合わせる", close: "チャットを閉じる", title: "お問い合わせ",
      placeholder: "メッセージを入力", inputLabel: "メッセージ（Enterで送信、Shift+Enterで改行）", send: "送信", human: "担当者と話す",
      humanText: "担当者と話したいです", typing: "入力中…", you: "あなた", bot: "自動応答", agent: "担当者",
      down: "ただいま接続できません。しばらくしてからもう一度お試しください。入力した内容は残っています。",
      tooLong: "メッセージが長すぎます。短くして送ってください。",
      limited: (s) => `送信が続いたため、${s}秒ほどお待ちください。`,
      closed: "このお問い合わせは終了しました。新しく始めるにはもう一度開いてください。",
      handedOff: "担当者に引き継ぎました。返信はこちらに届きます。",
      pending: "担当者への引き継ぎを準備しています。",
      csat: "今回の対応はいかがでしたか？", csatComment: "ご意見（任意）", csatSend: "評価を送る",
      thanks: "ご回答ありがとうございました。", star: (n) => `${n}点`, log: "会話",
      reconnecting: "再接続しています…",
    },
    en: {
      open: "Chat with us", close: "Close the chat", title: "Help",
      placeholder: "Type a message", inputLabel: "Message (Enter sends, Shift+Enter for a new line)", send: "Send", human: "Talk to a person",
      humanText: "I'd like to talk to a person", typing: "Typing…", you: "You", bot: "Assistant", agent: "Agent",
      down: "We can't connect right now. Please try again in a moment; your message is kept.",
      tooLong: "That message is too long. Please shorten it.",
      limited: (s) => `Too many messages at once: please wait about ${s} s.`,
      closed: "This conversation has ended. Open the chat again to start a new one.",
      handedOff: "A member of our team has your conversation and will reply here.",
      pending: "Getting a member of our team for you.",
      csat: "How did we do?", csatComment: "Anything to add (optional)", csatSend: "Send rating",
      thanks: "Thank you for your feedback.", star: (n) => `${n} of 5`, log: "Conversation",
      reconnecting: "Reconnecting…",
    },
  }[lang];

  const CSS = `
:host{all:initial}
*{box-sizing:border-box;font-family:system-ui,-apple-system,"Hiragino Sans","Noto Sans JP",sans-serif}
.launcher{display:flex;align-items:center;justify-content:center;position:fixed;bottom:20px;${data.position === "left" ? "left" : "right"}:20px;width:56px;height:56px;border-radius:50%;border:0;background:var(--c);color:#fff;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.3);font-size:26px;z-index:2147483000}
.launcher:focus-visible,button:focus-visible,textarea:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}
.panel{position:fixed;bottom:88px;${data.position === "left" ? "left" : "right"}:20px;width:min(380px,calc(100vw - 16px));height:min(560px,calc(100vh - 110px));background:#fff;color:#222;border-radius:12px;box-shadow:0 4px 24px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden;z-index:2147483000}
@media (max-width:480px){.panel{left:8px;right:8px;bottom:80px;width:auto}}
header{display:flex;align-items:center;justify-content:space-between;padding:10px 14px;background:var(--c);color:#fff;font-weight:600}
header button{background:none;border:0;color:#fff;font-size:22px;cursor:pointer;min-width:44px;min-height:44px}
.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px}
.m{max-width:85%;padding:8px 12px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word;line-height:1.5;font-size:14px}
.m.customer{align-self:flex-end;background:var(--c);color:#fff}
.m.bot,.m.agent,.m.system{align-self:flex-start;background:#f1f1f1}
.m.agent{background:#e7f0fe}
.who{display:block;font-size:11px;margin-bottom:2px;color:#555}
.m.customer .who{color:#fff}
.note{align-self:center;font-size:12px;color:#555;text-align:center}
.note.error{color:#a00}
.quick{display:flex;flex-wrap:wrap;gap:6px}
.quick button,.actions button,.csat button{border:1px solid var(--c);background:#fff;color:var(--c);border-radius:16px;padding:6px 12px;cursor:pointer;font-size:13px;min-height:32px}
.actions{padding:4px 12px;display:flex;gap:6px}
form{display:flex;gap:6px;padding:8px;border-top:1px solid #ddd}
textarea{flex:1;resize:none;border:1px solid #bbb;border-radius:8px;padding:8px;font-size:14px;height:44px}
form button{border:0;border-radius:8px;background:var(--c);color:#fff;padding:0 14px;cursor:pointer;min-height:44px}
.csat{display:flex;flex-direction:column;gap:6px;padding:8px;background:#fafafa;border-radius:8px}
.stars{display:flex;gap:4px}
.csat button[aria-pressed=true]{background:var(--c);color:#fff}
[hidden]{display:none!important}`;

  const el = (tag, props = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    node.append(...children);
    return node;
  };

  // A speech bubble, drawn rather than an emoji (which needs a font).
  function bubble() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
    svg.append(path);
    return svg;
  }

  const host = document.createElement("div");
  host.setAttribute("data-madoguchi", "");
  const root = host.attachShadow({ mode: "open" });
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  root.adoptedStyleSheets = [sheet];
  host.style.setProperty("--c", data.color || "#2c6e49");
  const launcher = el("button", { class: "launcher", type: "button", "aria-label": TEXT.open, "aria-expanded": "false" }, bubble());
  root.append(launcher);
  document.body.append(host);

  let saved = null;
  try { saved = JSON.parse(localStorage.getItem(store) || "null"); } catch { saved = null; }
  const state = { panel: null, log: null, input: null, busy: false, pending: false, lastEvent: saved?.lastEvent || 0, stream: null, status: "bot", rated: false, seen: new Set() };

  function save() {
    if (saved) localStorage.setItem(store, JSON.stringify({ ...saved, lastEvent: state.lastEvent }));
  }

  async function api(path, options = {}) {
    const headers = { "content-type": "application/json" };
    if (saved?.token) headers.authorization = "Bearer " + saved.token;
    const response = await fetch(server + path, { ...options, headers: { ...headers, ...options.headers } });
    let body = null;
    try { body = await response.json(); } catch { body = null; }
    return { response, body };
  }

  function note(text, kind = "") {
    const n = el("p", { class: "note " + kind, text });
    state.log.append(n);
    n.scrollIntoView({ block: "end" });
    return n;
  }

  function show(author, text, seq, agent) {
    if (seq && state.seen.has(seq)) return;
    if (seq) state.seen.add(seq);
    const who = author === "customer" ? TEXT.you : author === "agent" ? agent || TEXT.agent : TEXT.bot;
    const m = el("div", { class: "m " + author }, el("span", { class: "who", text: who }), document.createTextNode(text));
    state.log.append(m);
    m.scrollIntoView({ block: "end" });
  }

  function quickReplies(list) {
    state.log.querySelectorAll(".quick").forEach((q) => q.remove());
    if (!list?.length) return;
    const box = el("div", { class: "quick" });
    for (const q of list) {
      box.append(el("button", { type: "button", text: q.label, onclick: () => send(q.label, q.intent || undefined) }));
    }
    state.log.append(box);
  }

  // Says what changed, once, whether the reply or the live event tells first.
  function setStatus(status, escalation) {
    const changed = status !== state.status;
    state.status = status;
    if (changed && status === "handed_off") note(TEXT.handedOff);
    else if (escalation?.pending && !state.pending) note(TEXT.pending);
    state.pending = Boolean(escalation?.pending);
    if (changed && status === "closed") {
      note(TEXT.closed);
      askRating();
    }
  }

  function askRating() {
    if (state.rated || !saved || state.log.querySelector(".csat")) return;
    let score = 0;
    const stars = el("div", { class: "stars", role: "group", "aria-label": TEXT.csat });
    for (let n = 1; n <= 5; n++) {
      stars.append(el("button", { type: "button", "aria-pressed": "false", "aria-label": TEXT.star(n), text: "★".repeat(n), onclick: (e) => {
        score = n;
        stars.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b === e.currentTarget)));
      } }));
    }
    const comment = el("textarea", { "aria-label": TEXT.csatComment, placeholder: TEXT.csatComment });
    const box = el("div", { class: "csat" }, el("span", { text: TEXT.csat }), stars, comment,
      el("button", { type: "button", text: TEXT.csatSend, onclick: async () => {
        if (!score) return;
        const { response } = await api(`/v1/conversations/${saved.id}/feedback`, { method: "POST", body: JSON.stringify({ csat: score, comment: comment.value.trim() || undefined }) }).catch(() => ({ response: { ok: false } }));
        if (response.ok) { state.rated = true; box.replaceWith(el("p", { class: "note", text: TEXT.thanks })); }
      } }));
    state.log.append(box);
  }

  async function start() {
    const body = { locale: lang };
    if (data.externalId && data.userHash) Object.assign(body, { external_id: data.externalId, user_hash: data.userHash });
    const { response, body: started } = await api("/v1/conversations", { method: "POST", body: JSON.stringify(body) });
    if (!response.ok) throw failure(response, started);
    saved = { id: started.id, token: started.token, lastEvent: 0 };
    state.lastEvent = 0;
    save();
  }

  function failure(response, body) {
    const error = new Error(body?.error?.code || String(response.status));
    error.code = body?.error?.code;
    error.retryAfter = Number(response.headers.get("retry-after")) || 0;
    return error;
  }

  function explain(error) {
    if (error.code === "too_long") return TEXT.tooLong;
    if (error.code === "rate_limited" || error.code === "message_limit") return TEXT.limited(error.retryAfter || 60);
    if (error.code === "conversation_closed") return TEXT.closed;
    return TEXT.down;
  }

  async function send(text, quickReply) {
    text = text.trim();
    if (!text || state.busy) return;
    state.busy = true;
    const typing = el("p", { class: "note", text: TEXT.typing, "aria-hidden": "true" });
    try {
      // A closed conversation is over: what comes next starts a new one.
      if (saved && state.status === "closed") forget();
      if (!saved) await start();
      state.log.append(typing);
      const { response, body } = await api(`/v1/conversations/${saved.id}/messages`, { method: "POST", body: JSON.stringify(quickReply ? { text, quick_reply: quickReply } : { text }) });
      if (response.status === 401 || response.status === 404) { forget(); throw new Error("gone"); }
      if (!response.ok) throw failure(response, body);
      if (!quickReply) state.input.value = "";
      quickReplies([]);
      show("customer", text);
      show("bot", body.reply.text);
      quickReplies(body.reply.quick_replies);
      setStatus(body.state, body.escalation);
      if (body.resolved) askRating();
      listen();
    } catch (error) {
      if (error.code === "conversation_closed") { forget(); state.status = "bot"; }
      note(explain(error), "error");
    } finally {
      typing.remove();
      state.busy = false;
    }
  }

  function forget() {
    localStorage.removeItem(store);
    saved = null;
    state.stream?.abort();
    state.stream = null;
    state.status = "bot";
    state.lastEvent = 0;
    state.seen.clear();
  }

  async function restore() {
    if (!saved) return;
    const { response, body } = await api(`/v1/conversations/${saved.id}`).catch(() => ({ response: { ok: false, status: 0 } }));
    if (response.status === 401 || response.status === 404) return forget();
    if (!response.ok) return note(TEXT.down, "error");
    for (const m of body.messages) show(m.author, m.text, m.seq, m.agent);
    state.status = body.state;
    state.lastEvent = Math.max(state.lastEvent, body.last_event || 0);
    save();
    if (body.state === "closed") {
      note(TEXT.closed);
      askRating();
    }
    listen();
  }

  // The event stream, read with fetch so the token stays a header; resumes
  // from the last event id, with backoff, after a dropped connection.
  async function listen(delay = 1000) {
    if (!saved || state.stream || state.status === "closed") return;
    const abort = new AbortController();
    state.stream = abort;
    let retry = delay;
    let opened = 0;
    try {
      const response = await fetch(`${server}/v1/conversations/${saved.id}/events`, {
        headers: { authorization: "Bearer " + saved.token, "last-event-id": String(state.lastEvent) },
        signal: abort.signal,
      });
      if (response.status === 401 || response.status === 404) { state.stream = null; return forget(); }
      if (!response.ok || !response.body) throw new Error(String(response.status));
      opened = Date.now();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          handle(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (error) {
      if (abort.signal.aborted) return;
    } finally {
      if (state.stream === abort) state.stream = null;
    }
    // A stream that lived a while starts the backoff again; one ended at
    // once (another tab took its place, the service is stopping) does not,
    // so tabs cannot take turns ending each other every second.
    if (opened && Date.now() - opened > 10000) retry = 1000;
    if (!abort.signal.aborted && state.status !== "closed") {
      setTimeout(() => listen(Math.min(retry * 2, 30000)), retry);
    }
  }

  function handle(block) {
    const field = (name) => block.split("\n").find((l) => l.startsWith(name + ": "))?.slice(name.length + 2);
    const id = Number(field("id"));
    const kind = field("event");
    let body = {};
    try { body = JSON.parse(field("data") || "{}"); } catch { return; }
    if (id) { state.lastEvent = Math.max(state.lastEvent, id); save(); }
    if (kind === "message") show(body.author, body.text, body.seq, body.agent);
    else if (kind === "ticket") show("system", body.text);
    else if (kind === "state" && body.state !== state.status) setStatus(body.state);
    else if (kind === "resync") { state.seen.clear(); state.log.replaceChildren(); restore(); }
  }

  function build() {
    state.log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": TEXT.log });
    state.input = el("textarea", { "aria-label": TEXT.inputLabel, placeholder: TEXT.placeholder, rows: "1" });
    state.input.addEventListener("keydown", (e) => {
      // Enter that ends an IME conversion confirms the text: never send then.
      if (e.key !== "Enter" || e.shiftKey || e.isComposing || e.keyCode === 229) return;
      e.preventDefault();
      send(state.input.value);
    });
    const form = el("form", { onsubmit: (e) => { e.preventDefault(); send(state.input.value); } },
      state.input, el("button", { type: "submit", text: TEXT.send }));
    const close = el("button", { type: "button", "aria-label": TEXT.close, text: "×", onclick: toggle });
    state.panel = el("div", { class: "panel", role: "dialog", "aria-label": data.title || TEXT.title },
      el("header", {}, el("span", { text: data.title || TEXT.title }), close),
      state.log,
      el("div", { class: "actions" }, el("button", { type: "button", text: TEXT.human, onclick: () => send(TEXT.humanText) })),
      form);
    state.panel.addEventListener("keydown", (e) => { if (e.key === "Escape") toggle(); });
    root.append(state.panel);
    restore();
  }

  function toggle() {
    const opening = !state.panel || state.panel.hidden;
    if (!state.panel) build();
    else state.panel.hidden = !opening;
    launcher.setAttribute("aria-expanded", String(opening));
    launcher.setAttribute("aria-label", opening ? TEXT.close : TEXT.open);
    (opening ? state.input : launcher).focus();
  }

  launcher.addEventListener("click", toggle);
  window.madoguchiWidget = { open: () => state.panel?.hidden === false || toggle() };
})();
