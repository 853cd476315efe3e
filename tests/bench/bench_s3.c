/*
 * bench_s3.c: throughput and latency of the S3 engine against a real S3 endpoint (the one named
 * by SPOOR_TEST_S3_ENDPOINT, _ACCESS_KEY, _SECRET_KEY and _REGION).
 *
 * It is a benchmark, not a test: it prints a table and asserts nothing about time. It does
 * check every answer (a GET body must equal what was PUT, a HEAD must report the size, a
 * listing must return every key once and in order) and exits 1 when any request failed or any
 * answer was wrong, because then the numbers describe a broken run.
 *
 * Workload, in a bucket of its own ("bench-s3-TIME-PID"), for each concurrency level N:
 * one engine on one uv loop with max_concurrency N, N requests kept in flight with
 * spoor_s3_submit() and refilled from the callback. Each level PUTs its own key set (so every
 * PUT creates an object), then GETs and HEADs it. LIST at level N is N listers each paging the
 * whole bucket with max-keys 1000, at once. One more row each for PUT and GET goes through the
 * blocking API, spoor_s3_exec(), one request at a time. Cleanup is DeleteObjects in batches of
 * 1000 (timed, one row); the empty bucket stays, because the API has no DeleteBucket.
 *
 * Latency is from submit (or exec) to the callback (or return), per request; for LIST per page.
 * "cpu us/op" is this process's user + system CPU time over the phase divided by the objects (or
 * keys) done: the client's own cost, which the server's speed hides in ops/s. Before timing, each
 * engine opens its N connections with N HeadBucket requests.
 *
 * Object (set, i) is a shared random block whose first 16 bytes are replaced by a tag naming set
 * and i, so a GET that returned another object's bytes is caught, at memcpy/memcmp cost.
 */
#include <spoor/s3.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define MAX_LEVELS 8
#define MAX_ROWS 64
#define ERRORS_SHOWN 10
#define PAGE_KEYS 1000
#define DELETE_BATCH 1000
#define TAG_LEN 16
#define KEY_MAX 64

enum bench_op { OP_PUT, OP_GET, OP_HEAD, OP_LIST, OP_DELETE };
static const char *const op_names[] = {"PUT", "GET", "HEAD", "LIST", "DELETE"};

struct opts {
    size_t objects;
    size_t size_bytes;
    int levels[MAX_LEVELS];
    int nlevels;
    bool exec_rows;
    bool unsigned_payload;
};

struct row {
    const char *client;
    enum bench_op op;
    int conc;
    size_t items; /* objects, or keys for LIST and DELETE */
    double seconds;
    double bytes; /* payload moved, 0 when not meaningful */
    double p50_ms, p99_ms;
    double cpu_us; /* this process's CPU time (user + system) over the phase */
};

struct bench {
    struct opts o;
    uv_loop_t loop;
    struct spoor_s3_config cfg;
    char bucket[64];
    unsigned char *base;     /* size_bytes random bytes shared by all objects */
    unsigned char *expected; /* scratch: the object a GET should return */
    char **keys;             /* every key PUT, sorted bytewise (LIST check, DELETE) */
    size_t nkeys;
    size_t errors; /* failed requests and wrong answers, whole run */
    struct row rows[MAX_ROWS];
    size_t nrows;
};

/* One timed operation over one key set at one concurrency. */
struct phase {
    struct bench *b;
    struct spoor_s3_client *c;
    enum bench_op op;
    int set; /* key set: levels by index, then the blocking set */
    int conc;
    size_t total; /* units: objects; listers for LIST; batches for DELETE */
    size_t next;  /* next unit to start */
    size_t done;
    size_t items;
    double bytes;
    size_t errors;
    uint64_t *lat_ns;
    size_t nlat, cap_lat;
    struct slot *slots;
    uint64_t t0_ns, cpu0_us;
};

/* One request in flight; for LIST, one lister and how far into b->keys it has got. */
struct slot {
    struct phase *ph;
    size_t unit;
    uint64_t t0_ns;
    unsigned char *body;
    size_t listed;
    char key[KEY_MAX];
};

