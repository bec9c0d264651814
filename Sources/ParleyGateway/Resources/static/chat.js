// The chat page (GET /chat): friends with live presence, friend requests, finding people, and one
// conversation per friend, over a chat server's WebSocket (docs/protocols/chat.md).
//
// - Connecting: a ticket from POST /api/v1/chat/ticket (the session cookie), then the WebSocket it
//   names; `authenticate` first, then list_friends and list_friend_requests; a heartbeat every
//   heartbeatSeconds. A connection that stays silent for idleTimeoutSeconds is given up.
// - When the connection drops (anything but `kicked` logged_in_elsewhere) the page reconnects by
//   itself, with backoff and a new ticket, syncs every conversation whose lastSeq is above the
//   highest seq it holds without a gap, and resends pending texts with the same clientMessageId.
// - Texts are kept by (conversationId, seq): pushes, syncs and acks never duplicate one.
// - Everything users wrote goes into the page with textContent, never as HTML.
"use strict";
(function () {
  if (!document.getElementById("chat")) return;

  function $(id) { return document.getElementById(id); }

  var state = {
    me: null, // the User of `authenticated`
    ws: null, // the current socket, or null
    connected: false, // authenticated on `ws`
    stopped: false, // no automatic reconnect (kicked by another session, logged out, page closing)
    attempt: 0, // failed connection attempts since the last success
    heartbeatSeconds: 10,
    idleTimeoutSeconds: 30,
    lastHeard: 0, // when the server last said anything (ms)
    friends: new Map(), // userId -> Friend
    conversations: new Map(), // conversationId -> {id, messages: Map seq -> Message, held, lastSeq, readSeq, syncing, resync}
    pending: new Map(), // clientMessageId -> {clientMessageId, toUserId, text, createdAt, error, retryTimer}
    incoming: [], // FriendRequest
    outgoing: [], // FriendRequest
    results: null, // the last search_results users, or null before any search
    selected: null, // userId of the open conversation
    requests: new Map(), // requestId -> what the request was, to route its answer or error
    nextRequest: 1,
    generation: 0, // counts connection attempts
  };
  var timers = { heartbeat: null, watchdog: null, reconnect: null };

  // ---- Sending: a token bucket below the server's limit (burst 50, 20 per second) ----

  var outbox = [];
  var bucket = { tokens: 40, capacity: 40, perSecond: 15, at: Date.now(), timer: null };

  function transmit(message) {
    outbox.push(JSON.stringify(message));
    flush();
  }

  function flush() {
    var ws = state.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    var now = Date.now();
    bucket.tokens = Math.min(bucket.capacity, bucket.tokens + ((now - bucket.at) / 1000) * bucket.perSecond);
    bucket.at = now;
    while (outbox.length > 0 && bucket.tokens >= 1) {
      ws.send(outbox.shift());
      bucket.tokens -= 1;
    }
    if (outbox.length > 0 && !bucket.timer) {
      bucket.timer = setTimeout(function () { bucket.timer = null; flush(); }, 100);
    }
  }

  // A request with a requestId; `info` says what to do with its answer or its error.
  function request(type, body, info) {
    if (!state.connected) {
      showError("Not connected right now; try again in a moment.");
      return null;
    }
    var id = "r" + state.nextRequest++;
    body.type = type;
    body.requestId = id;
    state.requests.set(id, info || { kind: type });
    transmit(body);
    return id;
  }

  function newClientMessageId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    // Pages served over plain HTTP to another host have no randomUUID: make a version 4 UUID.
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  // ---- Connection ----

  function setStatus(name, text) {
    var status = $("chat-status");
    status.setAttribute("data-state", name);
    status.textContent = text;
    var button = $("chat-reconnect");
    if (name === "kicked") {
      if (!button) {
        button = document.createElement("button");
        button.id = "chat-reconnect";
        button.type = "button";
        button.className = "secondary";
        button.textContent = "Use the chat here";
        button.addEventListener("click", function () {
          state.stopped = false;
          state.attempt = 0;
          connect();
        });
      }
      status.appendChild(document.createTextNode(" "));
      status.appendChild(button);
    }
  }

  function clearTimers() {
    clearInterval(timers.heartbeat);
    clearInterval(timers.watchdog);
    clearTimeout(timers.reconnect);
    timers.heartbeat = timers.watchdog = timers.reconnect = null;
  }

  function connect() {
    clearTimers();
    closeSocket();
    // Only the newest attempt may open a socket; an older one still fetching its ticket gives up.
    var generation = ++state.generation;
    setStatus("connecting", state.attempt > 0 ? "Reconnecting…" : "Connecting…");
    fetch("/api/v1/chat/ticket", { method: "POST", credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (response.status === 401) throw { loggedOut: true };
          if (!response.ok) throw new Error((body.error && body.error.message) || "HTTP " + response.status);
          return body;
        });
      })
      .then(function (ticket) {
        if (generation === state.generation) openSocket(ticket);
      })
      .catch(function (error) {
        if (state.stopped || generation !== state.generation) return;
        if (error && error.loggedOut) {
          stop("loggedout", "You are logged out. Log in again to chat.");
          return;
        }
        scheduleReconnect((error && error.message) || "no ticket");
      });
  }

  function openSocket(ticket) {
    if (state.stopped) return;
    closeSocket();
    var ws;
    try {
      ws = new WebSocket(ticket.wsURL);
    } catch (error) {
      scheduleReconnect(error.message);
      return;
    }
    state.ws = ws;
    outbox = [];
    state.lastHeard = Date.now();
    // Until `authenticated` sets the idle timeout, a socket gets the server's own authentication
    // deadline (10 s) to open and answer: a socket the browser refuses may never close by itself.
    state.idleTimeoutSeconds = 10;
    timers.watchdog = setInterval(function () {
      if (Date.now() - state.lastHeard > state.idleTimeoutSeconds * 1000) {
        dropped(state.connected ? "the server stopped answering" : "could not connect");
      }
    }, 1000);
    ws.onopen = function () {
      if (state.ws !== ws) return;
      state.lastHeard = Date.now();
      transmit({ type: "authenticate", token: ticket.token });
    };
    ws.onmessage = function (event) {
      if (state.ws !== ws) return;
      state.lastHeard = Date.now();
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (message && typeof message === "object") handle(message);
    };
    ws.onclose = function (event) {
      if (state.ws !== ws) return;
      dropped(state.kickMessage || "connection closed (" + event.code + ")");
    };
  }

  function closeSocket() {
    var ws = state.ws;
    state.ws = null;
    state.connected = false;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try { ws.close(1000); } catch (error) { /* already closed */ }
    }
    outbox = [];
    state.requests.clear();
    state.conversations.forEach(function (conversation) { conversation.syncing = false; conversation.resync = false; });
  }

  // The connection is gone: forget what was in flight and come back unless told not to.
  function dropped(reason) {
    clearTimers();
    closeSocket();
    state.kickMessage = null;
    if (!state.stopped) scheduleReconnect(reason);
    render();
  }

  function scheduleReconnect(reason) {
    clearTimers();
    state.attempt += 1;
    var delay = Math.min(30000, 1000 * Math.pow(2, state.attempt - 1)) * (0.5 + Math.random() / 2);
    setStatus("reconnecting", "Offline (" + reason + "). Reconnecting in " + Math.ceil(delay / 1000) + " s…");
    timers.reconnect = setTimeout(connect, delay);
  }

  function stop(name, text) {
    state.stopped = true;
    clearTimers();
    closeSocket();
    setStatus(name, text);
    render();
  }

  function reconnectNow() {
    if (!state.stopped && timers.reconnect) {
      state.attempt = 0;
      connect();
    }
  }

  // ---- Messages from the server ----

  function handle(message) {
    var info = message.requestId ? state.requests.get(message.requestId) : undefined;
    if (message.requestId && message.type !== "error") state.requests.delete(message.requestId);
    switch (message.type) {
      case "authenticated": return authenticated(message);
      case "heartbeat_ack": return;
      case "kicked": return kicked(message);
      case "ok": return;
      case "error": return failed(message);
      case "search_results":
        state.results = message.users || [];
        return renderSearch();
      case "friend_request_sent":
        upsert(state.outgoing, message.request);
        setRelation(message.request.to.userId, "request_sent");
        notice("Friend request sent to " + displayName(message.request.to) + ".");
        return renderRequests();
      case "friend_request_received":
        upsert(state.incoming, message.request);
        setRelation(message.request.from.userId, "request_received");
        return renderRequests();
      case "friend_requests":
        state.incoming = message.incoming || [];
        state.outgoing = message.outgoing || [];
        if (message.hasMore) notice("More friend requests wait: answer these to see the next.");
        return renderRequests();
      case "friend_request_resolved": return resolved(message, info);
      case "friends": {
        // A list longer than one frame comes in pages: the first starts afresh.
        if (!info || !info.after) state.friends = new Map();
        var page = message.friends || [];
        page.forEach(addFriend);
        if (message.hasMore && page.length > 0) {
          var after = page[page.length - 1].username;
          request("list_friends", { after: after }, { kind: "list_friends", after: after });
        }
        selectFromLocation();
        return render();
      }
      case "presence": {
        var friend = state.friends.get(message.userId);
        if (friend) friend.online = !!message.online;
        renderFriends();
        return renderConversation();
      }
      case "text_ack": return acknowledged(message);
      case "message":
        store(message);
        markRead();
        return render();
      case "sync_result": return synced(message);
      default:
        // A type this page does not know yet (§4): ignored.
        return;
    }
  }

  function authenticated(message) {
    state.me = message.user;
    state.connected = true;
    state.attempt = 0;
    state.heartbeatSeconds = Math.max(1, message.heartbeatSeconds || 10);
    state.idleTimeoutSeconds = Math.max(2, message.idleTimeoutSeconds || 30);
    timers.heartbeat = setInterval(function () { transmit({ type: "heartbeat" }); }, state.heartbeatSeconds * 1000);
    setStatus("online", "Online as " + message.user.username + " (" + message.serverName + ")");
    request("list_friends", {});
    request("list_friend_requests", {});
    state.pending.forEach(function (text) { if (!text.error) sendPending(text); });
    render();
  }

  function kicked(message) {
    if (message.reason === "logged_in_elsewhere") {
      stop("kicked", "Disconnected: the chat was opened in another window or device.");
    } else {
      // idle_timeout, shutting_down: the server closes next, and the page reconnects.
      state.kickMessage = message.message || message.reason;
    }
  }

  function failed(message) {
    var retryable = message.code === "unavailable" || message.code === "rate_limited";
    if (message.clientMessageId && state.pending.has(message.clientMessageId)) {
      var text = state.pending.get(message.clientMessageId);
      if (retryable) {
        clearTimeout(text.retryTimer);
        text.retryTimer = setTimeout(function () { if (state.connected && state.pending.has(text.clientMessageId)) sendPending(text); }, 2000);
      } else {
        text.error = message.message || message.code;
      }
      return renderConversation();
    }
    var info = message.requestId ? state.requests.get(message.requestId) : undefined;
    if (message.requestId) state.requests.delete(message.requestId);
    if (info && info.kind === "sync") {
      var conversation = state.conversations.get(info.conversationId);
      if (conversation) {
        conversation.syncing = false;
        if (retryable) setTimeout(function () { sync(conversation); }, 2000);
      }
      return;
    }
    if (info && (info.kind === "list_friends" || info.kind === "list_friend_requests") && retryable) {
      setTimeout(function () { if (state.connected) request(info.kind, {}); }, 2000);
      return;
    }
    if (info && info.kind === "mark_read") return;
    if (message.closing) return; // the server closes next; the page reconnects with a new ticket
    showError(message.message || message.code);
  }

  function resolved(message, info) {
    var id = message.friendRequestId;
    var request = find(state.incoming, id) || find(state.outgoing, id);
    state.incoming = state.incoming.filter(function (r) { return r.friendRequestId !== id; });
    state.outgoing = state.outgoing.filter(function (r) { return r.friendRequestId !== id; });
    if (message.outcome === "accepted" && message.friend) {
      addFriend(message.friend);
      setRelation(message.friend.userId, "friend");
      notice("You and " + displayName(message.friend) + " are friends now.");
    } else if (request) {
      var other = info ? request.from : request.to;
      setRelation(other.userId, "none");
      notice(info ? "Request declined." : displayName(other) + " declined your friend request.");
    }
    render();
  }

  // ---- Conversations: texts by (conversationId, seq) ----

  function conversationFor(id) {
    var conversation = state.conversations.get(id);
    if (!conversation) {
      conversation = { id: id, messages: new Map(), held: 0, lastSeq: 0, readSeq: 0, syncing: false, resync: false };
      state.conversations.set(id, conversation);
    }
    return conversation;
  }

  function addFriend(friend) {
    state.friends.set(friend.userId, friend);
    var conversation = conversationFor(friend.conversationId);
    conversation.lastSeq = Math.max(conversation.lastSeq, friend.lastSeq || 0);
    conversation.readSeq = Math.max(conversation.readSeq, friend.readSeq || 0);
    if (conversation.lastSeq > conversation.held) sync(conversation);
  }

  // Keeps a text unless its seq is held already; advances `held` over every seq without a gap
  // below; a text beyond a gap starts a sync after `held`.
  function store(text) {
    var conversation = conversationFor(text.conversationId);
    if (text.clientMessageId && state.pending.has(text.clientMessageId)) {
      clearTimeout(state.pending.get(text.clientMessageId).retryTimer);
      state.pending.delete(text.clientMessageId);
    }
    conversation.lastSeq = Math.max(conversation.lastSeq, text.seq);
    if (text.seq <= conversation.held || conversation.messages.has(text.seq)) return;
    conversation.messages.set(text.seq, {
      seq: text.seq, fromUserId: text.fromUserId, text: String(text.text), sentAt: text.sentAt,
    });
    while (conversation.messages.has(conversation.held + 1)) conversation.held += 1;
    if (conversation.held < text.seq) sync(conversation);
  }

  function sync(conversation) {
    if (!state.connected) return;
    if (conversation.syncing) {
      conversation.resync = true;
      return;
    }
    conversation.syncing = true;
    conversation.resync = false;
    request("sync", { conversationId: conversation.id, afterSeq: conversation.held, limit: 100 }, {
      kind: "sync", conversationId: conversation.id, afterSeq: conversation.held,
    });
  }

  function synced(message) {
    var conversation = conversationFor(message.conversationId);
    var before = conversation.held;
    conversation.syncing = false;
    conversation.lastSeq = Math.max(conversation.lastSeq, message.lastSeq || 0);
    (message.messages || []).forEach(store);
    var progressed = conversation.held > before;
    if ((message.hasMore && progressed) || (conversation.resync && conversation.held < conversation.lastSeq)) {
      sync(conversation);
    }
    conversation.resync = false;
    markRead();
    render();
  }

  function acknowledged(ack) {
    var text = state.pending.get(ack.clientMessageId);
    if (!text) return; // a sync brought it already
    clearTimeout(text.retryTimer);
    state.pending.delete(ack.clientMessageId);
    store({ conversationId: ack.conversationId, seq: ack.seq, fromUserId: state.me.userId, text: text.text, sentAt: ack.sentAt });
    markRead();
    render();
  }

  function sendPending(text) {
    text.error = null;
    transmit({ type: "send_text", clientMessageId: text.clientMessageId, toUserId: text.toUserId, text: text.text });
  }

  // Marks the open conversation read up to what it holds, while the page is in view.
  function markRead() {
    if (!state.connected || state.selected === null || document.visibilityState === "hidden") return;
    var friend = state.friends.get(state.selected);
    if (!friend) return;
    var conversation = conversationFor(friend.conversationId);
    if (conversation.held > conversation.readSeq) {
      conversation.readSeq = conversation.held;
      request("mark_read", { conversationId: conversation.id, seq: conversation.held });
    }
  }

  // ---- Small helpers ----

  function find(list, id) {
    for (var i = 0; i < list.length; i++) if (list[i].friendRequestId === id) return list[i];
    return null;
  }

  function upsert(list, item) {
    for (var i = 0; i < list.length; i++) {
      if (list[i].friendRequestId === item.friendRequestId) { list[i] = item; return; }
    }
    list.push(item);
  }

  function setRelation(userId, relation) {
    if (!state.results) return;
    state.results.forEach(function (user) { if (user.userId === userId) user.relation = relation; });
    renderSearch();
  }

  function displayName(user) {
    return user.alias || user.nickname || user.username;
  }

  function node(tag, className, text) {
    var element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined && text !== null) element.textContent = text;
    return element;
  }

  function button(label, className, onClick) {
    var element = node("button", className, label);
    element.type = "button";
    element.addEventListener("click", onClick);
    return element;
  }

  function notice(text) {
    var element = $("chat-notice");
    element.textContent = text;
    element.hidden = false;
    $("chat-error").hidden = true;
  }

  function showError(text) {
    var element = $("chat-error");
    element.textContent = text;
    element.hidden = false;
    $("chat-notice").hidden = true;
  }

  // Re-renders `list` with `fill`, keeping what was typed into its inputs (by data-key).
  function refill(list, fill) {
    var typed = {};
    list.querySelectorAll("input[data-key]").forEach(function (input) { typed[input.getAttribute("data-key")] = input.value; });
    list.replaceChildren();
    fill();
    list.querySelectorAll("input[data-key]").forEach(function (input) {
      var value = typed[input.getAttribute("data-key")];
      if (value !== undefined) input.value = value;
    });
  }

  function unread(friend) {
    var conversation = state.conversations.get(friend.conversationId);
    if (!conversation || !state.me) return 0;
    var count = 0;
    conversation.messages.forEach(function (text) {
      if (text.seq > conversation.readSeq && text.fromUserId !== state.me.userId) count += 1;
    });
    return count;
  }

  // ---- Rendering ----

  function render() {
    renderFriends();
    renderRequests();
    renderConversation();
  }

  function sortedFriends() {
    return Array.from(state.friends.values()).sort(function (a, b) {
      return displayName(a).localeCompare(displayName(b));
    });
  }

  function renderFriends() {
    var list = $("friends");
    list.replaceChildren();
    sortedFriends().forEach(function (friend) {
      var item = node("li");
      var open = button("", "friend", function () { select(friend.userId); });
      open.setAttribute("data-user-id", String(friend.userId));
      if (friend.userId === state.selected) open.setAttribute("aria-current", "true");
      var dot = node("span", "presence " + (friend.online ? "online" : "offline"));
      dot.setAttribute("data-online", friend.online ? "true" : "false");
      dot.title = friend.online ? "online" : "offline";
      open.appendChild(dot);
      var name = node("span", "name", displayName(friend));
      name.appendChild(node("span", "handle", " @" + friend.username + (friend.online ? " · online" : " · offline")));
      open.appendChild(name);
      var count = unread(friend);
      if (count > 0) open.appendChild(node("span", "unread", String(count)));
      item.appendChild(open);
      list.appendChild(item);
    });
    $("friends-empty").hidden = state.friends.size > 0;
  }

  function renderRequests() {
    var incoming = $("incoming");
    refill(incoming, function () {
      state.incoming.forEach(function (friendRequest) {
        var item = node("li");
        item.setAttribute("data-request-id", String(friendRequest.friendRequestId));
        item.appendChild(node("strong", null, displayName(friendRequest.from)));
        item.appendChild(node("span", "handle", " @" + friendRequest.from.username));
        if (friendRequest.message) item.appendChild(node("p", "request-message", friendRequest.message));
        var alias = node("input", "alias");
        alias.maxLength = 50;
        alias.placeholder = "Your name for them (optional)";
        alias.setAttribute("aria-label", "Your name for " + friendRequest.from.username + " (optional)");
        alias.setAttribute("data-key", "alias-" + friendRequest.friendRequestId);
        item.appendChild(alias);
        item.appendChild(button("Accept", "accept", function () {
          var body = { friendRequestId: friendRequest.friendRequestId };
          if (alias.value.trim()) body.alias = alias.value.trim();
          request("accept_friend_request", body, { kind: "accept" });
        }));
        item.appendChild(button("Decline", "decline secondary", function () {
          request("decline_friend_request", { friendRequestId: friendRequest.friendRequestId }, { kind: "decline" });
        }));
        incoming.appendChild(item);
      });
    });
    $("incoming-empty").hidden = state.incoming.length > 0;
    var outgoing = $("outgoing");
    outgoing.replaceChildren();
    state.outgoing.forEach(function (friendRequest) {
      var item = node("li");
      item.setAttribute("data-request-id", String(friendRequest.friendRequestId));
      item.appendChild(node("span", null, "To "));
      item.appendChild(node("strong", null, displayName(friendRequest.to)));
      item.appendChild(node("span", "handle", " @" + friendRequest.to.username + " · waiting"));
      if (friendRequest.message) item.appendChild(node("p", "request-message", friendRequest.message));
      outgoing.appendChild(item);
    });
    $("outgoing-empty").hidden = state.outgoing.length > 0;
  }

  function renderSearch() {
    var list = $("search-results");
    refill(list, function () {
      (state.results || []).forEach(function (user) {
        var item = node("li");
        item.setAttribute("data-user-id", String(user.userId));
        item.appendChild(node("strong", null, user.nickname || user.username));
        item.appendChild(node("span", "handle", " @" + user.username));
        if (user.relation === "none") {
          var message = node("input", "request-text");
          message.maxLength = 255;
          message.placeholder = "A message with your request (optional)";
          message.setAttribute("aria-label", "Message to " + user.username);
          message.setAttribute("data-key", "message-" + user.userId);
          item.appendChild(message);
          item.appendChild(button("Add friend", "add-friend", function () {
            request("send_friend_request", { toUserId: user.userId, message: message.value }, { kind: "friend_request" });
          }));
        } else if (user.relation === "friend") {
          item.appendChild(button("Chat", "open-chat secondary", function () { select(user.userId); }));
        } else {
          var text = user.relation === "request_sent" ? "Request sent" : "Asked you: see Received";
          item.appendChild(node("p", "hint relation", text));
        }
        list.appendChild(item);
      });
    });
    $("search-empty").hidden = !(state.results && state.results.length === 0);
  }

  function renderConversation() {
    var friend = state.selected === null ? null : state.friends.get(state.selected);
    var title = $("conversation-title");
    var list = $("messages");
    var form = $("send-form");
    if (!friend) {
      title.textContent = "Choose a friend to chat with";
      list.replaceChildren();
      form.hidden = true;
      return;
    }
    title.textContent = "Chat with " + displayName(friend) + (friend.online ? " (online)" : " (offline)");
    form.hidden = false;
    var atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    var conversation = conversationFor(friend.conversationId);
    list.replaceChildren();
    Array.from(conversation.messages.keys()).sort(function (a, b) { return a - b; }).forEach(function (seq) {
      var text = conversation.messages.get(seq);
      var mine = state.me && text.fromUserId === state.me.userId;
      var item = node("li", "msg " + (mine ? "mine" : "theirs"));
      item.setAttribute("data-seq", String(seq));
      item.appendChild(node("div", "text", text.text));
      var time = node("time", null, new Date(text.sentAt).toLocaleString());
      time.dateTime = new Date(text.sentAt).toISOString();
      item.appendChild(time);
      list.appendChild(item);
    });
    Array.from(state.pending.values())
      .filter(function (text) { return text.toUserId === friend.userId; })
      .sort(function (a, b) { return a.createdAt - b.createdAt; })
      .forEach(function (text) {
        var item = node("li", "msg mine pending" + (text.error ? " failed" : ""));
        item.setAttribute("data-client-message-id", text.clientMessageId);
        item.appendChild(node("div", "text", text.text));
        item.appendChild(node("span", "pending-note", text.error ? "Not sent: " + text.error : "Sending…"));
        if (text.error) {
          item.appendChild(button("Try again", "secondary", function () {
            if (state.connected) sendPending(text); else text.error = null;
            renderConversation();
          }));
          item.appendChild(button("Discard", "secondary", function () {
            state.pending.delete(text.clientMessageId);
            renderConversation();
          }));
        }
        list.appendChild(item);
      });
    if (atBottom || state.scrollToEnd) list.scrollTop = list.scrollHeight;
    state.scrollToEnd = false;
  }

  function select(userId) {
    if (!state.friends.has(userId)) return;
    state.selected = userId;
    state.scrollToEnd = true;
    history.replaceState(null, "", "#friend-" + userId);
    markRead();
    render();
    $("send-text").focus();
  }

  // After a reload the open conversation comes back from the address (#friend-ID).
  function selectFromLocation() {
    var match = /^#friend-(\d+)$/.exec(location.hash);
    if (state.selected === null && match && state.friends.has(Number(match[1]))) {
      state.selected = Number(match[1]);
      state.scrollToEnd = true;
      markRead();
    }
  }

  // ---- What the user does ----

  $("search-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var query = $("search-query").value.trim();
    if (!query) return;
    request("search_users", { query: query, limit: 20 }, { kind: "search" });
  });

  $("send-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var box = $("send-text");
    var text = box.value;
    if (!text.trim() || state.selected === null) return;
    var pending = { clientMessageId: newClientMessageId(), toUserId: state.selected, text: text, createdAt: Date.now(), error: null };
    state.pending.set(pending.clientMessageId, pending);
    box.value = "";
    // Offline, the text waits and is sent with the others after the reconnect.
    if (state.connected) sendPending(pending);
    state.scrollToEnd = true;
    renderConversation();
  });

  $("send-text").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("send-form").requestSubmit();
    }
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      markRead();
      renderFriends();
      reconnectNow();
    }
  });
  window.addEventListener("online", reconnectNow);
  window.addEventListener("pagehide", function () {
    state.stopped = true;
    clearTimers();
    closeSocket();
  });
  window.addEventListener("pageshow", function (event) {
    // Back from the browser's page cache: the socket was closed on the way out.
    if (event.persisted) {
      state.stopped = false;
      state.attempt = 0;
      connect();
    }
  });

  render();
  connect();
})();
