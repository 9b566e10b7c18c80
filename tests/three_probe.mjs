// three.js in headless Chromium, as web apps load meshsync's files: loads an avatar and plays its own
// `meshsync` clip, or (with an animation) loads it as a VRM through three-vrm and plays the .vrma through
// createVRMAnimationClip; samples it at the given times and prints every mesh's morph target influences and
// the named nodes' quaternions as JSON.  node tests/three_probe.mjs REQUEST.json
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { extname, resolve } from "node:path";
import puppeteer from "puppeteer-core";

const REPO = resolve(import.meta.dirname, "..");
const request = JSON.parse(readFileSync(process.argv[2], "utf8"));
const files = { "/avatar": request.avatar, "/animation": request.animation };
const TYPES = { ".js": "text/javascript", ".mjs": "text/javascript", ".html": "text/html" };
const IMPORTS = {
  three: "/node_modules/three/build/three.module.js",
  "three/addons/": "/node_modules/three/examples/jsm/",
  "@pixiv/three-vrm": "/node_modules/@pixiv/three-vrm/lib/three-vrm.module.js",
  "@pixiv/three-vrm-animation": "/node_modules/@pixiv/three-vrm-animation/lib/three-vrm-animation.module.js",
};
const PAGE = `<!doctype html><script type="importmap">${JSON.stringify({ imports: IMPORTS })}</script>
<script type="module">
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { VRMLoaderPlugin } from "@pixiv/three-vrm";
import { VRMAnimationLoaderPlugin, createVRMAnimationClip } from "@pixiv/three-vrm-animation";
window.probe = async (times, nodes, vrma) => {
  const loader = new GLTFLoader();
  if (vrma) {
    loader.register((parser) => new VRMLoaderPlugin(parser));
    loader.register((parser) => new VRMAnimationLoaderPlugin(parser));
  }
  const gltf = await loader.loadAsync("/avatar");
  const vrm = gltf.userData.vrm;
  const root = vrm ? vrm.scene : gltf.scene;
  const clip = vrma ? createVRMAnimationClip((await loader.loadAsync("/animation")).userData.vrmAnimations[0], vrm)
                    : gltf.animations.find((a) => a.name === "meshsync");
  const mixer = new THREE.AnimationMixer(root);
  mixer.clipAction(clip).play();
  const morphs = {}, turns = {};
  for (const t of times) {
    mixer.setTime(t);
    if (vrm) vrm.update(0);
    const seen = new Set();
    root.traverse((o) => {
      if (o.morphTargetDictionary && !seen.has(o.name)) {
        seen.add(o.name);
        const mesh = (morphs[o.name] ??= {});
        for (const [name, i] of Object.entries(o.morphTargetDictionary)) (mesh[name] ??= []).push(o.morphTargetInfluences[i]);
      }
      if (nodes.includes(o.name)) (turns[o.name] ??= []).push(o.quaternion.toArray());
    });
  }
  return { vrm: vrm ? vrm.meta.metaVersion : null, morphs, turns };
};
window.ready = true;
</script>`;

const server = createServer((req, res) => {
  const path = req.url === "/" ? null : files[req.url] ?? (req.url.startsWith("/node_modules/") ? REPO + req.url : null);
  if (req.url === "/") return res.end(PAGE);
  if (req.url === "/favicon.ico") return res.writeHead(204).end();
  try {
    const body = readFileSync(path);
    res.writeHead(200, { "Content-Type": TYPES[extname(path)] ?? "application/octet-stream" }).end(body);
  } catch {
    res.writeHead(404).end();
  }
}).listen(0, "127.0.0.1");
await new Promise((done) => server.once("listening", done));
const browser = await puppeteer.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction("window.ready === true", { timeout: 60000 });
  const result = await page.evaluate((r) => window.probe(r.times, r.nodes ?? [], !!r.animation), request);
  console.log(JSON.stringify({ ...result, errors }));
} finally {
  await browser.close();
  server.close();
}
