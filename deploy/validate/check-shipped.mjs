// What the shipped deploy files must agree on, read from the files themselves (run by deploy/validate.sh):
//   node check-shipped.mjs COMPOSE K8S_DIR
// - every worker joins exactly the name and port the coordinator advertises (Akka drops messages addressed to a
//   name that is not the node's canonical address, so a mismatch means the cluster never forms);
// - nothing applies a literal cluster secret (a value shipped in a file is public; FaceCluster refuses placeholders);
// - the Kubernetes coordinator has a startupProbe, so the liveness probe does not kill its first face-set scan;
// - nothing restarts a process that exited 0 at the end of a run (it would loop), unless it runs with --stay-up.
// Prints one line per check and exits 1 if any fails.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const [composeFile, k8sDir] = process.argv.slice(2);
let problems = 0;
const ok = (what) => console.log(`ok  ${what}`);
const problem = (what) => { problems++; console.error(`FAIL ${what}`); };
const load = (file) => parseAllDocuments(readFileSync(file, "utf8"), { merge: true }).map((d) => d.toJS()).filter((d) => d);
const flag = (args, name) => { const i = args.indexOf(name); return i >= 0 && i + 1 < args.length ? String(args[i + 1]) : null; };
const hostPort = (text) => { const i = text.lastIndexOf(":"); return [text.slice(0, i), text.slice(i + 1)]; };

function checkJoins(where, coordinatorArgs, workers, expand = (s) => s) {
  const bind = flag(coordinatorArgs, "--bind");
  const advertised = expand(flag(coordinatorArgs, "--public-host") ?? hostPort(bind)[0]);
  const port = hostPort(bind)[1];
  for (const [name, args] of workers) {
    const join = flag(args, "--join");
    if (join === `${advertised}:${port}`) ok(`${where}: ${name} joins ${join}, the address the coordinator advertises`);
    else problem(`${where}: ${name} joins ${join}, but the coordinator advertises ${advertised}:${port}`);
  }
}

// Compose
const compose = load(composeFile)[0];
const services = Object.entries(compose.services ?? {});
const composeCoordinator = services.find(([, s]) => (s.command ?? [])[0] === "coordinator");
checkJoins(composeFile, composeCoordinator[1].command.map(String),
  services.filter(([, s]) => (s.command ?? [])[0] === "worker").map(([n, s]) => [n, s.command.map(String)]));

// A finished run exits 0, unless --stay-up keeps it serving: a policy that restarts a process that exited 0 loops
// (a --resume of a finished run refuses to start without --stay-up).
const loops = (policy, args) => (policy === "always" || policy === "unless-stopped") && !args.includes("--stay-up");
for (const [name, s] of services) {
  const policy = s.restart ?? "no";
  if (loops(policy, (s.command ?? []).map(String))) problem(`${composeFile}: ${name} restarts with "${policy}" and exits 0 when the run is done: it would loop`);
  else ok(`${composeFile}: ${name} restarts "${policy}"${(s.command ?? []).includes("--stay-up") ? " and stays up when the run is done" : ": a finished run stays down"}`);
}

// Kubernetes, as the kustomization applies it
const kustomization = load(`${k8sDir}/kustomization.yaml`)[0];
const docs = (kustomization.resources ?? []).flatMap((r) => load(`${k8sDir}/${r}`).map((d) => [r, d]));
const namespace = kustomization.namespace ?? "default";
const podSpecs = docs.filter(([, d]) => d.spec?.template?.spec).map(([file, d]) => [file, d]);
const containerOf = (d) => d.spec.template.spec.containers[0];
const coordinator = podSpecs.find(([, d]) => (containerOf(d).args ?? [])[0] === "coordinator");
if (!coordinator) problem(`${k8sDir}: no coordinator`);
else {
  const [file, set] = coordinator;
  const podName = set.kind === "StatefulSet" ? `${set.metadata.name}-0` : set.spec.template.spec.hostname;
  const expand = (s) => s.replaceAll("$(POD_NAME)", podName).replaceAll("$(POD_NAMESPACE)", namespace);
  checkJoins(`${k8sDir}/${file}`, containerOf(set).args.map(String),
    podSpecs.filter(([, d]) => (containerOf(d).args ?? [])[0] === "worker").map(([f, d]) => [`${f} ${d.metadata.name}`, containerOf(d).args.map(String)]), expand);
  if (containerOf(set).startupProbe) ok(`${k8sDir}/${file}: the coordinator has a startupProbe (its first scan is not killed by the liveness probe)`);
  else problem(`${k8sDir}/${file}: no startupProbe: the liveness probe can kill the coordinator during its first face-set scan`);
}
for (const [file, d] of podSpecs) {
  const policy = d.spec.template.spec.restartPolicy ?? (d.kind === "Job" ? "Never" : "Always");
  const args = (containerOf(d).args ?? []).map(String);
  if (loops(policy === "Always" ? "always" : "no", args)) problem(`${k8sDir}/${file}: ${d.kind} ${d.metadata.name} restarts its pods (${policy}) and exits 0 when the run is done: it would loop`);
  else ok(`${k8sDir}/${file}: ${d.metadata.name} does not loop when the run is done`);
}
const literal = docs.filter(([, d]) => d.kind === "Secret" && (d.data || d.stringData));
if (literal.length === 0) ok(`${k8sDir}: no cluster secret value is shipped (kustomization.yaml makes it from a file you create)`);
for (const [file] of literal) problem(`${k8sDir}/${file}: a Secret with a literal value is applied by default; its value is public`);
for (const gen of kustomization.secretGenerator ?? [])
  for (const f of gen.files ?? []) {
    const path = String(f).split("=").pop();
    let shipped = false;
    try { readFileSync(`${k8sDir}/${path}`); shipped = true; } catch { /* created by the operator */ }
    if (shipped) problem(`${k8sDir}/${path}: the secret generator's file is in the repository`);
    else ok(`${k8sDir}: secret ${gen.name} is generated from ${path}, which the operator creates`);
  }

process.exit(problems ? 1 : 0);
