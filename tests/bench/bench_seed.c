/*
 * bench_seed.c: fills a bucket with tracking objects for the catch-up benchmark (run.sh): the
 * objects of gen_events.h, PUT through the S3 engine with 16 requests in flight, into the S3
 * server of SPOOR_TEST_S3_* (tests/harness/rgw.sh's env file).
 *
 *   bench_seed BUCKET PROJECT [--apps N] [--objects-per-app N] [--events-per-object N]
 *
 * Creates the bucket; prints the objects, events and bytes written. Exits 1 on any failure.
 */
#include <spoor/s3.h>

#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "gen_events.h"
#include "support/s3_env.h"

#define IN_FLIGHT 16

struct seed {
    struct spoor_s3_client *c;
    const char *bucket, *project;
    int apps, nobj, events, next, done, failed;
    long long bytes;
    char *body[IN_FLIGHT];
    char key[IN_FLIGHT][160];
};

static struct seed *the_seed; /* the callbacks' state: one seed per process */

/* The slot whose key ud points to (each request's user data is its slot's key). */
static int slot_of(struct seed *s, void *ud)
{
    return (int)((char(*)[160])ud - s->key);
}

static void on_done(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                    void *ud);

static void put_next(struct seed *s, int slot)
{
    if (s->next >= s->nobj)
        return;
    int i = s->next++;
    free(s->body[slot]);
    s->body[slot] = gen_object_body(i / s->apps, s->events);
    gen_object_key(s->key[slot], sizeof s->key[slot], s->project, i, s->apps);
    size_t len = strlen(s->body[slot]);
    s->bytes += (long long)len;
    struct spoor_s3_op op = {.kind = SPOOR_S3_PUT_OBJECT,
                             .bucket = s->bucket,
                             .key = s->key[slot],
                             .body = {.data = s->body[slot], .len = len}};
    struct spoor_error err;
    if (spoor_s3_submit(s->c, &op, on_done, s->key[slot], &err) != 0) {
        fprintf(stderr, "bench_seed: %s\n", err.message);
        s->failed++;
    }
}

static void on_done(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                    void *ud)
{
    struct seed *s = the_seed;
    if (status) {
        fprintf(stderr, "bench_seed: PUT %s failed: %s\n", (const char *)ud, err->message);
        s->failed++;
    }
    s->done++;
    if (!s->failed)
        put_next(s, slot_of(s, ud));
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_seed BUCKET PROJECT [--apps N] [--objects-per-app N] "
                        "[--events-per-object N]\n");
        return 2;
    }
    static struct seed s;
    the_seed = &s;
    s.bucket = argv[1];
    s.project = argv[2];
    s.apps = gen_arg(argc, argv, 3, "--apps", 100);
    s.nobj = s.apps * gen_arg(argc, argv, 3, "--objects-per-app", 50);
    s.events = gen_arg(argc, argv, 3, "--events-per-object", 100);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct spoor_s3_engine_opts eo = {IN_FLIGHT};
    struct spoor_s3_engine *e = spoor_s3_engine_new(&loop, &eo);
    struct spoor_s3_config cfg;
    s3_env_config(&cfg);
    struct spoor_error err;
    s.c = spoor_s3_client_new(e, &cfg, &err);
    if (!s.c) {
        fprintf(stderr, "bench_seed: %s\n", err.message);
        return 1;
    }
    struct spoor_s3_op mk = {.kind = SPOOR_S3_CREATE_BUCKET, .bucket = s.bucket};
    struct spoor_s3_result res;
    struct spoor_s3_engine *pe = spoor_s3_engine_new(NULL, &eo);
    struct spoor_s3_client *pc = spoor_s3_client_new(pe, &cfg, &err);
    if (spoor_s3_exec(pc, &mk, &res, &err) != 0) /* it may exist: the PUTs will tell */
        fprintf(stderr, "bench_seed: create bucket %s: %s\n", s.bucket, err.message);
    spoor_s3_result_cleanup(&res);
    spoor_s3_client_free(pc);
    spoor_s3_engine_close(pe, NULL, NULL);
    for (int k = 0; k < IN_FLIGHT; k++)
        put_next(&s, k);
    while (s.done < s.next)
        uv_run(&loop, UV_RUN_ONCE);
    for (int k = 0; k < IN_FLIGHT; k++)
        free(s.body[k]);
    spoor_s3_client_free(s.c);
    spoor_s3_engine_close(e, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    printf("seeded %d objects, %lld events, %.1f MB into s3://%s/data/%s/\n", s.done,
           (long long)s.done * s.events, (double)s.bytes / 1e6, s.bucket, s.project);
    return s.failed ? 1 : 0;
}
