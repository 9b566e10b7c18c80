// Validate a .glb/.gltf file with the Khronos glTF validator and print its report as JSON.
// Exit status: 0 with no errors, 1 with errors, 2 when the file cannot be read.
//   node tools/validate_gltf.mjs model.glb
import { readFile } from "node:fs/promises";
import path from "node:path";
import validator from "gltf-validator";

const file = process.argv[2];
if (!file) {
  console.error("usage: node tools/validate_gltf.mjs FILE.glb|FILE.gltf");
  process.exit(2);
}
let data;
try {
  data = await readFile(file);
} catch (err) {
  console.error(`cannot read ${file}: ${err.message}`);
  process.exit(2);
}
const report = await validator.validateBytes(new Uint8Array(data), {
  uri: path.basename(file),
  maxIssues: 1000,
  externalResourceFunction: (uri) =>
    readFile(path.join(path.dirname(file), decodeURIComponent(uri))).then((b) => new Uint8Array(b)),
});
console.log(JSON.stringify(report, null, 2));
process.exitCode = report.issues.numErrors > 0 ? 1 : 0;  // not process.exit: it cuts a long report short
