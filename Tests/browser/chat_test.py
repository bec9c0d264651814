#!/usr/bin/env python3
"""The chat page in a real browser: two users, two headless Chromium sessions, one `parley serve`.

Usage: chat_test.py [PATH-TO-PARLEY]   (default .build/debug/parley)

Starts `parley serve` on free ports in a temporary folder, registers alice and bob through the
JSON API (with the code mailed to <data-dir>/outbox), logs each in through the /login form in a
browser of their own, then on /chat:

 1. alice finds bob and sends a friend request; bob sees it arrive and accepts it with an alias;
 2. both see each other as friends, online; alice writes (text with HTML in it), bob sees it
    arrive in his open conversation, as text; bob answers, alice sees it;
 3. bob leaves the page: alice sees him go offline; alice writes; bob comes back: alice sees
    him online, bob's page shows the three texts in order (sync), and again after a reload;
 4. the server stops and starts again on the same ports: both pages say they are reconnecting;
    a text alice writes meanwhile is pending, then sent by itself once the pages are back
    online (new ticket, sync, resend) and appears once on both sides;
 5. alice opens the chat in a second window: the first is kicked, does not reconnect by
    itself, and takes over again on request;
 6. bob gets 300 more friends (written straight into the database, with long aliases): after a
    reload his page lists all 301, which takes several `friends` pages.

Needs Debian's chromium, chromium-driver and python3-selenium (scripts/test.sh installs them).
With CHAT_TEST_SCREENSHOTS=FOLDER it leaves a PNG of each user's page there at the end.
Exits 0 when everything held, 1 with the reason otherwise, 2 when something it needs is missing.
The server is always stopped at the end.
"""

import glob
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL = "apt-get install -y chromium chromium-driver python3-selenium (and run this with /usr/bin/python3)"
WAIT = 30  # seconds any one expected change may take


class Failure(Exception):
    pass


def log(text):
    print(f"[chat_test {time.strftime('%H:%M:%S')}] {text}", flush=True)


# ---- Prerequisites ----

def missing_prerequisites():
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append(f"the selenium module for {sys.executable}")
    return missing


# ---- The server ----

def free_ports(names):
    """A distinct free port for each name: every socket stays bound until all are chosen (one by
    one, the kernel gave the same port twice once)."""
    sockets = [socket.socket() for _ in names]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return {name: sock.getsockname()[1] for name, sock in zip(names, sockets)}
    finally:
        for sock in sockets:
            sock.close()


