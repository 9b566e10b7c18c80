// three.js in headless Chromium, as web apps load meshsync's files: loads an avatar and plays its own
// `meshsync` clip, or (with an animation) loads it as a VRM through three-vrm and plays the .vrma through
// createVRMAnimationClip; samples it at the given times and prints every mesh's morph target influences and
// the named nodes' quaternions as JSON.  node tests/three_probe.mjs < REQUEST.json
import { readFileSync } from "node:fs";
import { withPage } from "../tools/three_page.mjs";

const request = JSON.parse(readFileSync(0, "utf8"));  // standard input
const SCRIPT = `
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
`;
const { result, errors } = await withPage({ "/avatar": request.avatar, "/animation": request.animation }, SCRIPT,
  (page) => page.evaluate((r) => window.probe(r.times, r.nodes ?? [], !!r.animation), request));
console.log(JSON.stringify({ ...result, errors }));