/* ---- small helpers ---------------------------------------------------------------------- */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "bench_s3: out of memory\n");
        abort();
    }
    return p;
}

static void key_of(const struct bench *b, int set, size_t i, char *out)
{
    if (set < b->o.nlevels)
        snprintf(out, KEY_MAX, "async-%d-c%d/obj-%08zu", set, b->o.levels[set], i);
    else
        snprintf(out, KEY_MAX, "exec/obj-%08zu", i);
}

/* The content of object (set, i) into out (size_bytes). */
static void object_fill(const struct bench *b, int set, size_t i, unsigned char *out)
{
    char tag[TAG_LEN + 1];
    size_t n = b->o.size_bytes < TAG_LEN ? b->o.size_bytes : TAG_LEN;
    memcpy(out, b->base, b->o.size_bytes);
    snprintf(tag, sizeof tag, "%02x%014zx", (unsigned)set & 0xff, i);
    memcpy(out, tag, n);
}

static void lat_push(struct phase *ph, uint64_t ns)
{
    if (ph->nlat == ph->cap_lat) {
        ph->cap_lat = ph->cap_lat ? ph->cap_lat * 2 : 1024;
        uint64_t *p = realloc(ph->lat_ns, ph->cap_lat * sizeof *p);
        if (!p)
            abort();
        ph->lat_ns = p;
    }
    ph->lat_ns[ph->nlat++] = ns;
}

static uint64_t cpu_now_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Nearest-rank percentile of sorted v, in ms. */
static double pct_ms(const uint64_t *v, size_t n, int pct)
{
    if (n == 0)
        return 0;
    size_t rank = (n * (size_t)pct + 99) / 100;
    return (double)v[rank ? rank - 1 : 0] / 1e6;
}

