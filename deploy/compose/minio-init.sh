#!/bin/bash
# minio-init.sh: run once by the minio-init service of deploy/compose.yaml (image minio/mc):
# creates the bucket, the policies spoor-server and spoor-client from deploy/iam/ (mounted at
# /deploy/iam) with BUCKET_NAME replaced by $BUCKET, and one user for each with its policy.
# Idempotent. bash, not sed: the minio/mc image has no sed.
set -euo pipefail

: "${MINIO_URL:?}" "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}" "${BUCKET:?}"
: "${SPOOR_SERVER_ACCESS_KEY:?}" "${SPOOR_SERVER_SECRET_KEY:?}"
: "${SPOOR_CLIENT_ACCESS_KEY:?}" "${SPOOR_CLIENT_SECRET_KEY:?}"

mc alias set spoor "$MINIO_URL" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
mc mb --ignore-existing "spoor/$BUCKET"

# policy NAME FILE: creates (or replaces) the policy NAME from FILE for bucket $BUCKET.
policy() {
    local doc
    doc=$(<"$2")
    printf '%s\n' "${doc//BUCKET_NAME/$BUCKET}" >"/tmp/$1.json"
    mc admin policy create spoor "$1" "/tmp/$1.json"
}
# user ACCESS_KEY SECRET_KEY POLICY
user() {
    mc admin user add spoor "$1" "$2"
    mc admin policy attach spoor "$3" --user "$1" || true # already attached: fine
}

policy spoor-server /deploy/iam/server-policy.json
policy spoor-client /deploy/iam/client-policy.json
user "$SPOOR_SERVER_ACCESS_KEY" "$SPOOR_SERVER_SECRET_KEY" spoor-server
user "$SPOOR_CLIENT_ACCESS_KEY" "$SPOOR_CLIENT_SECRET_KEY" spoor-client
echo "minio-init: bucket $BUCKET, users $SPOOR_SERVER_ACCESS_KEY and $SPOOR_CLIENT_ACCESS_KEY ready"
