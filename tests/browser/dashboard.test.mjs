// The fleet dashboard in a real headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core): the VM table, a live cell changing after a tick,
// paging forward with the cursor, the server killed and restarted and the page
// reconnecting, and a screenshot under output/ (not committed).
//
// Run by .ci/run after `cargo test --release` built the example:
//   FLEET_DASHBOARD_BIN=target/release/examples/fleet_dashboard node --test tests/browser/
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const bin = process.env.FLEET_DASHBOARD_BIN ?? join(here, "../../target/release/examples/fleet_dashboard");
const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const outDir = process.env.BROWSER_TEST_OUTPUT ?? join(here, "output");

/** Starts the server; resolves with its process and URL once it listens. */
function startServer(port) {
  const child = spawn(bin, ["--port", String(port), "--vms", "300", "--orgs", "3", "--hosts", "40", "--tick-ms", "300"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the server did not start in 60 s")), 60_000);
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[\d.]+:(\d+))/);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], port: Number(m[2]) });
      }
    });
    child.on("exit", (code) => reject(new Error(`the server exited with ${code}: ${out}`)));
  });
}

function kill(server) {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null) return resolve();
    server.child.once("exit", () => resolve());
    server.child.kill("SIGKILL");
  });
}

// playwright-core gives every launch a fresh, empty profile directory.
let browser;
let server;

after(async () => {
  if (browser) await browser.close();
  if (server) await kill(server);
});

test("the dashboard shows, updates live, pages, and survives a server restart", { timeout: 180_000 }, async () => {
  server = await startServer(0);
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));

  await page.goto(server.url);
  await page.waitForSelector("#vms tbody tr", { timeout: 30_000 });
  await page.waitForFunction(() => document.querySelector("#conn").textContent === "live", null, { timeout: 30_000 });
  const rows = await page.$$eval("#vms tbody tr", (trs) => trs.length);
  assert.equal(rows, 25, "a page of 25 VMs");

  // A live cell changes after a tick (the WebSocket, not a reload).
  const firstVm = await page.$eval("#vms tbody tr", (tr) => tr.dataset.vm);
  const cell = `#vms tr[data-vm="${firstVm}"] td[data-metric="cpu"]`;
  const before = await page.$eval(cell, (td) => td.textContent);
  await page.waitForFunction(
    ([sel, old]) => document.querySelector(sel).textContent !== old,
    [cell, before],
    { timeout: 20_000 },
  );
  const tick1 = Number(await page.$eval("#tick", (b) => b.textContent));
  assert.ok(tick1 > 0, "the tick counter runs");

  // The fleet panels from every crate arrived.
  await page.waitForFunction(() => document.querySelector("#p-percentiles .body").textContent.includes("p95"), null, { timeout: 20_000 });
  const panels = await page.$eval("#panels", (p) => p.textContent);
  assert.match(panels, /flagged/);
  assert.match(panels, /first-fit/);
  assert.match(panels, /ran on/);

  // Page forward with the keyset cursor: different VMs, later in name order.
  const lastName = await page.$eval("#vms tbody tr:last-child td", (td) => td.textContent);
  await page.click("#next");
  await page.waitForFunction(() => document.querySelector("#page-info").textContent.startsWith("page 2"), null, { timeout: 10_000 });
  const firstName2 = await page.$eval("#vms tbody tr td", (td) => td.textContent);
  assert.ok(firstName2 > lastName, `${firstName2} after ${lastName}`);

  // Kill the server: the page says so; restart it: the page reconnects and updates again.
  const port = server.port;
  await kill(server);
  await page.waitForFunction(() => document.querySelector("#conn").textContent.startsWith("reconnecting"), null, { timeout: 15_000 });
  server = await startServer(port);
  await page.waitForFunction(() => document.querySelector("#conn").textContent === "live", null, { timeout: 60_000 });
  // The new server counts ticks from 1 again; the page follows its frames.
  const afterRestart = Number(await page.$eval("#tick", (b) => b.textContent));
  await page.waitForFunction(
    (t) => Number(document.querySelector("#tick").textContent) !== t,
    afterRestart,
    { timeout: 20_000 },
  );
  // Its cursor key is new, so the page-2 cursor is refused: the page falls
  // back to the first page instead of showing an error.
  await page.waitForFunction(() => document.querySelector("#page-info").textContent.startsWith("page 1,"), null, { timeout: 20_000 });
  assert.equal(await page.$$eval("#vms tbody tr", (trs) => trs.length), 25);
  const vmAfter = await page.$eval("#vms tbody tr", (tr) => tr.dataset.vm);
  const cellAfter = `#vms tr[data-vm="${vmAfter}"] td[data-metric="memory"]`;
  const old = await page.$eval(cellAfter, (td) => td.textContent);
  await page.waitForFunction(
    ([sel, o]) => document.querySelector(sel).textContent !== o,
    [cellAfter, old],
    { timeout: 20_000 },
  );

  mkdirSync(outDir, { recursive: true });
  await page.screenshot({ path: join(outDir, "dashboard.png"), type: "png" });
  assert.deepEqual(errors, [], "no script errors on the page");
});