/* Counts one failure of ph and prints the first few. */
static void failure(struct phase *ph, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failure(struct phase *ph, const char *fmt, ...)
{
    ph->errors++;
    ph->b->errors++;
    if (ph->errors > ERRORS_SHOWN)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_s3: %s c=%d: ", op_names[ph->op], ph->conc);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void request_failure(struct phase *ph, const struct slot *s, int status,
                            const struct spoor_error *err)
{
    failure(ph, "unit %zu (%s): %s, HTTP %ld, S3 code \"%s\": %s", s->unit, s->key,
            spoor_err_name(status), err->http_status, err->s3_code, err->message);
}

/* ---- building and checking requests ----------------------------------------------------- */

/* Fills op for slot s's current unit (for LIST: the page after token). */
static void op_build(struct slot *s, struct spoor_s3_op *op, const char *token)
{
    struct phase *ph = s->ph;
    struct bench *b = ph->b;
    memset(op, 0, sizeof *op);
    op->bucket = b->bucket;
    s->key[0] = '\0';
    if (ph->op == OP_PUT || ph->op == OP_GET || ph->op == OP_HEAD) {
        key_of(b, ph->set, s->unit, s->key);
        op->key = s->key;
    }
    switch (ph->op) {
    case OP_PUT:
        object_fill(b, ph->set, s->unit, s->body);
        op->kind = SPOOR_S3_PUT_OBJECT;
        op->body.data = s->body;
        op->body.len = b->o.size_bytes;
        break;
    case OP_GET:
        op->kind = SPOOR_S3_GET_OBJECT;
        op->sink.max_bytes = b->o.size_bytes + 1;
        break;
    case OP_HEAD:
        op->kind = SPOOR_S3_HEAD_OBJECT;
        break;
    case OP_LIST:
        op->kind = SPOOR_S3_LIST_OBJECTS;
        op->max_keys = PAGE_KEYS;
        op->continuation_token = token;
        break;
    case OP_DELETE: {
        size_t first = s->unit * DELETE_BATCH, left = b->nkeys - first;
        op->kind = SPOOR_S3_DELETE_OBJECTS;
        op->keys = (const char *const *)b->keys + first;
        op->nkeys = left < DELETE_BATCH ? left : DELETE_BATCH;
        op->quiet = true;
        break;
    }
    }
}

/* Checks one page of lister s against the sorted key list; counts the keys. */
static void list_check(struct slot *s, const struct spoor_s3_list *l)
{
    struct phase *ph = s->ph;
    struct bench *b = ph->b;
    for (size_t i = 0; i < l->nobjects; i++, s->listed++) {
        const struct spoor_s3_object *obj = &l->objects[i];
        if (s->listed >= b->nkeys || strcmp(obj->key, b->keys[s->listed]) != 0) {
            failure(ph, "lister %zu: key #%zu is \"%s\", expected \"%s\"", s->unit, s->listed,
                    obj->key, s->listed < b->nkeys ? b->keys[s->listed] : "(end of listing)");
            return;
        }
        if (obj->size != (int64_t)b->o.size_bytes)
            failure(ph, "lister %zu: %s has size %" PRId64 ", expected %zu", s->unit, obj->key,
                    obj->size, b->o.size_bytes);
    }
    ph->items += l->nobjects;
}

/* Checks a successful answer; false (failure counted) when it is wrong. */
static bool answer_check(struct slot *s, const struct spoor_s3_result *res)
{
    struct phase *ph = s->ph;
    struct bench *b = ph->b;
    size_t size = b->o.size_bytes;
    switch (ph->op) {
    case OP_GET:
        object_fill(b, ph->set, s->unit, b->expected);
        if (res->body_len != size || (size && memcmp(res->body, b->expected, size) != 0)) {
            failure(ph, "%s: body of %zu bytes differs from the %zu bytes PUT", s->key,
                    res->body_len, size);
            return false;
        }
        break;
    case OP_HEAD:
        if (res->content_length != (int64_t)size) {
            failure(ph, "%s: Content-Length %" PRId64 ", expected %zu", s->key, res->content_length,
                    size);
            return false;
        }
        break;
    case OP_DELETE:
        for (size_t i = 0; i < res->ndelete_errors; i++)
            failure(ph, "batch %zu: %s: %s %s", s->unit, res->delete_errors[i].key,
                    res->delete_errors[i].code, res->delete_errors[i].message);
        return res->ndelete_errors == 0;
    default:
        break;
    }
    return true;
}

/* Accounts a finished unit (PUT/GET/HEAD object, DELETE batch). */
static void unit_account(struct slot *s, bool ok)
{
    struct phase *ph = s->ph;
    if (!ok)
        return;
    if (ph->op == OP_DELETE) {
        size_t left = ph->b->nkeys - s->unit * DELETE_BATCH;
        ph->items += left < DELETE_BATCH ? left : DELETE_BATCH;
    } else {
        ph->items++;
        if (ph->op != OP_HEAD)
            ph->bytes += (double)ph->b->o.size_bytes;
    }
}

/* ---- the asynchronous runner ------------------------------------------------------------ */

static void on_answer(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                      void *ud);

static int slot_submit(struct slot *s, const char *token)
{
    struct spoor_s3_op op;
    struct spoor_error err;
    op_build(s, &op, token);
    s->t0_ns = uv_hrtime();
    int rc = spoor_s3_submit(s->ph->c, &op, on_answer, s, &err);
    if (rc)
        request_failure(s->ph, s, rc, &err);
    return rc;
}

/* The slot's unit is over: start the next one, or stop the loop when all are done. */
static void slot_next(struct slot *s)
{
    struct phase *ph = s->ph;
    ph->done++;
    while (ph->next < ph->total) {
        s->unit = ph->next++;
        s->listed = 0;
        if (slot_submit(s, NULL) == 0)
            return;
        ph->done++;
    }
    if (ph->done == ph->total)
        uv_stop(&ph->b->loop);
}

static void on_answer(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                      void *ud)
{
    struct slot *s = ud;
    struct phase *ph = s->ph;
    lat_push(ph, uv_hrtime() - s->t0_ns);
    if (status != 0) {
        request_failure(ph, s, status, err);
        slot_next(s);
        return;
    }
    if (ph->op != OP_LIST) {
        unit_account(s, answer_check(s, res));
        slot_next(s);
        return;
    }
    list_check(s, &res->list);
    if (res->list.is_truncated && res->list.next_continuation_token) {
        if (slot_submit(s, res->list.next_continuation_token) == 0)
            return; /* the token was copied by the submit */
    } else if (s->listed != ph->b->nkeys) {
        failure(ph, "lister %zu saw %zu keys, expected %zu", s->unit, s->listed, ph->b->nkeys);
    }
    slot_next(s);
}

static void phase_init(struct phase *ph, struct bench *b, enum bench_op op, int set, int conc)
{
    memset(ph, 0, sizeof *ph);
    ph->b = b;
    ph->op = op;
    ph->set = set;
    ph->conc = conc;
    ph->total = b->o.objects;
    if (op == OP_LIST)
        ph->total = (size_t)conc;
    if (op == OP_DELETE)
        ph->total = (b->nkeys + DELETE_BATCH - 1) / DELETE_BATCH;
}

static void phase_start(struct phase *ph)
{
    ph->cpu0_us = cpu_now_us();
    ph->t0_ns = uv_hrtime();
}

/* Ends the phase's clocks and records its row. */
static void phase_record(struct phase *ph, const char *client)
{
    uint64_t elapsed_ns = uv_hrtime() - ph->t0_ns;
    double cpu_us = (double)(cpu_now_us() - ph->cpu0_us);
    struct bench *b = ph->b;
    qsort(ph->lat_ns, ph->nlat, sizeof *ph->lat_ns, cmp_u64);
    if (b->nrows < MAX_ROWS) {
        struct row *r = &b->rows[b->nrows++];
        *r = (struct row){.client = client, .op = ph->op, .conc = ph->conc, .items = ph->items};
        r->seconds = (double)elapsed_ns / 1e9;
        r->bytes = ph->bytes;
        r->p50_ms = pct_ms(ph->lat_ns, ph->nlat, 50);
        r->p99_ms = pct_ms(ph->lat_ns, ph->nlat, 99);
        r->cpu_us = cpu_us;
    }
    if (ph->errors > ERRORS_SHOWN)
        fprintf(stderr, "bench_s3: %s c=%d: %zu more failures not shown\n", op_names[ph->op],
                ph->conc, ph->errors - ERRORS_SHOWN);
    free(ph->lat_ns);
    ph->lat_ns = NULL;
}

/* Runs ph on client c with ph->conc requests in flight and records its row. */
static void phase_run_async(struct phase *ph, struct spoor_s3_client *c)
{
    struct bench *b = ph->b;
    ph->c = c;
    ph->slots = calloc((size_t)ph->conc, sizeof *ph->slots);
    if (!ph->slots)
        abort();
    fprintf(stderr, "bench_s3: %s, concurrency %d ...\n", op_names[ph->op], ph->conc);
    phase_start(ph);
    for (int i = 0; i < ph->conc; i++) {
        struct slot *s = &ph->slots[i];
        s->ph = ph;
        s->body = ph->op == OP_PUT ? xmalloc(b->o.size_bytes) : NULL;
        while (ph->next < ph->total) {
            s->unit = ph->next++;
            if (slot_submit(s, NULL) == 0)
                break;
            ph->done++;
        }
    }
    if (ph->done < ph->total)
        uv_run(&b->loop, UV_RUN_DEFAULT);
    phase_record(ph, "spoor async");
    for (int i = 0; i < ph->conc; i++)
        free(ph->slots[i].body);
    free(ph->slots);
}

/* ---- the blocking runner ---------------------------------------------------------------- */

static void phase_run_exec(struct phase *ph, struct spoor_s3_client *c)
{
    struct bench *b = ph->b;
    struct slot s = {.ph = ph, .body = xmalloc(b->o.size_bytes)};
    fprintf(stderr, "bench_s3: %s, blocking spoor_s3_exec ...\n", op_names[ph->op]);
    phase_start(ph);
    for (s.unit = 0; s.unit < ph->total; s.unit++) {
        struct spoor_s3_op op;
        struct spoor_s3_result res;
        struct spoor_error err;
        op_build(&s, &op, NULL);
        s.t0_ns = uv_hrtime();
        int rc = spoor_s3_exec(c, &op, &res, &err);
        lat_push(ph, uv_hrtime() - s.t0_ns);
        if (rc)
            request_failure(ph, &s, rc, &err);
        else
            unit_account(&s, answer_check(&s, &res));
        spoor_s3_result_cleanup(&res);
    }
    phase_record(ph, "spoor exec");
    free(s.body);
}

/* ---- setup ------------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_s3 [--objects N] [--size BYTES] [--concurrency-list 1,16]\n"
               "                [--no-exec] [--unsigned-payload]\n"
               "Endpoint and keys from SPOOR_TEST_S3_ENDPOINT, SPOOR_TEST_S3_ACCESS_KEY,\n"
               "SPOOR_TEST_S3_SECRET_KEY and SPOOR_TEST_S3_REGION (default us-east-1).\n"
               "Defaults: 2000 objects of 1024 bytes, concurrency 1 and 16.\n");
}

static bool parse_size(const char *s, size_t min, size_t max, size_t *out)
{
    char *end;
    if (!s || !*s || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || v < min || v > max)
        return false;
    *out = (size_t)v;
    return true;
}

/* "1,16": up to MAX_LEVELS levels of 1..1024, no empty items. */
static bool parse_levels(const char *s, struct opts *o)
{
    char item[16];
    o->nlevels = 0;
    while (s) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s), v;
        if (n == 0 || n >= sizeof item || o->nlevels == MAX_LEVELS)
            return false;
        memcpy(item, s, n);
        item[n] = '\0';
        if (!parse_size(item, 1, 1024, &v))
            return false;
        o->levels[o->nlevels++] = (int)v;
        s = comma ? comma + 1 : NULL;
    }
    return o->nlevels > 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){
        .objects = 2000, .size_bytes = 1024, .levels = {1, 16}, .nlevels = 2, .exec_rows = true};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (strcmp(a, "--objects") == 0)
            ok = parse_size(v, 1, 10000000, &o->objects), i++;
        else if (strcmp(a, "--size") == 0)
            ok = parse_size(v, 0, (size_t)1 << 30, &o->size_bytes), i++;
        else if (strcmp(a, "--concurrency-list") == 0)
            ok = parse_levels(v, o), i++;
        else if (strcmp(a, "--no-exec") == 0)
            o->exec_rows = false;
        else if (strcmp(a, "--unsigned-payload") == 0)
            o->unsigned_payload = true;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return usage(stdout), 1;
        else
            ok = false;
        if (!ok) {
            fprintf(stderr, "bench_s3: bad argument %s%s%s\n", a, v ? " " : "", v ? v : "");
            return usage(stderr), 2;
        }
    }
    return 0;
}

