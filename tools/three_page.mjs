// three.js in headless Chromium (Debian's chromium, driven by puppeteer-core; WebGL through SwiftShader): a
// page that imports three, three-vrm and three-vrm-animation from node_modules and may fetch the given
// files. Shared by tests/three_probe.mjs (sampling animations) and tools/three_render.mjs (reference renders).
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { extname, resolve } from "node:path";
import puppeteer from "puppeteer-core";

const REPO = resolve(import.meta.dirname, "..");
const TYPES = { ".js": "text/javascript", ".mjs": "text/javascript" };
const IMPORTS = {
  three: "/node_modules/three/build/three.module.js",
  "three/addons/": "/node_modules/three/examples/jsm/",
  "@pixiv/three-vrm": "/node_modules/@pixiv/three-vrm/lib/three-vrm.module.js",
  "@pixiv/three-vrm-animation": "/node_modules/@pixiv/three-vrm-animation/lib/three-vrm-animation.module.js",
};

// Runs `script` (a module that sets window.ready once its functions exist) in a page that can fetch
// `files` (URL path -> file), calls `use(page)` and returns what it returns, with the page's errors.
export async function withPage(files, script, use) {
  const page = `<!doctype html><script type="importmap">${JSON.stringify({ imports: IMPORTS })}</script>
<script type="module">${script}</script>`;
  const server = createServer((req, res) => {
    if (req.url === "/") return res.end(page);
    if (req.url === "/favicon.ico") return res.writeHead(204).end();
    const path = files[req.url] ?? (req.url.startsWith("/node_modules/") ? REPO + req.url : null);
    try {
      const body = readFileSync(path);
      res.writeHead(200, { "Content-Type": TYPES[extname(path)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  }).listen(0, "127.0.0.1");
  await new Promise((done) => server.once("listening", done));
  const browser = await puppeteer.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
  });
  try {
    const tab = await browser.newPage();
    const errors = [];
    tab.on("pageerror", (e) => errors.push(String(e)));
    tab.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    await tab.goto(`http://127.0.0.1:${server.address().port}/`);
    await tab.waitForFunction("window.ready === true", { timeout: 60000 });
    return { result: await use(tab), errors };
  } finally {
    await browser.close();
    server.close();
  }
}
