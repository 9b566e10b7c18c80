// A reference render of a glTF file by three.js r187 in headless Chromium, with the camera, lights and
// background meshsync's renderer uses (tools/compare_three.py passes them).  node tools/three_render.mjs < REQUEST.json
// REQUEST: {asset, out, width, height, camera: {eye, target, up, fov, near, far}, background (sRGB),
//           sky, ground (linear), lights: [{direction (world, towards the light), colour (linear)}]}
import { readFileSync, writeFileSync } from "node:fs";
import { withPage } from "./three_page.mjs";

const request = JSON.parse(readFileSync(0, "utf8"));  // standard input
const SCRIPT = `
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { MToonMaterialLoaderPlugin } from "@pixiv/three-vrm";
const linear = (c) => new THREE.Color().setRGB(c[0], c[1], c[2], THREE.LinearSRGBColorSpace);
window.render = async (r) => {
  const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
  renderer.setPixelRatio(1);
  renderer.setSize(r.width, r.height);
  const scene = new THREE.Scene();
  scene.background = new THREE.Color().setRGB(...r.background, THREE.SRGBColorSpace);
  const loader = new GLTFLoader();
  loader.register((parser) => new MToonMaterialLoaderPlugin(parser));  // VRM MToon, as VRM apps draw it
  scene.add((await loader.loadAsync("/asset")).scene);
  // three's Lambert term is albedo / pi x irradiance: lights at pi give meshsync's albedo x light.
  scene.add(new THREE.HemisphereLight(linear(r.sky), linear(r.ground), Math.PI));
  for (const light of r.lights) {
    const directional = new THREE.DirectionalLight(linear(light.colour), Math.PI);
    directional.position.set(...light.direction);
    scene.add(directional);
  }
  const c = r.camera;
  const camera = new THREE.PerspectiveCamera(c.fov, r.width / r.height, c.near, c.far);
  camera.position.set(...c.eye);
  camera.up.set(...c.up);
  camera.lookAt(...c.target);
  renderer.render(scene, camera);
  return renderer.domElement.toDataURL("image/png");
};
window.ready = true;
`;
const { result, errors } = await withPage({ "/asset": request.asset }, SCRIPT,
  (page) => page.evaluate((r) => window.render(r), request));
if (errors.length) {
  console.error(errors.join("\n"));
  process.exit(1);
}
writeFileSync(request.out, Buffer.from(result.split(",")[1], "base64"));