static bool copy_env(char *dst, size_t size, const char *name, const char *dflt)
{
    const char *v = getenv(name);
    if (!v || !*v)
        v = dflt;
    if (!v || strlen(v) >= size) {
        fprintf(stderr, "bench_s3: set %s (source the env file of tests/harness/rgw.sh)\n", name);
        return false;
    }
    strcpy(dst, v);
    return true;
}

static bool config_from_env(struct spoor_s3_config *cfg, bool unsigned_payload)
{
    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->name, "bench");
    cfg->addressing = SPOOR_S3_ADDRESSING_PATH;
    cfg->unsigned_payload = unsigned_payload;
    strcpy(cfg->creds.source, "SPOOR_TEST_S3_* environment");
    return copy_env(cfg->endpoint_url, sizeof cfg->endpoint_url, "SPOOR_TEST_S3_ENDPOINT", NULL) &&
           copy_env(cfg->creds.access_key_id, sizeof cfg->creds.access_key_id,
                    "SPOOR_TEST_S3_ACCESS_KEY", NULL) &&
           copy_env(cfg->creds.secret_access_key, sizeof cfg->creds.secret_access_key,
                    "SPOOR_TEST_S3_SECRET_KEY", NULL) &&
           copy_env(cfg->region, sizeof cfg->region, "SPOOR_TEST_S3_REGION", "us-east-1");
}

