/*
 * s3_env.h: what integration tests need to reach the S3 server that tests/run.sh started
 * (SPOOR_TEST_S3_ENDPOINT, SPOOR_TEST_S3_ACCESS_KEY, SPOOR_TEST_S3_SECRET_KEY,
 * SPOOR_TEST_S3_REGION). Header-only so every test executable can include it.
 */
#ifndef SPOOR_TEST_S3_ENV_H
#define SPOOR_TEST_S3_ENV_H

#include <spoor/s3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Fills cfg for the test server; exits with a clear message when the harness did not run. */
static inline void s3_env_config(struct spoor_s3_config *cfg)
{
    const char *ep = getenv("SPOOR_TEST_S3_ENDPOINT");
    const char *ak = getenv("SPOOR_TEST_S3_ACCESS_KEY");
    const char *sk = getenv("SPOOR_TEST_S3_SECRET_KEY");
    const char *region = getenv("SPOOR_TEST_S3_REGION");
    if (!ep || !ak || !sk) {
        fprintf(stderr, "integration tests need a running S3 server: run them through "
                        "tests/run.sh, or source the env file written by "
                        "tests/harness/rgw.sh start DIR\n");
        exit(2);
    }
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->name, sizeof cfg->name, "rgw");
    snprintf(cfg->endpoint_url, sizeof cfg->endpoint_url, "%s", ep);
    snprintf(cfg->region, sizeof cfg->region, "%s", region ? region : "us-east-1");
    cfg->addressing = SPOOR_S3_ADDRESSING_PATH;
    snprintf(cfg->creds.access_key_id, sizeof cfg->creds.access_key_id, "%s", ak);
    snprintf(cfg->creds.secret_access_key, sizeof cfg->creds.secret_access_key, "%s", sk);
    snprintf(cfg->creds.source, sizeof cfg->creds.source, "test environment");
}

/* A bucket name no other test run uses: "<prefix>-<pid>-<time>". */
static inline void s3_env_bucket_name(char *out, size_t size, const char *prefix)
{
    snprintf(out, size, "%s-%ld-%ld", prefix, (long)getpid(), (long)time(NULL));
}

/* Names a fresh bucket (s3_env_bucket_name) into out and creates it with c (an engine with a
 * private loop); 0, or the error code after printing why. */
static inline int s3_env_create_bucket(struct spoor_s3_client *c, char *out, size_t size,
                                       const char *prefix)
{
    s3_env_bucket_name(out, size, prefix);
    struct spoor_s3_op op = {.kind = SPOOR_S3_CREATE_BUCKET, .bucket = out};
    struct spoor_s3_result res;
    struct spoor_error err;
    int rc = spoor_s3_exec(c, &op, &res, &err);
    spoor_s3_result_cleanup(&res);
    if (rc)
        fprintf(stderr, "cannot create bucket %s: %s\n", out, err.message);
    return rc;
}

#endif
