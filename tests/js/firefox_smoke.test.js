// Firefox smoke test: Debian's firefox-esr, driven by puppeteer-core over WebDriver BiDi, loads
// the same extension directory (one manifest), pairs with the real `cloutlens serve` through the
// dashboard's approval page, turns a site on from Options (the real permissions.request, from a
// click; Firefox's pref extensions.webextOptionalPermissionPrompts=false answers the prompt with
// yes, which Chromium has no way to do), and then the open WordPress thread, without a reload,
// is captured and shows scored badges. Removing the site unregisters its content script.
// Under CI=true a missing firefox-esr is a failure, not a skip.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const http = require("node:http");
const crypto = require("node:crypto");
const { spawn } = require("node:child_process");

const ROOT = path.resolve(__dirname, "..", "..");
const FIREFOX = process.env.FIREFOX || "/usr/bin/firefox-esr";
const GECKO_ID = "cloutlens@cloutlens.local";
const FIXTURES = path.join(ROOT, "tests", "fixtures", "e2e");

function staticServer() {
  const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript" };
  const srv = http.createServer((req, res) => {
    const file = path.join(FIXTURES, path.normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)));
    if (!file.startsWith(FIXTURES) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": types[path.extname(file)] || "application/octet-stream" });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => srv.listen(0, "127.0.0.1", () => resolve(srv)));
}

function cloutlensServe(dataDir) {
  const proc = spawn(process.env.PYTHON || "python3", ["-m", "server.cli", "serve", "--port", "0", "--data-dir", dataDir],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cloutlens serve did not start:\n${out}`)), 30000);
    const onData = (d) => {
      out += d;
      const m = /server on (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, url: m[1] });
      }
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", onData);
    proc.on("exit", (code) => reject(new Error(`cloutlens serve exited (${code}):\n${out}`)));
  });
}

// Polls fn until it returns something truthy. A page still navigating (the extension page
// replacing about:blank) throws for a moment; that counts as "not yet".
async function until(what, fn, timeout = 30000) {
  const end = Date.now() + timeout;
  let error = null;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      error = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not reached${error ? ` (last error: ${error.message.split("\n")[0]})` : ""}`);
}

const missing = !fs.existsSync(FIREFOX);
if (missing && process.env.CI) {
  test("firefox-esr is installed (required under CI)", () => {
    assert.fail(`CI must run the Firefox smoke test, but ${FIREFOX} is missing (apt-get install firefox-esr)`);
  });
} else {
  test("Firefox: the extension pairs; a site turned on in Options is captured and badged at once, and removed again", { skip: missing && `${FIREFOX} is not installed`, timeout: 120000 }, async () => {
    const puppeteer = require("puppeteer-core");
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cloutlens-ff-"));
    const pages = await staticServer();
    const server = await cloutlensServe(path.join(tmp, "data"));
    // Firefox gives each install a random moz-extension:// origin; pinning it here lets the test
    // open the options page. The server accepts pairing from any extension origin.
    const uuid = crypto.randomUUID();
    const browser = await puppeteer.launch({
      browser: "firefox",
      executablePath: FIREFOX,
      headless: true,
      // Firefox 153+ lets WebDriver open moz-extension:// pages only with system access.
      args: ["--remote-allow-system-access"],
      userDataDir: path.join(tmp, "profile"),
      extraPrefsFirefox: {
        "extensions.webextensions.uuids": JSON.stringify({ [GECKO_ID]: uuid }),
        "network.dns.localDomains": "blog.example",
        // The optional-permission prompt is granted as if the user said yes; the request itself,
        // its user-gesture check and the grant are Firefox's own.
        "extensions.webextOptionalPermissionPrompts": false,
      },
    });
    try {
      const id = await browser.installExtension(path.join(ROOT, "extension"));
      assert.equal(id, GECKO_ID);
      const base = `moz-extension://${uuid}`;

      const opts = await browser.newPage();
      // The extension page loads, but BiDi never reports the navigation as finished: start it and
      // wait for the page's own content instead.
      opts.goto(`${base}/options.html`, { timeout: 60000 }).catch(() => undefined);
      // The page fills in the current address once it has asked the background worker.
      await until("options loaded", () => opts.$eval("#server", (e) => e.value !== ""));
      await opts.evaluate((url) => { document.getElementById("server").value = url; }, server.url);
      await opts.click("#server-form button[type=submit]");
      await until("server saved", () => opts.$eval("#server-msg", (e) => e.textContent.startsWith("Saved")));
      await opts.click("#pair-button");
      const code = await until("pairing code", () => opts.$eval("#pair-code", (e) => !e.hidden && e.textContent))
        .catch(async (e) => { throw new Error(`${e.message}; the page says: ${await opts.$eval("body", (b) => b.innerText)}`); });

      // The user approves the same code on the dashboard.
      const dash = await browser.newPage();
      await dash.goto(`${server.url}/pair`);
      const approved = await dash.evaluate((c) => {
        const li = [...document.querySelectorAll("li.request")].find((x) => x.textContent.includes(c));
        if (!li) return false;
        li.querySelector("button.approve").click();
        return true;
      }, code);
      assert.ok(approved, "the dashboard lists the code the extension shows");
      await until("paired", () => opts.$eval("#pair-state", (e) => e.textContent === "Paired with the server."));
      await dash.close();

      const port = pages.address().port;
      const page = await browser.newPage();
      await page.goto(`http://blog.example:${port}/extension-thread.html`);

      // Read the closed-root badges the way the popup does: ask the tab's content script.
      const pageState = (ok) => opts.evaluate(async (want) => {
        for (const t of await browser.tabs.query({})) {
          try {
            const s = await browser.tabs.sendMessage(t.id, { type: "page-state" });
            if (s && s.url.includes("extension-thread") && (!want || (s.adapter && s.badges.length === 8 && s.badges.every((b) => b.state === "scored")))) return s;
          } catch (e) { /* no content script in that tab */ }
        }
        return null;
      }, ok);

      // Nothing granted at install: no content script on the page.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(await pageState(false), null, "no content script on a site that is not turned on");
      const granted = await opts.evaluate(() => browser.permissions.getAll());
      assert.deepEqual(granted.origins.filter((o) => !/127\.0\.0\.1|localhost/.test(o)), []);

      // Turn the site on in Options: a click, so permissions.request may open its prompt.
      await opts.evaluate(() => { document.getElementById("add-site").value = "blog.example"; });
      await opts.click("#add-site-form button[type=submit]");
      await until("site turned on", () => opts.$eval("#sites-msg", (e) => e.textContent === "Turned on: blog.example."))
        .catch(async (e) => { throw new Error(`${e.message}; the page says: ${await opts.$eval("#sites-msg", (b) => b.textContent)}`); });
      const scripts = await until("registered", async () => {
        const all = await opts.evaluate(() => browser.scripting.getRegisteredContentScripts());
        return all.find((x) => x.id === "site:*://blog.example/*") && all;
      });
      const blog = scripts.find((x) => x.id === "site:*://blog.example/*");
      assert.deepEqual(blog.matches, ["*://blog.example/*"]);
      assert.equal(blog.allFrames, true);

      // The open page was started at once: no reload.
      const state = await until("badges scored", () => pageState(true));
      assert.equal(state.adapter, "wordpress");
      assert.equal(state.items, 8);
      assert.ok(state.badges.every((b) => /^\d+$/.test(b.text) && b.label.startsWith("Cloutlens score ")));
      assert.ok(state.badges.some((b) => b.identity === "blog.example:bob builder"));
      assert.equal(await page.evaluate(() => window.__snooped.length), 0, "the page saw no badge root");
      // The page's own script tries what a hostile one would: synthetic hovers and focus on every
      // badge host to open the cards, then window.find for what the pills and cards show. It finds
      // nothing, though Firefox's find does reach a text node in a closed root (the control).
      const secrets = [" of 100", ...state.badges.flatMap((b) => [b.text, b.title, b.label])];
      const tried = await page.evaluate(async (want) => {
        for (const h of document.querySelectorAll(".fn + span")) {
          h.dispatchEvent(new MouseEvent("mouseover", { bubbles: true, composed: true }));
          h.dispatchEvent(new FocusEvent("focusin", { bubbles: true, composed: true }));
        }
        await new Promise((r) => setTimeout(r, 300));
        const find = (s) => { getSelection().removeAllRanges(); return window.find(s, false, false, true); };
        const found = want.filter(find);
        const probe = document.body.appendChild(document.createElement("span"));
        probe.attachShadow({ mode: "closed" }).append("control-3b1f");
        const control = find("control-3b1f");
        probe.remove();
        return { found, control };
      }, secrets);
      assert.ok(tried.control, "window.find reaches text in a closed root: the check can see a leak");
      assert.deepEqual(tried.found, [], "the page found a badge's text");
      assert.ok(!(await pageState(false)).badges.some((b) => b.cardOpen), "a page's synthetic events opened a card");

      const status = await (await fetch(`${server.url}/api/status`)).json();
      assert.equal(status.items, 8, "the server stored the captured items");

      // Remove: the registration goes, and the open page lets go of its badges.
      await opts.click("li.granted[data-host='blog.example'] button");
      await until("removed", () => opts.$eval("#sites-msg", (e) => e.textContent.includes("no longer reads blog.example")));
      const left = await opts.evaluate(() => browser.scripting.getRegisteredContentScripts());
      assert.deepEqual(left.map((x) => x.id).filter((id) => id.startsWith("site:")), []);
      await until("badges dropped", () => opts.evaluate(async () => {
        for (const t of await browser.tabs.query({})) {
          try {
            const s = await browser.tabs.sendMessage(t.id, { type: "page-state" });
            if (s && s.url.includes("extension-thread")) return !s.enabled && s.badges.length === 0;
          } catch (e) { /* no content script in that tab */ }
        }
        return false;
      }));
    } finally {
      await browser.close();
      // SIGTERM is a clean stop: the server writes its checkpoints before it exits, so the data
      // dir is removed only once it has.
      const exited = server.proc.exitCode !== null ? Promise.resolve()
        : new Promise((resolve) => server.proc.once("exit", resolve));
      server.proc.kill();
      await exited;
      pages.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
}