/* Every key the run PUTs, sorted as a listing returns them. */
static void keys_build(struct bench *b)
{
    int sets = b->o.nlevels + (b->o.exec_rows ? 1 : 0);
    b->nkeys = (size_t)sets * b->o.objects;
    b->keys = xmalloc(b->nkeys * sizeof *b->keys);
    for (int set = 0; set < sets; set++) {
        for (size_t i = 0; i < b->o.objects; i++) {
            char *k = xmalloc(KEY_MAX);
            key_of(b, set, i, k);
            b->keys[(size_t)set * b->o.objects + i] = k;
        }
    }
    qsort(b->keys, b->nkeys, sizeof *b->keys, cmp_str);
}

static void random_fill(unsigned char *p, size_t n)
{
    uint64_t x = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid();
    x = x ? x : 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (unsigned char)(x >> 32);
    }
}

/* ---- the run ---------------------------------------------------------------------------- */

/* Opens conc connections: conc HeadBucket requests at once, untimed. */
static void on_warm(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                    void *ud)
{
    int *left = ud;
    if (status)
        fprintf(stderr, "bench_s3: warm-up HeadBucket: %s\n", err->message);
    (*left)--;
}

static void warm_up(struct bench *b, struct spoor_s3_client *c, int conc)
{
    struct spoor_s3_op op = {.kind = SPOOR_S3_HEAD_BUCKET, .bucket = b->bucket};
    struct spoor_error err;
    int left = 0;
    for (int i = 0; i < conc; i++)
        if (spoor_s3_submit(c, &op, on_warm, &left, &err) == 0)
            left++;
    while (left > 0)
        uv_run(&b->loop, UV_RUN_ONCE);
}

