// iam_check.mjs: deploy/iam/client-policy.json and server-policy.json (no npm packages needed).
//
//   node iam_check.mjs
//
// - Each is JSON, an IAM policy document (Version 2012-10-17, Statement list, Effect Allow,
//   Action and Resource, never NotAction/NotResource, unique Sids).
// - Every Action is an IAM action of Amazon S3 from the list below (from AWS's Service
//   Authorization Reference, "Actions defined by Amazon S3"): a typo, a wildcard or an API
//   operation's name where IAM wants the action's (s3:ListObjectsV2 instead of s3:ListBucket,
//   s3:CreateMultipartUpload instead of s3:PutObject) fails, with the right name in the message.
// - Bucket-level actions name the bucket's ARN, object-level ones object ARNs; the bucket is the
//   placeholder BUCKET_NAME.
// - Least privilege, exactly: the (action, resource) pairs each policy grants are the ones
//   deploy/iam/README.md maps to an operation of the client or the server, no more and no fewer,
//   and s3:ListBucket carries the s3:prefix condition for data/ and snapshots/.
// - deploy/iam/README.md names every action of both policies.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const IAM = path.join(ROOT, "deploy", "iam");
const BUCKET = "BUCKET_NAME";
const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;

// IAM actions of Amazon S3 (service prefix s3) that act on a bucket or on objects.
const BUCKET_ACTIONS = new Set([
  "CreateBucket", "DeleteBucket", "DeleteBucketPolicy", "DeleteBucketWebsite",
  "GetAccelerateConfiguration", "GetAnalyticsConfiguration", "GetBucketAcl", "GetBucketCORS",
  "GetBucketLocation", "GetBucketLogging", "GetBucketNotification",
  "GetBucketObjectLockConfiguration", "GetBucketOwnershipControls", "GetBucketPolicy",
  "GetBucketPolicyStatus", "GetBucketPublicAccessBlock", "GetBucketRequestPayment",
  "GetBucketTagging", "GetBucketVersioning", "GetBucketWebsite", "GetEncryptionConfiguration",
  "GetIntelligentTieringConfiguration", "GetInventoryConfiguration", "GetLifecycleConfiguration",
  "GetMetricsConfiguration", "GetReplicationConfiguration", "ListBucket",
  "ListBucketMultipartUploads", "ListBucketVersions", "PutAccelerateConfiguration",
  "PutAnalyticsConfiguration", "PutBucketAcl", "PutBucketCORS", "PutBucketLogging",
  "PutBucketNotification", "PutBucketObjectLockConfiguration", "PutBucketOwnershipControls",
  "PutBucketPolicy", "PutBucketPublicAccessBlock", "PutBucketRequestPayment", "PutBucketTagging",
  "PutBucketVersioning", "PutBucketWebsite", "PutEncryptionConfiguration",
  "PutIntelligentTieringConfiguration", "PutInventoryConfiguration", "PutLifecycleConfiguration",
  "PutMetricsConfiguration", "PutReplicationConfiguration",
]);
const OBJECT_ACTIONS = new Set([
  "AbortMultipartUpload", "BypassGovernanceRetention", "DeleteObject", "DeleteObjectTagging",
  "DeleteObjectVersion", "DeleteObjectVersionTagging", "GetObject", "GetObjectAcl",
  "GetObjectAttributes", "GetObjectLegalHold", "GetObjectRetention", "GetObjectTagging",
  "GetObjectTorrent", "GetObjectVersion", "GetObjectVersionAcl", "GetObjectVersionAttributes",
  "GetObjectVersionForReplication", "GetObjectVersionTagging", "GetObjectVersionTorrent",
  "ListMultipartUploadParts", "PutObject", "PutObjectAcl", "PutObjectLegalHold",
  "PutObjectRetention", "PutObjectTagging", "PutObjectVersionAcl", "PutObjectVersionTagging",
  "ReplicateDelete", "ReplicateObject", "ReplicateTags", "RestoreObject",
]);
const ACCOUNT_ACTIONS = new Set(["ListAllMyBuckets", "ListAccessPoints", "ListJobs", "CreateJob"]);
// S3 API operations that are not IAM actions, and the action that authorises each.
const NOT_ACTIONS = {
  ListObjects: "s3:ListBucket", ListObjectsV2: "s3:ListBucket", HeadBucket: "s3:ListBucket",
  HeadObject: "s3:GetObject", CreateMultipartUpload: "s3:PutObject", UploadPart: "s3:PutObject",
  CompleteMultipartUpload: "s3:PutObject", UploadPartCopy: "s3:PutObject and s3:GetObject",
  CopyObject: "s3:GetObject and s3:PutObject", DeleteObjects: "s3:DeleteObject",
  ListParts: "s3:ListMultipartUploadParts", ListMultipartUploads: "s3:ListBucketMultipartUploads",
  ListBuckets: "s3:ListAllMyBuckets",
};

