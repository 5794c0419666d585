// What each shipped deploy file starts, read from the files themselves (run by deploy/validate/run-shipped.sh):
//   node shipped-nodes.mjs ROOT OUT
// For deploy/docker-compose.yml (one node per service) and deploy/k8s (one node per StatefulSet pod, replicas
// counted, as kustomization.yaml applies them) it writes OUT/<setup>/<nn>-<node>/ with:
//   argv     the process's argv, NUL-separated: the image's ENTRYPOINT, then the service's command or the
//            container's args ($(VAR) expanded as Kubernetes does, from the container's env)
//   env      KEY=VALUE lines, NUL-separated: the image's ENV, then the service's or container's env
//            (fieldRef metadata.name and metadata.namespace resolved to the pod's name and namespace)
//   hosts    the names other nodes reach it by: the Compose service name and hostname; the pod's name, its name
//            under its StatefulSet's governing service and that name's fully qualified form, and the service's name
//            when the service is headless and selects it
//   hostname the node's own host name
//   mounts   "PATH KIND VOLUME [OWNER MODE]" lines: KIND faces (the face set), volume (a per-node volume), secret
//            (the cluster secret as a file at PATH, with the owner and octal mode it has there: the Compose
//            file's instructions, chown to the image's user and umask 077; Kubernetes' defaultMode, owned by root
//            and made group-readable for the pod's fsGroup, as the kubelet does)
//   restart  the restart policy: no, on-failure, always, unless-stopped (Compose), always (StatefulSet pods)
//   user     UID:GID the process runs as (the image's USER, or the pod's securityContext)
//   role     coordinator or worker (the first argument)
// Nothing is copied by hand: a change to a shipped file changes what is started.
// The operator's settings come from this process's environment, as they would on the real platform: Compose
// interpolates ${VAR:-default} from the shell; for Kubernetes a variable set here stands for the operator's edit of
// the same key in a configMapGenerator's file (deploy/k8s/run.env). Every value taken from here is printed.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const [root, out] = process.argv.slice(2);
// Kubernetes reads YAML 1.1 (0400 is octal there); Compose too.
const load = (file) => parseAllDocuments(readFileSync(file, "utf8"), { merge: true, version: "1.1" }).map((d) => d.toJS()).filter((d) => d);

// The .NET runtime images (mcr.microsoft.com/dotnet/aspnet) create the user `app` with uid and gid 1654 (APP_UID).
const knownUsers = { app: "1654:1654", root: "0:0" };

function dockerfile(path) {
  const text = readFileSync(`${root}/${path}`, "utf8").replace(/\\\n/g, " ");
  // Only the last stage is the image.
  const stages = text.split(/^FROM\s/m);
  const last = stages[stages.length - 1].split("\n");
  let entrypoint = [], cmd = [], user = "root";
  const env = [];
  for (const line of last) {
    const m = /^\s*(ENTRYPOINT|CMD|ENV|USER)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, kw, rest] = m;
    if (kw === "ENTRYPOINT") entrypoint = JSON.parse(rest);
    else if (kw === "CMD") cmd = JSON.parse(rest);
    else if (kw === "USER") user = rest.trim();
    else for (const pair of rest.trim().split(/\s+/)) if (pair.includes("=")) env.push(pair);
  }
  if (!knownUsers[user] && !/^\d+(:\d+)?$/.test(user)) throw new Error(`${path}: USER ${user} is not a user this check knows`);
  return { entrypoint, cmd, env, user: knownUsers[user] ?? (user.includes(":") ? user : `${user}:${user}`) };
}