static int bucket_create(struct bench *b, struct spoor_s3_client *sync)
{
    struct spoor_s3_op op = {.kind = SPOOR_S3_CREATE_BUCKET, .bucket = b->bucket};
    struct spoor_s3_result res;
    struct spoor_error err;
    int rc = spoor_s3_exec(sync, &op, &res, &err);
    if (rc)
        fprintf(stderr, "bench_s3: cannot create bucket %s: %s\n", b->bucket, err.message);
    spoor_s3_result_cleanup(&res);
    return rc;
}

/* After the DELETE phase the bucket must list empty. */
static void bucket_check_empty(struct bench *b, struct spoor_s3_client *sync)
{
    struct spoor_s3_op op = {.kind = SPOOR_S3_LIST_OBJECTS, .bucket = b->bucket, .max_keys = 10};
    struct spoor_s3_result res;
    struct spoor_error err;
    int rc = spoor_s3_exec(sync, &op, &res, &err);
    if (rc || res.list.nobjects) {
        fprintf(stderr, "bench_s3: bucket %s not empty after cleanup: %s\n", b->bucket,
                rc ? err.message : "keys remain");
        b->errors++;
    }
    spoor_s3_result_cleanup(&res);
}

static void run_async_op(struct bench *b, struct spoor_s3_client **cs, enum bench_op op)
{
    for (int i = 0; i < b->o.nlevels; i++) {
        struct phase ph;
        phase_init(&ph, b, op, i, b->o.levels[i]);
        phase_run_async(&ph, cs[i]);
    }
}

static void run_exec_op(struct bench *b, struct spoor_s3_client *sync, enum bench_op op)
{
    struct phase ph;
    if (!b->o.exec_rows)
        return;
    phase_init(&ph, b, op, b->o.nlevels, 1);
    phase_run_exec(&ph, sync);
}

static void run_all(struct bench *b, struct spoor_s3_client **cs, struct spoor_s3_client *sync)
{
    int widest = 0;
    for (int i = 0; i < b->o.nlevels; i++) {
        warm_up(b, cs[i], b->o.levels[i]);
        widest = b->o.levels[i] > b->o.levels[widest] ? i : widest;
    }
    run_async_op(b, cs, OP_PUT);
    run_exec_op(b, sync, OP_PUT);
    run_async_op(b, cs, OP_GET);
    run_exec_op(b, sync, OP_GET);
    run_async_op(b, cs, OP_HEAD);
    run_async_op(b, cs, OP_LIST);

    struct phase del;
    phase_init(&del, b, OP_DELETE, 0, b->o.levels[widest]);
    if ((size_t)del.conc > del.total)
        del.conc = (int)del.total;
    phase_run_async(&del, cs[widest]);
    bucket_check_empty(b, sync);
}

