"""The report in a real browser: headless Chromium over the DevTools protocol.

The page must load without console errors, every plot image must decode, and a model output containing
``<script>`` must show as text without running. Skipped when Chromium (Debian package ``chromium``) or the
``websockets`` package is missing.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from hotmess.report import Report, write_html

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install chromium)")
websockets_client = pytest.importorskip("websockets.asyncio.client")

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]


class Page:
    """A minimal DevTools client for one page target."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        i = next(self.ids)
        await self.ws.send(json.dumps({"id": i, "method": method, "params": params}))
        while True:
            msg = json.loads(await self.ws.recv())
            if msg.get("id") == i:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return dict(msg.get("result", {}))
            if "method" in msg:
                self.events.append(msg)

    async def wait_for(self, method: str) -> None:
        while not any(e["method"] == method for e in self.events):
            msg = json.loads(await self.ws.recv())
            if "method" in msg:
                self.events.append(msg)

    async def eval(self, expression: str) -> Any:
        res = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return res["result"].get("value")

    def errors(self) -> list[str]:
        out = []
        for e in self.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(f"console.{p['type']}: {p.get('args')}")
            elif e["method"] == "Runtime.exceptionThrown":
                out.append(f"exception: {p.get('exceptionDetails', {}).get('text')}")
            elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append(f"log: {p['entry'].get('text')}")
        return out


async def _inspect(url: str, screenshot: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.Popen(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stderr is not None
            port = None
            for _ in range(200):
                line = await asyncio.to_thread(proc.stderr.readline)
                m = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
                if m:
                    port = int(m.group(1))
                    break
            assert port is not None, "Chromium did not open a DevTools port"
            import urllib.request

            targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
            ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            async with websockets_client.connect(ws_url, max_size=None) as ws:
                page = Page(ws)
                for domain in ("Page", "Runtime", "Log"):
                    await page.call(f"{domain}.enable")
                await page.call("Page.navigate", url=url)
                await page.wait_for("Page.loadEventFired")
                result = {
                    "images": await page.eval(
                        "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
                    ),
                    "pwned": await page.eval("typeof window.__pwned"),
                    "scripts": await page.eval("document.querySelectorAll('script').length"),
                    "injected_text": await page.eval(
                        "Array.from(document.querySelectorAll('pre')).some("
                        "p => p.textContent.includes('<script>window.__pwned'))"
                    ),
                    "sections": await page.eval("document.querySelectorAll('main > section').length"),
                    # open every question block, tick "only invalid": shown rows are exactly the invalid ones
                    "filter": await page.eval(
                        "(() => { document.querySelectorAll('#samples details').forEach(d => d.open = true);"
                        " const shown = () => Array.from(document.querySelectorAll('#samples tr.smp'))"
                        ".filter(r => r.getClientRects().length > 0);"
                        " const all = shown().length; document.getElementById('f-inv').click();"
                        " const rows = shown(); return [all, rows.length,"
                        " rows.every(r => r.classList.contains('inv')),"
                        " document.querySelectorAll('#samples tr.smp.inv').length]; })()"
                    ),
                }
                if screenshot is not None:
                    import base64

                    await page.call(
                        "Emulation.setDeviceMetricsOverride", width=1280, height=2200, deviceScaleFactor=1, mobile=False
                    )
                    shot = await page.call("Page.captureScreenshot", format="png")
                    screenshot.write_bytes(base64.b64decode(shot["data"]))
                await asyncio.sleep(0.2)
                await page.eval("1")  # drain late events
                result["errors"] = page.errors()
                return result
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_report_in_headless_chromium(report: Report, tmp_path: Path) -> None:
    path = write_html(report, tmp_path / "report.html")
    shot = tmp_path / "report.png"
    res = asyncio.run(asyncio.wait_for(_inspect(path.resolve().as_uri(), shot), timeout=120))
    assert res["errors"] == []
    n_figures = sum(len(s.figures) for s in report.sections)
    assert len(res["images"]) == n_figures > 0
    assert all(complete and w > 0 and h > 0 for complete, w, h in res["images"])
    assert res["pwned"] == "undefined" and res["scripts"] == 0
    assert res["injected_text"] is True
    n_rows, n_shown, only_invalid, n_invalid = res["filter"]
    assert n_rows == len(report.samples) and only_invalid and 0 < n_shown == n_invalid < n_rows
    assert res["sections"] == len(report.sections) + 3  # + examples + sample browser + run configuration
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _dump_dom(path: Path) -> str:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"]
    with tempfile.TemporaryDirectory() as profile:
        out = subprocess.run(
            [str(CHROMIUM), *flags, f"--user-data-dir={profile}", path.resolve().as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    return out.stdout


def test_sample_browser_lists_every_sample_in_the_dom(report: Report, tmp_path: Path) -> None:
    """The browser's block for one question holds a row per sample after the browser has parsed the page."""
    samples = report.samples
    assert samples is not None
    key = ("fam-8B", "high", "sim-arith", "q0000")
    mine = samples[(samples["model"] == key[0]) & (samples["budget"] == key[1]) & (samples["question_id"] == key[3])]
    assert 1 < len(mine) <= 50
    dom = _dump_dom(write_html(report, tmp_path / "report.html"))
    blocks = re.findall(r"<details>(.*?)</details>", dom, re.DOTALL)
    block = next(b for b in blocks if "<code>q0000</code> · fam-8B · high · sim-arith" in b)
    rows = re.findall(r'<tr class="smp[^"]*">(.*?)</tr>', block, re.DOTALL)
    assert len(rows) == len(mine)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r, re.DOTALL)[:2] for r in rows]
    expected = zip(mine["context_id"], mine["sample_index"], strict=True)
    assert sorted((int(c), int(i)) for c, i in cells) == sorted(expected)
    assert f"{len(mine)} samples" in block
    assert "<script" not in dom.lower().replace("&lt;script", "")  # the injected output stayed text