function write(setup, index, name, node) {
  const dir = `${out}/${setup}/${String(index).padStart(2, "0")}-${name}`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/argv`, node.argv.map(String).join("\0"));
  writeFileSync(`${dir}/env`, node.env.join("\0"));
  writeFileSync(`${dir}/hosts`, [...new Set(node.hosts)].join("\n") + "\n");
  writeFileSync(`${dir}/hostname`, node.hostname + "\n");
  writeFileSync(`${dir}/mounts`, node.mounts.map((m) => m.join(" ")).join("\n") + "\n");
  writeFileSync(`${dir}/restart`, node.restart + "\n");
  writeFileSync(`${dir}/user`, node.user + "\n");
  writeFileSync(`${dir}/role`, String(node.argv[node.entrypointLength] ?? "") + "\n");
  console.log(`${setup}: ${name} (${node.hostname}) runs as ${node.user}, restart ${node.restart}: ${node.argv.join(" ")}`);
}

// Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, $$ for a literal $.
const given = new Set();
function interpolate(text) {
  return String(text).replace(/\$\$|\$\{(\w+)(?:(:?-)([^}]*))?\}/g, (m, name, op, fallback) => {
    if (m === "$$") return "$";
    const value = process.env[name];
    if (value !== undefined && (op !== ":-" || value !== "")) { given.add(`${name}=${value}`); return value; }
    return fallback ?? "";
  });
}
const interpolateAll = (x) => (Array.isArray(x) ? x.map(interpolateAll) : x && typeof x === "object"
  ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, interpolateAll(v)])) : typeof x === "string" ? interpolate(x) : x);

const byRole = (a, b) => (a.role === "coordinator" ? 0 : 1) - (b.role === "coordinator" ? 0 : 1);

// Compose: one node per service.
{
  const file = "deploy/docker-compose.yml";
  const compose = interpolateAll(load(`${root}/${file}`)[0]);
  const services = Object.entries(compose.services ?? {});
  const images = {};
  for (const [, s] of services) if (s.build) images[s.image] = dockerfile(`${s.build.dockerfile}`);
  const nodes = services.map(([name, s]) => {
    const image = images[s.image];
    if (!image) throw new Error(`${file}: service ${name} uses image ${s.image}, which no service builds`);
    const command = (s.command ?? image.cmd).map(String);
    const env = [...image.env];
    const given = s.environment ?? {};
    for (const [k, v] of Array.isArray(given) ? given.map((e) => e.split("=", 2)) : Object.entries(given)) env.push(`${k}=${v}`);
    const mounts = [];
    for (const v of s.volumes ?? []) {
      const m = /^(\$\{[^}]*\}|[^:]+):([^:]+)(:\w+)?$/.exec(String(v));
      if (!m) throw new Error(`${file}: service ${name} has a volume ${v} this check cannot read`);
      const [, source, target] = m;
      // A host folder (a path or ${FACECLUSTER_DATA...}) is the face set; a name is a named volume of its own.
      const hostFolder = /^[.$/~]/.test(source);
      mounts.push([target, hostFolder ? "faces" : "volume", hostFolder ? "faces" : source]);
    }
    for (const secret of s.secrets ?? []) {
      const id = typeof secret === "string" ? secret : secret.source;
      const target = typeof secret === "string" ? `/run/secrets/${id}` : secret.target?.startsWith("/") ? secret.target : `/run/secrets/${secret.target ?? id}`;
      const user = s.user ? (knownUsers[s.user] ?? s.user) : image.user;
      mounts.push([target, "secret", id, user, "600"]);
    }
    return {
      name, role: command[0], argv: [...image.entrypoint, ...command], entrypointLength: image.entrypoint.length, env,
      hostname: s.hostname ?? name, hosts: [name, s.hostname ?? name], mounts, restart: s.restart ?? "no",
      user: s.user ? (knownUsers[s.user] ?? s.user) : image.user,
    };
  });
  console.log(`compose: operator settings from the environment: ${[...given].join(" ") || "none (the file's defaults)"}`);
  nodes.sort(byRole).forEach((n, i) => write("compose", i, n.name, n));
}

// Kubernetes, as the kustomization applies it: one node per StatefulSet pod.
{
  const dir = "deploy/k8s";
  const kustomization = load(`${root}/${dir}/kustomization.yaml`)[0];
  const docs = (kustomization.resources ?? []).flatMap((r) => load(`${root}/${dir}/${r}`));
  const namespace = kustomization.namespace ?? "default";
  const images = { "facecluster:cpu": dockerfile("deploy/Dockerfile"), "facecluster:cuda": dockerfile("deploy/Dockerfile.cuda") };
  const services = docs.filter((d) => d.kind === "Service");
  // ConfigMaps as configMapGenerator makes them (envs files and literals), with the operator's edits.
  const edited = [];
  const configMaps = {};
  for (const gen of kustomization.configMapGenerator ?? []) {
    const data = {};
    const lines = (gen.envs ?? []).flatMap((f) => readFileSync(`${root}/${dir}/${f}`, "utf8").split("\n")).concat(gen.literals ?? []);
    for (const line of lines) {
      const m = /^\s*([A-Za-z_][\w.-]*)=(.*)$/.exec(line);
      if (m) data[m[1]] = m[2];
    }
    for (const key of Object.keys(data))
      if (process.env[key] !== undefined && process.env[key] !== data[key]) { data[key] = process.env[key]; edited.push(`${key}=${data[key]}`); }
    configMaps[gen.name] = data;
  }
  console.log(`k8s: operator settings (edits of the generated ConfigMaps): ${edited.join(" ") || "none (the shipped values)"}`);
  // The keys of a secret: "key=file" entries of kustomization.yaml's secretGenerator (the operator creates the
  // file), or the keys of a Secret shipped with its value, whose value is then what every pod gets.
  const shippedSecrets = Object.fromEntries(docs.filter((d) => d.kind === "Secret").map((d) => [d.metadata.name, d]));
  const secretKeys = (name) => {
    const gen = (kustomization.secretGenerator ?? []).find((g) => g.name === name);
    if (gen) return (gen.files ?? []).map((f) => String(f).split("=")[0]);
    const shipped = shippedSecrets[name];
    if (!shipped) throw new Error(`${dir}: secret ${name} is neither generated by kustomization.yaml nor shipped`);
    return [...Object.keys(shipped.data ?? {}), ...Object.keys(shipped.stringData ?? {})];
  };
  const shippedValue = (name, key) => {
    const shipped = shippedSecrets[name];
    if (!shipped) return "-";
    const value = shipped.stringData?.[key] ?? Buffer.from(shipped.data?.[key] ?? "", "base64").toString();
    const file = `${out}/shipped-secrets/${name}/${key}`;
    mkdirSync(`${out}/shipped-secrets/${name}`, { recursive: true });
    writeFileSync(file, value);
    return file;
  };
  const selects = (service, labels) => Object.entries(service.spec.selector ?? {}).every(([k, v]) => labels[k] === v);
  const nodes = [];
  for (const set of docs.filter((d) => d.kind === "StatefulSet")) {
    const pod = set.spec.template;
    if ((pod.spec.containers ?? []).length !== 1) throw new Error(`${dir}: ${set.metadata.name} has ${pod.spec.containers.length} containers; this check starts one`);
    const c = pod.spec.containers[0];
    const image = images[c.image];
    if (!image) throw new Error(`${dir}: ${set.metadata.name} uses image ${c.image}, which no Dockerfile here builds`);
    const sc = { ...(pod.spec.securityContext ?? {}), ...(c.securityContext ?? {}) };
    const user = sc.runAsUser !== undefined ? `${sc.runAsUser}:${sc.runAsGroup ?? sc.runAsUser}` : image.user;
    for (let ordinal = 0; ordinal < (set.spec.replicas ?? 1); ordinal++) {
      const podName = `${set.metadata.name}-${ordinal}`;
      const env = [...image.env];
      const vars = {};
      for (const from of c.envFrom ?? []) {
        const name = from.configMapRef?.name;
        const data = configMaps[name];
        if (!data) throw new Error(`${dir}: ${set.metadata.name} takes env from ${JSON.stringify(from)}, which kustomization.yaml does not generate`);
        for (const [k, v] of Object.entries(data)) { vars[(from.prefix ?? "") + k] = v; env.push(`${(from.prefix ?? "") + k}=${v}`); }
      }
      for (const e of c.env ?? []) {
        let value = e.value;
        const field = e.valueFrom?.fieldRef?.fieldPath;
        if (field === "metadata.name") value = podName;
        else if (field === "metadata.namespace") value = namespace;
        else if (e.valueFrom) throw new Error(`${dir}: ${set.metadata.name} env ${e.name} comes from ${JSON.stringify(e.valueFrom)}, which this check cannot resolve`);
        value = String(value ?? "").replace(/\$\((\w+)\)/g, (m, k) => vars[k] ?? m);
        vars[e.name] = value;
        env.push(`${e.name}=${value}`);
      }
      const expand = (s) => String(s).replace(/\$\((\w+)\)/g, (m, k) => vars[k] ?? m);
      const args = (c.args ?? image.cmd).map(expand);
      const command = c.command ? c.command.map(expand) : image.entrypoint;
      const volumes = Object.fromEntries((pod.spec.volumes ?? []).map((v) => [v.name, v]));
      const mounts = [];
      for (const m of c.volumeMounts ?? []) {
        const v = volumes[m.name];
        if (v?.secret) {
          const fsGroup = pod.spec.securityContext?.fsGroup;
          const mode = (v.secret.defaultMode ?? 0o644) | (fsGroup !== undefined ? 0o040 : 0);
          const owner = `0:${fsGroup ?? 0}`;
          for (const key of v.secret.items?.map((i) => i.path) ?? secretKeys(v.secret.secretName))
            mounts.push([`${m.mountPath}/${key}`, "secret", v.secret.secretName, owner, mode.toString(8), shippedValue(v.secret.secretName, key)]);
        }
        else if (v?.persistentVolumeClaim) mounts.push([m.mountPath, "faces", v.persistentVolumeClaim.claimName]);
        else mounts.push([m.mountPath, "volume", m.name]);
      }
      const governing = set.spec.serviceName;
      const hosts = [podName, `${podName}.${governing}`, `${podName}.${governing}.${namespace}`, `${podName}.${governing}.${namespace}.svc.cluster.local`];
      for (const s of services)
        if (s.spec.clusterIP === "None" && selects(s, pod.metadata.labels ?? {})) hosts.push(s.metadata.name, `${s.metadata.name}.${namespace}.svc.cluster.local`);
      nodes.push({
        name: podName, role: args[0], argv: [...command, ...args], entrypointLength: command.length, env, hostname: podName, hosts, mounts,
        restart: (pod.spec.restartPolicy ?? "Always").toLowerCase(), user,
      });
    }
  }
  nodes.sort(byRole).forEach((n, i) => write("k8s", i, n.name, n));
}