static void print_table(const struct bench *b)
{
    printf("| %-12s | %-6s | %4s | %8s | %8s | %9s | %7s | %7s | %7s | %9s |\n", "client", "op",
           "conc", "objects", "seconds", "ops/s", "MB/s", "p50 ms", "p99 ms", "cpu us/op");
    printf("|--------------|--------|-----:|---------:|---------:|----------:|--------:|"
           "--------:|--------:|----------:|\n");
    for (size_t i = 0; i < b->nrows; i++) {
        const struct row *r = &b->rows[i];
        char mbs[16] = "-";
        if (r->bytes > 0)
            snprintf(mbs, sizeof mbs, "%.2f", r->bytes / 1e6 / r->seconds);
        printf("| %-12s | %-6s | %4d | %8zu | %8.3f | %9.0f | %7s | %7.2f | %7.2f | %9.1f |\n",
               r->client, op_names[r->op], r->conc, r->items, r->seconds,
               (double)r->items / r->seconds, mbs, r->p50_ms, r->p99_ms,
               r->items ? r->cpu_us / (double)r->items : 0.0);
    }
}

/* Engines and clients: one async engine per level on b->loop, one blocking engine. */
static int bench_main(struct bench *b)
{
    struct spoor_s3_engine *es[MAX_LEVELS] = {0}, *sync_e = spoor_s3_engine_new(NULL, NULL);
    struct spoor_s3_client *cs[MAX_LEVELS] = {0}, *sync_c = NULL;
    struct spoor_error err = {0};
    int rc = 1;
    bool ok = sync_e && (sync_c = spoor_s3_client_new(sync_e, &b->cfg, &err));
    for (int i = 0; ok && i < b->o.nlevels; i++) {
        struct spoor_s3_engine_opts eo = {.max_concurrency = b->o.levels[i]};
        ok = (es[i] = spoor_s3_engine_new(&b->loop, &eo)) &&
             (cs[i] = spoor_s3_client_new(es[i], &b->cfg, &err));
    }
    if (!ok) {
        fprintf(stderr, "bench_s3: setup failed: %s\n",
                err.message[0] ? err.message : "curl could not start");
        goto fail;
    }
    fprintf(stderr, "bench_s3: %s bucket %s, %zu objects of %zu bytes per set\n",
            b->cfg.endpoint_url, b->bucket, b->o.objects, b->o.size_bytes);
    if (bucket_create(b, sync_c) != 0)
        goto fail;
    run_all(b, cs, sync_c);
    print_table(b);
    rc = 0;
fail:
    for (int i = 0; i < b->o.nlevels; i++) {
        spoor_s3_client_free(cs[i]);
        if (es[i])
            spoor_s3_engine_close(es[i], NULL, NULL);
    }
    uv_run(&b->loop, UV_RUN_DEFAULT); /* lets the closed engines' handles go */
    spoor_s3_client_free(sync_c);
    if (sync_e)
        spoor_s3_engine_close(sync_e, NULL, NULL);
    return rc;
}

int main(int argc, char **argv)
{
    struct bench b;
    memset(&b, 0, sizeof b);
    int rc = parse_args(argc, argv, &b.o);
    if (rc)
        return rc == 1 ? 0 : 2;
    if (!config_from_env(&b.cfg, b.o.unsigned_payload))
        return 2;
    snprintf(b.bucket, sizeof b.bucket, "bench-s3-%ld-%ld", (long)time(NULL), (long)getpid());
    b.base = xmalloc(b.o.size_bytes);
    b.expected = xmalloc(b.o.size_bytes);
    random_fill(b.base, b.o.size_bytes);
    keys_build(&b);
    uv_loop_init(&b.loop);

    rc = bench_main(&b);
    if (uv_loop_close(&b.loop) != 0)
        fprintf(stderr, "bench_s3: warning: the loop still has open handles\n");
    if (b.errors) {
        fprintf(stderr, "bench_s3: %zu failed requests or wrong answers: the run is invalid\n",
                b.errors);
        rc = 1;
    }
    for (size_t i = 0; i < b.nkeys; i++)
        free(b.keys[i]);
    free(b.keys);
    free(b.base);
    free(b.expected);
    return rc;
}
