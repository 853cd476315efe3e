/* A minimal application built the way the README says: cc app.c $(pkg-config --cflags --libs
 * spoor). It links libspoor, makes an S3 engine and client from explicit settings, and checks
 * that an invalid operation is refused with the library's error code. */
#include <spoor/s3.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    struct spoor_s3_engine *e = spoor_s3_engine_new(NULL, NULL);
    struct spoor_s3_config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.endpoint_url, sizeof cfg.endpoint_url, "http://127.0.0.1:9");
    struct spoor_error err;
    struct spoor_s3_client *c = spoor_s3_client_new(e, &cfg, &err);
    struct spoor_s3_op op = {.kind = SPOOR_S3_GET_OBJECT, .bucket = "b"}; /* no key */
    struct spoor_s3_result res;
    int rc = spoor_s3_exec(c, &op, &res, &err);
    spoor_s3_result_cleanup(&res);
    spoor_s3_client_free(c);
    spoor_s3_engine_close(e, NULL, NULL);
    printf("%s: %s\n", spoor_err_name(rc), err.message);
    return rc == SPOOR_E_INVALID ? 0 : 1;
}