class Server:
    """`parley serve` with every role, on fixed free ports so that it can start again on them."""

    def __init__(self, binary, folder):
        self.binary = binary
        self.folder = folder
        self.data = os.path.join(folder, "data")
        self.ports = free_ports(("http", "rpc", "verifier", "balancer", "chat", "chat-ws", "contacts"))
        self.base = f"http://127.0.0.1:{self.ports['http']}"
        self.process = None
        self.log_path = None
        self.starts = 0

    def start(self):
        self.starts += 1
        self.log_path = os.path.join(self.folder, f"server-{self.starts}.log")
        p = self.ports
        arguments = [
            self.binary, "serve",
            "--http-port", str(p["http"]), "--rpc-port", str(p["rpc"]), "--verifier-port", str(p["verifier"]),
            "--balancer-port", str(p["balancer"]), "--chat-port", str(p["chat"]), "--chat-ws-port", str(p["chat-ws"]),
            "--listen", f"127.0.0.1:{p['contacts']}", "--data-dir", self.data,
        ]
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
        with open(self.log_path, "w") as out:
            self.process = subprocess.Popen(arguments, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            env=environment, start_new_session=True)
        self.wait_for_log(r"gateway listening on http://")
        self.wait_for_log(r"chat server \S+ listening on ws://\S+/chat")
        deadline = time.monotonic() + WAIT
        while True:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise Failure(f"the gateway did not answer /healthz:\n{self.output()}")
            time.sleep(0.1)

    def output(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_for_log(self, pattern):
        deadline = time.monotonic() + WAIT
        while not re.search(pattern, self.output()):
            if self.process.poll() is not None:
                raise Failure(f"parley serve exited ({self.process.returncode}) before /{pattern}/:\n{self.output()}")
            if time.monotonic() > deadline:
                raise Failure(f"parley serve did not print /{pattern}/ in {WAIT} s:\n{self.output()}")
            time.sleep(0.05)

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def api(self, method, path, body=None):
        request = urllib.request.Request(self.base + "/api/v1" + path, method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                text = response.read().decode()
                return response.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def register(self, username, password):
        """Registration needs the code mailed to the address: ask for it, read it from the outbox."""
        email = f"{username}@example.com"
        status, body = self.api("POST", "/verification-codes", {"email": email, "purpose": "register"})
        if status != 202:
            raise Failure(f"asking for a code for {email}: {status} {body}")
        code = None
        deadline = time.monotonic() + WAIT
        while code is None and time.monotonic() < deadline:
            for path in glob.glob(os.path.join(self.data, "outbox", "*.eml")):
                with open(path, errors="replace") as f:
                    mail = f.read()
                if re.search(rf"^To:.*{re.escape(email)}", mail, re.MULTILINE | re.IGNORECASE):
                    match = re.search(r"Your Parley code: (\d{6})", mail)
                    code = match and match.group(1)
            if code is None:
                time.sleep(0.1)
        if code is None:
            raise Failure(f"no code for {email} in {self.data}/outbox")
        status, body = self.api("POST", "/accounts", {"username": username, "password": password, "email": email, "code": code})
        if status != 201:
            raise Failure(f"registering {username}: {status} {body}")
        return body["id"]


def seed_friends(server, user_id, count):
    """Gives the user `count` new friends, each under an alias of 50 characters and 188 bytes, straight in SQLite."""
    now = int(time.time() * 1000)
    database = sqlite3.connect(os.path.join(server.data, "parley.sqlite"), timeout=10)
    try:
        with database:
            for index in range(count):
                name = f"fan{index:03}"
                cursor = database.execute(
                    "INSERT INTO users (username, username_key, password_hash, created_at) VALUES (?, ?, 'unused', ?)",
                    (name, name, now))
                database.execute(
                    "INSERT INTO conversations (user_low, user_high, alias_low, created_at) VALUES (?, ?, ?, ?)",
                    (user_id, cursor.lastrowid, f"{index:03} " + "\N{GRINNING FACE}" * 46, now))
    finally:
        database.close()


# ---- The browsers ----

def make_browser(name, folder):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--no-first-run", "--no-default-browser-check",
                     f"--user-data-dir={os.path.join(folder, 'profile-' + name)}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The driver from Debian's chromium-driver, given by path: nothing is looked up or downloaded.
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


class Page:
    """One user's browser, with the waits and lookups the steps need."""

    def __init__(self, name, driver, server):
        self.name = name
        self.driver = driver
        self.server = server

    def wait(self, what, condition, timeout=WAIT):
        from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            try:
                value = condition()
                if value:
                    return value
            except StaleElementReferenceException:
                pass  # the page re-rendered between lookups: look again
            except WebDriverException as error:
                last_error = error
            time.sleep(0.05)
        status = self.status_text()
        raise Failure(f"{self.name}: timed out after {timeout} s waiting for {what} (status line: {status!r})"
                      + (f"; last error: {last_error}" if last_error else ""))

    def css(self, selector):
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def one(self, selector, what=None):
        return self.wait(what or selector, lambda: (self.css(selector) or [None])[0])

    def status(self):
        elements = self.css("#chat-status")
        return elements[0].get_attribute("data-state") if elements else None

    def status_text(self):
        try:
            elements = self.css("#chat-status")
            return elements[0].text if elements else None
        except Exception:  # noqa: BLE001 - only for the failure message
            return None

    def wait_status(self, state):
        self.wait(f"the status line to say {state}", lambda: self.status() == state)

    def log_in(self, username, password):
        from selenium.webdriver.common.by import By
        self.driver.get(self.server.base + "/login")
        self.one("input[name=username]").send_keys(username)
        self.driver.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys(password)
        self.driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
        self.wait("the logged-in header", lambda: f"Logged in as {username}" in self.driver.find_element(By.TAG_NAME, "header").text)

    def open_chat(self, fragment=""):
        self.driver.get(self.server.base + "/chat" + fragment)
        self.wait_status("online")

    def friend_button(self, user_id):
        return self.one(f"#friends button.friend[data-user-id='{user_id}']", f"friend {user_id} in the friends list")

    def online_flag(self, user_id):
        dots = self.css(f"#friends button.friend[data-user-id='{user_id}'] .presence")
        return dots[0].get_attribute("data-online") if dots else None

    def wait_presence(self, user_id, online):
        want = "true" if online else "false"
        self.wait(f"friend {user_id} shown {'online' if online else 'offline'}", lambda: self.online_flag(user_id) == want)

    def open_conversation(self, user_id):
        self.friend_button(user_id).click()
        self.wait("the conversation to open", lambda: self.css("#send-form") and self.css("#send-form")[0].is_displayed())

    def send(self, text):
        from selenium.webdriver.common.keys import Keys
        box = self.one("#send-text")
        # Shift+Enter starts a new line; Enter sends.
        box.send_keys((Keys.SHIFT + Keys.ENTER + Keys.NULL).join(text.split("\n")))
        box.send_keys(Keys.ENTER)

    def texts(self):
        """The conversation as shown: (seq or None for pending, text), top to bottom."""
        shown = []
        for item in self.css("#messages li.msg"):
            seq = item.get_attribute("data-seq")
            shown.append((int(seq) if seq else None, item.find_element("css selector", ".text").text))
        return shown

    def wait_texts(self, expected):
        try:
            self.wait(f"the conversation to show exactly {expected}", lambda: self.texts() == expected)
        except Failure as failure:
            raise Failure(f"{failure}; it shows {self.texts()}") from None

    def severe_console_messages(self):
        try:
            return [entry["message"] for entry in self.driver.get_log("browser") if entry.get("level") == "SEVERE"]
        except Exception:  # noqa: BLE001 - the log is only extra information
            return []


# ---- The test ----

def run(binary, folder):
    server = Server(binary, folder)
    log(f"starting {binary} serve on ports {server.ports}")
    server.start()
    pages = []
    try:
        alice_id = server.register("alice", "alice password")
        bob_id = server.register("bob", "bob password")
        log(f"registered alice ({alice_id}) and bob ({bob_id})")

        alice = Page("alice", make_browser("alice", folder), server)
        pages.append(alice)
        bob = Page("bob", make_browser("bob", folder), server)
        pages.append(bob)
        alice.log_in("alice", "alice password")
        bob.log_in("bob", "bob password")
        log("both logged in through /login")

        # 1. A friend request, found by search, accepted with an alias.
        bob.open_chat()
        alice.open_chat()
        alice.one("#search-query").send_keys("bo")
        alice.one("#search-form button[type=submit]").click()
        result = alice.one(f"#search-results li[data-user-id='{bob_id}']", "bob in the search results")
        if "@bob" not in result.text:
            raise Failure(f"alice: the search result reads {result.text!r}")
        alice.one(f"#search-results li[data-user-id='{bob_id}'] input.request-text").send_keys("Hi, it's <i>Alice</i>")
        alice.one(f"#search-results li[data-user-id='{bob_id}'] button.add-friend").click()
        alice.one("#outgoing li[data-request-id]", "the request under Sent")
        alice.wait("the search result to say the request is sent",
                   lambda: "Request sent" in alice.one(f"#search-results li[data-user-id='{bob_id}']").text)
        incoming = bob.one("#incoming li[data-request-id]", "alice's request under Received (pushed)")
        if "Hi, it's <i>Alice</i>" not in incoming.text or bob.css("#incoming i"):
            raise Failure(f"bob: the request should show its message as text, shows {incoming.text!r}")
        log("alice's request reached bob live")
        bob.one("#incoming input.alias").send_keys("Ally")
        bob.one("#incoming button.accept").click()
        bob.wait("the request to leave Received", lambda: not bob.css("#incoming li"))
        alice.wait("the request to leave Sent", lambda: not alice.css("#outgoing li"))

        # 2. Friends, online, chatting live.
        bob.wait("alice shown under her alias", lambda: "Ally" in bob.friend_button(alice_id).text)
        alice.wait("bob shown by name", lambda: "bob" in alice.friend_button(bob_id).text)
        alice.wait_presence(bob_id, True)
        bob.wait_presence(alice_id, True)
        bob.open_conversation(alice_id)
        alice.open_conversation(bob_id)
        first = "Hello Bob <b>not bold</b> & <script>no()</script>"
        alice.send(first)
        alice.wait_texts([(1, first)])
        bob.wait_texts([(1, first)])
        if bob.css("#messages b, #messages script") or alice.css("#messages b, #messages script"):
            raise Failure("a text was put into the page as HTML")
        log("alice's text appeared in bob's open conversation")
        bob.send("Hi Alice!\nTwo lines.")
        bob.wait_texts([(1, first), (2, "Hi Alice!\nTwo lines.")])
        alice.wait_texts([(1, first), (2, "Hi Alice!\nTwo lines.")])
        log("bob's answer appeared on alice's page")

        # 3. Presence and sync: bob leaves, alice writes, bob comes back and reloads.
        bob.driver.get(server.base + "/")
        alice.wait_presence(bob_id, False)
        alice.send("While you were away")
        history = [(1, first), (2, "Hi Alice!\nTwo lines."), (3, "While you were away")]
        alice.wait_texts(history)
        bob.open_chat(f"#friend-{alice_id}")
        alice.wait_presence(bob_id, True)
        bob.wait_texts(history)
        bob.driver.refresh()
        bob.wait_status("online")
        bob.wait_texts(history)
        log("bob's page showed the history after coming back and after a reload")

        # 4. The server goes away and comes back: reconnect, resend, no duplicates.
        server.stop()
        alice.wait_status("reconnecting")
        bob.wait_status("reconnecting")
        alice.send("Sent while the server was down")
        alice.wait("the offline text to be shown as pending",
                   lambda: alice.texts() == history + [(None, "Sent while the server was down")])
        log("server stopped; both pages reconnecting; alice's text pending")
        server.start()
        alice.wait_status("online")
        bob.wait_status("online")
        history.append((4, "Sent while the server was down"))
        alice.wait_texts(history)
        bob.wait_texts(history)
        alice.wait_presence(bob_id, True)
        log("both pages reconnected by themselves; the pending text was sent once")

        # 5. A second window takes over; the first stays disconnected until asked.
        first_window = alice.driver.current_window_handle
        alice.driver.switch_to.new_window("window")
        alice.open_chat(f"#friend-{bob_id}")
        alice.wait_texts(history)
        second_window = alice.driver.current_window_handle
        alice.driver.switch_to.window(first_window)
        alice.wait_status("kicked")
        time.sleep(1.5)  # longer than the first reconnect delay (at most 1 s): it must not come back by itself
        if alice.status() != "kicked":
            raise Failure(f"alice: the kicked window reconnected by itself ({alice.status_text()!r})")
        alice.one("#chat-reconnect").click()
        alice.wait_status("online")
        alice.driver.switch_to.window(second_window)
        alice.wait_status("kicked")
        alice.driver.close()
        alice.driver.switch_to.window(first_window)
        log("a second window took over, and the first took it back on request")

        # 6. More friends than one frame holds (about 200 with these aliases): the page reads every page.
        seed_friends(server, bob_id, 300)
        bob.driver.refresh()
        bob.wait_status("online")
        bob.wait("all 301 friends listed", lambda: len(bob.css("#friends button.friend")) == 301)
        log("301 friends arrived in pages")

        shots = os.environ.get("CHAT_TEST_SCREENSHOTS")  # a folder: keep a picture of each page
        if shots:
            os.makedirs(shots, exist_ok=True)
            for page in pages:
                page.driver.save_screenshot(os.path.join(shots, f"{page.name}.png"))

        for page in pages:
            blocked = [m for m in page.severe_console_messages() if "Content Security Policy" in m or "Refused to" in m]
            if blocked:
                raise Failure(f"{page.name}: the browser blocked something: {blocked}")
    except Failure:
        for page in pages:
            for message in page.severe_console_messages():
                log(f"{page.name} console: {message}")
        log("server output:\n" + server.output())
        raise
    finally:
        for page in pages:
            try:
                page.driver.quit()
            except Exception:  # noqa: BLE001 - cleaning up
                pass
        server.stop()


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".build/debug/parley")
    if not os.access(binary, os.X_OK):
        print(f"chat_test: no parley binary at {binary}; run `swift build` first", file=sys.stderr)
        return 2
    missing = missing_prerequisites()
    if missing:
        print(f"chat_test: missing {', '.join(missing)}; install: {INSTALL}", file=sys.stderr)
        return 2
    # SIGTERM (a test runner's timeout) ends the run through the `finally` blocks, which stop
    # the browsers and the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    folder = tempfile.mkdtemp(prefix="parley-browser-")
    started = time.monotonic()
    try:
        run(binary, folder)
    except Failure as failure:
        print(f"chat_test: FAILED: {failure}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - any other error is a failure too, with its kind
        print(f"chat_test: FAILED with {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    log(f"passed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