// What each policy must grant, exactly: "action resource" pairs (README.md, the tables).
const EXPECTED = {
  "client-policy.json": {
    grants: [`s3:PutObject ${BUCKET_ARN}/data/*`, `s3:AbortMultipartUpload ${BUCKET_ARN}/data/*`],
  },
  "server-policy.json": {
    grants: [
      `s3:ListBucket ${BUCKET_ARN}`,
      `s3:GetObject ${BUCKET_ARN}/data/*`,
      `s3:GetObject ${BUCKET_ARN}/snapshots/*`,
      `s3:PutObject ${BUCKET_ARN}/snapshots/*`,
      `s3:AbortMultipartUpload ${BUCKET_ARN}/snapshots/*`,
      `s3:DeleteObject ${BUCKET_ARN}/snapshots/*`,
    ],
    listPrefixes: ["data/*", "snapshots/*"],
  },
};

let checks = 0;
let fails = 0;
function check(what, cond, why = "") {
  checks++;
  if (!cond) fails++;
  console.log(`${cond ? "ok  " : "FAIL"}  ${what}${!cond && why ? `: ${why}` : ""}`);
  return cond;
}
const list = (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const readme = readFileSync(path.join(IAM, "README.md"), "utf8");
for (const [file, expected] of Object.entries(EXPECTED)) {
  console.log(`== deploy/iam/${file}`);
  let doc;
  try {
    doc = JSON.parse(readFileSync(path.join(IAM, file), "utf8"));
  } catch (e) {
    check(`${file} is JSON`, false, e.message);
    continue;
  }
  check("valid JSON", true);
  check('Version "2012-10-17"', doc.Version === "2012-10-17", String(doc.Version));
  const extra = Object.keys(doc).filter((k) => !["Version", "Id", "Statement"].includes(k));
  check("only Version, Id and Statement at the top", extra.length === 0, extra.join(" "));
  const stmts = list(doc.Statement);
  if (!check("a non-empty Statement list", stmts.length > 0)) continue;
  const sids = stmts.map((s) => s.Sid).filter(Boolean);
  check("Sids unique and alphanumeric", new Set(sids).size === sids.length && sids.every((s) => /^[A-Za-z0-9]+$/.test(s)));

  const grants = new Set();
  for (const [i, s] of stmts.entries()) {
    const id = `Statement ${s.Sid ?? i}`;
    const keys = Object.keys(s).filter((k) => !["Sid", "Effect", "Action", "Resource", "Condition"].includes(k));
    check(`${id}: only Sid, Effect, Action, Resource, Condition`, keys.length === 0, keys.join(" "));
    check(`${id}: Effect Allow`, s.Effect === "Allow", String(s.Effect));
    const actions = list(s.Action);
    const resources = list(s.Resource);
    check(`${id}: has Action and Resource`, actions.length > 0 && resources.length > 0);
    for (const a of actions) {
      const name = typeof a === "string" && a.startsWith("s3:") ? a.slice(3) : null;
      const known = name && (BUCKET_ACTIONS.has(name) || OBJECT_ACTIONS.has(name) || ACCOUNT_ACTIONS.has(name));
      const hint = name && NOT_ACTIONS[name] ? `an S3 operation, not an IAM action: use ${NOT_ACTIONS[name]}` :
        /[*?]/.test(String(a)) ? "no wildcards" : "not an IAM action of Amazon S3";
      if (!check(`${id}: ${a} is a known s3: action`, known, hint)) continue;
      check(`${id}: ${a} is named in deploy/iam/README.md`, readme.includes(`\`${a}\``));
      for (const r of resources) {
        const bucketLevel = BUCKET_ACTIONS.has(name);
        const shape = bucketLevel ? r === BUCKET_ARN : typeof r === "string" && r.startsWith(`${BUCKET_ARN}/`);
        check(`${id}: ${a} on ${r} (${bucketLevel ? "the bucket's ARN" : "object ARNs"} of ${BUCKET})`, shape);
        grants.add(`${a} ${r}`);
      }
    }
    if (s.Condition !== undefined) {
      check(`${id}: a Condition only on s3:ListBucket`, actions.length === 1 && actions[0] === "s3:ListBucket");
    }
    if (actions.includes("s3:ListBucket")) {
      const cond = s.Condition ?? {};
      const prefixes = list(cond.StringLike?.["s3:prefix"]);
      const others = Object.keys(cond).filter((k) => k !== "StringLike").concat(
        Object.keys(cond.StringLike ?? {}).filter((k) => k !== "s3:prefix"));
      check(`${id}: s3:ListBucket limited by StringLike s3:prefix ${JSON.stringify(expected.listPrefixes ?? [])}`,
        expected.listPrefixes && others.length === 0 &&
        JSON.stringify([...prefixes].sort()) === JSON.stringify([...expected.listPrefixes].sort()),
        JSON.stringify(cond));
    }
  }
  const want = new Set(expected.grants);
  const missing = [...want].filter((g) => !grants.has(g));
  const surplus = [...grants].filter((g) => !want.has(g));
  check("grants what the README's table needs", missing.length === 0, `missing: ${missing.join(", ")}`);
  check("grants nothing more (least privilege)", surplus.length === 0, `more: ${surplus.join(", ")}`);
}
console.log(`iam_check.mjs: ${checks} checks, ${fails} failed`);
process.exit(fails ? 1 : 0);
