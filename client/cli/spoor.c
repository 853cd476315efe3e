/*
 * spoor: the command-line tool. Object commands on s3://bucket/key URIs (ls, get, put, rm, cp,
 * mb, presign) through libspoor's S3 client, configured from the standard AWS environment.
 * It is a thin program: every S3 request goes through the one engine in client/lib.
 *
 * Exit codes: 0 success, 1 the operation failed (S3 or network error), 2 usage error,
 * 3 configuration error, 4 the object or bucket does not exist.
 */
#include <spoor/s3.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_CONFIG = 3, EXIT_NOT_FOUND = 4 };

struct ctx {
    struct spoor_s3_engine *engine;
    struct spoor_s3_client *client;
    const char *profile;
    const char *endpoint_url;
    const char *region;
    const char *content_type;
    bool recursive;
    long expires_s;
};

struct s3_uri {
    char bucket[256];
    char key[1025];
};

static const char usage_text[] =
    "usage: spoor [options] COMMAND ARGS\n"
    "\n"
    "commands:\n"
    "  ls s3://BUCKET[/PREFIX]       list keys (one level; -r for everything below)\n"
    "  get s3://BUCKET/KEY [FILE|-]  download an object (default: to standard output)\n"
    "  put FILE|- s3://BUCKET/KEY    upload a file (multipart when large) or standard input\n"
    "  rm s3://BUCKET/KEY...         delete objects\n"
    "  cp SRC DST                    copy: s3 to s3 (server side), file to s3, s3 to file\n"
    "  mb s3://BUCKET                create a bucket\n"
    "  presign s3://BUCKET/KEY       print a presigned GET URL (--expires seconds)\n"
    "\n"
    "options:\n"
    "  --profile NAME       profile of the shared credentials file (default: AWS_PROFILE)\n"
    "  --endpoint-url URL   S3 endpoint (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS)\n"
    "  --region REGION      signing region (default: AWS_REGION, AWS_DEFAULT_REGION)\n"
    "  --content-type TYPE  content type for put and cp\n"
    "  -r, --recursive      ls: list every key under the prefix\n"
    "  --expires SECONDS    presign: lifetime of the URL (default 3600)\n"
    "  -h, --help           this text\n"
    "\n"
    "Credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY(/AWS_SESSION_TOKEN) or the\n"
    "shared credentials file. Exit codes: 0 ok, 1 failed, 2 usage, 3 configuration, 4 not found.\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "spoor: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nRun 'spoor --help' for usage.\n");
    return EXIT_USAGE;
}

static int parse_uri(const char *s, struct s3_uri *u, bool need_key)
{
    if (strncmp(s, "s3://", 5) != 0)
        return usage_error("'%s' is not an s3://bucket/key URI", s);
    const char *b = s + 5, *slash = strchr(b, '/');
    size_t blen = slash ? (size_t)(slash - b) : strlen(b);
    const char *key = slash ? slash + 1 : "";
    if (blen == 0 || blen >= sizeof u->bucket || strlen(key) >= sizeof u->key)
        return usage_error("'%s' has an empty or too long bucket or key", s);
    memcpy(u->bucket, b, blen);
    u->bucket[blen] = '\0';
    memcpy(u->key, key, strlen(key) + 1);
    if (need_key && !u->key[0])
        return usage_error("'%s' names no object key", s);
    return 0;
}

static int report(int rc, const struct spoor_error *err)
{
    if (rc == 0)
        return EXIT_OK;
    fprintf(stderr, "spoor: %s\n", err->message[0] ? err->message : spoor_strerror(rc));
    if (rc == SPOOR_E_S3 &&
        (strcmp(err->s3_code, "NoSuchKey") == 0 || strcmp(err->s3_code, "NoSuchBucket") == 0))
        return EXIT_NOT_FOUND;
    return rc == SPOOR_E_CONFIG ? EXIT_CONFIG : EXIT_FAILED;
}

static int exec_op(struct ctx *cx, const struct spoor_s3_op *op, struct spoor_s3_result *res)
{
    struct spoor_error err;
    int rc = spoor_s3_exec(cx->client, op, res, &err);
    return report(rc, &err);
}

static int cmd_ls(struct ctx *cx, const struct s3_uri *u)
{
    char token[2048] = "";
    struct spoor_s3_op op = {.kind = SPOOR_S3_LIST_OBJECTS,
                             .bucket = u->bucket,
                             .prefix = u->key,
                             .delimiter = cx->recursive ? NULL : "/"};
    for (;;) {
        op.continuation_token = token[0] ? token : NULL;
        struct spoor_s3_result res;
        int code = exec_op(cx, &op, &res);
        if (code) {
            spoor_s3_result_cleanup(&res);
            return code;
        }
        const struct spoor_s3_list *l = &res.list;
        for (size_t i = 0; i < l->nprefixes; i++)
            printf("%30s  s3://%s/%s\n", "PRE", u->bucket, l->common_prefixes[i]);
        for (size_t i = 0; i < l->nobjects; i++)
            printf("%s %12lld  s3://%s/%s\n", l->objects[i].last_modified,
                   (long long)l->objects[i].size, u->bucket, l->objects[i].key);
        bool more = l->is_truncated && l->next_continuation_token;
        if (more)
            snprintf(token, sizeof token, "%s", l->next_continuation_token);
        spoor_s3_result_cleanup(&res);
        if (!more)
            return EXIT_OK;
    }
}

static int write_stdout(const void *data, size_t len, void *ud)
{
    return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

static int cmd_get(struct ctx *cx, const struct s3_uri *u, const char *dest)
{
    struct spoor_s3_op op = {.kind = SPOOR_S3_GET_OBJECT, .bucket = u->bucket, .key = u->key};
    if (!dest || strcmp(dest, "-") == 0)
        op.sink.data_cb = write_stdout;
    else
        op.sink.path = dest;
    struct spoor_s3_result res;
    int code = exec_op(cx, &op, &res);
    spoor_s3_result_cleanup(&res);
    if (fflush(stdout) != 0 && code == 0) {
        fprintf(stderr, "spoor: cannot write to standard output: %s\n", strerror(errno));
        return EXIT_FAILED;
    }
    return code;
}

/* Standard input goes into a temporary file first, so that its length is known and a large
 * input can still be sent in parts without being held in memory. */
static int stdin_to_tmp(char *path, size_t size)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, size, "%s/spoor-put-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0)
        return -errno;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
        if (write(fd, chunk, n) != (ssize_t)n) {
            int rc = -errno;
            close(fd);
            unlink(path);
            return rc;
        }
    }
    close(fd);
    return 0;
}

static int cmd_put(struct ctx *cx, const char *src, const struct s3_uri *u)
{
    char tmp[4096] = "";
    if (strcmp(src, "-") == 0) {
        int rc = stdin_to_tmp(tmp, sizeof tmp);
        if (rc) {
            fprintf(stderr, "spoor: cannot buffer standard input: %s\n", spoor_strerror(rc));
            return EXIT_FAILED;
        }
        src = tmp;
    }
    struct spoor_s3_upload_opts o = {.content_type = cx->content_type};
    struct spoor_s3_result res;
    struct spoor_error err;
    int rc = spoor_s3_upload_file_exec(cx->client, u->bucket, u->key, src, &o, &res, &err);
    spoor_s3_result_cleanup(&res);
    if (tmp[0])
        unlink(tmp);
    return report(rc, &err);
}

static int cmd_simple(struct ctx *cx, enum spoor_s3_op_kind kind, const struct s3_uri *u)
{
    struct spoor_s3_op op = {.kind = kind, .bucket = u->bucket, .key = u->key[0] ? u->key : NULL};
    struct spoor_s3_result res;
    int code = exec_op(cx, &op, &res);
    spoor_s3_result_cleanup(&res);
    return code;
}

static int cmd_cp(struct ctx *cx, const char *src, const char *dst)
{
    struct s3_uri a, b;
    bool src_s3 = strncmp(src, "s3://", 5) == 0, dst_s3 = strncmp(dst, "s3://", 5) == 0;
    if (src_s3 && parse_uri(src, &a, true))
        return EXIT_USAGE;
    if (dst_s3 && parse_uri(dst, &b, true))
        return EXIT_USAGE;
    if (src_s3 && dst_s3) {
        struct spoor_s3_op op = {.kind = SPOOR_S3_COPY_OBJECT,
                                 .bucket = b.bucket,
                                 .key = b.key,
                                 .src_bucket = a.bucket,
                                 .src_key = a.key};
        struct spoor_s3_result res;
        int code = exec_op(cx, &op, &res);
        spoor_s3_result_cleanup(&res);
        return code;
    }
    if (src_s3)
        return cmd_get(cx, &a, dst);
    if (dst_s3)
        return cmd_put(cx, src, &b);
    return usage_error("cp needs at least one s3:// URI ('%s' is local)", src);
}

static int cmd_presign(struct ctx *cx, const struct s3_uri *u)
{
    char *url = NULL;
    struct spoor_error err;
    int rc = spoor_s3_presign(cx->client, "GET", u->bucket, u->key, cx->expires_s, 0, &url, &err);
    if (rc == 0)
        printf("%s\n", url);
    free(url);
    return report(rc, &err);
}

static int setup(struct ctx *cx)
{
    struct spoor_s3_config cfg;
    struct spoor_error err;
    int rc = spoor_s3_config_from_env(&cfg, cx->profile, &err);
    if (rc) {
        fprintf(stderr, "spoor: %s\n", err.message);
        return EXIT_CONFIG;
    }
    if (cx->endpoint_url)
        snprintf(cfg.endpoint_url, sizeof cfg.endpoint_url, "%s", cx->endpoint_url);
    if (cx->region)
        snprintf(cfg.region, sizeof cfg.region, "%s", cx->region);
    cx->engine = spoor_s3_engine_new(NULL, NULL);
    cx->client = cx->engine ? spoor_s3_client_new(cx->engine, &cfg, &err) : NULL;
    if (!cx->client) {
        fprintf(stderr, "spoor: %s\n", cx->engine ? err.message : "cannot start libcurl");
        return EXIT_CONFIG;
    }
    return 0;
}

static int run(struct ctx *cx, int argc, char **argv)
{
    const char *cmd = argv[0];
    struct s3_uri u;
    if (strcmp(cmd, "ls") == 0 && argc == 2)
        return parse_uri(argv[1], &u, false) ?: cmd_ls(cx, &u);
    if (strcmp(cmd, "get") == 0 && (argc == 2 || argc == 3))
        return parse_uri(argv[1], &u, true) ?: cmd_get(cx, &u, argc == 3 ? argv[2] : NULL);
    if (strcmp(cmd, "put") == 0 && argc == 3)
        return parse_uri(argv[2], &u, true) ?: cmd_put(cx, argv[1], &u);
    if (strcmp(cmd, "cp") == 0 && argc == 3)
        return cmd_cp(cx, argv[1], argv[2]);
    if (strcmp(cmd, "mb") == 0 && argc == 2)
        return parse_uri(argv[1], &u, false) ?: cmd_simple(cx, SPOOR_S3_CREATE_BUCKET, &u);
    if (strcmp(cmd, "presign") == 0 && argc == 2)
        return parse_uri(argv[1], &u, true) ?: cmd_presign(cx, &u);
    if (strcmp(cmd, "rm") == 0 && argc >= 2) {
        int worst = 0;
        for (int i = 1; i < argc; i++) {
            int code = parse_uri(argv[i], &u, true) ?: cmd_simple(cx, SPOOR_S3_DELETE_OBJECT, &u);
            worst = code > worst ? code : worst;
        }
        return worst;
    }
    return usage_error("unknown command or wrong number of arguments: '%s'", cmd);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"profile", required_argument, 0, 'p'},  {"endpoint-url", required_argument, 0, 'e'},
        {"region", required_argument, 0, 'g'},   {"content-type", required_argument, 0, 't'},
        {"recursive", no_argument, 0, 'r'},      {"expires", required_argument, 0, 'x'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    struct ctx cx = {.expires_s = 3600};
    int ch;
    while ((ch = getopt_long(argc, argv, "rh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'p': cx.profile = optarg; break;
        case 'e': cx.endpoint_url = optarg; break;
        case 'g': cx.region = optarg; break;
        case 't': cx.content_type = optarg; break;
        case 'r': cx.recursive = true; break;
        case 'x': {
            char *end;
            cx.expires_s = strtol(optarg, &end, 10);
            if (*end || cx.expires_s <= 0)
                return usage_error("--expires wants a positive number of seconds, not '%s'", optarg);
            break;
        }
        case 'h': fputs(usage_text, stdout); return EXIT_OK;
        default: return usage_error("%s", "unknown option");
        }
    }
    if (optind >= argc)
        return usage_error("%s", "no command given");
    int code = setup(&cx);
    if (code == 0)
        code = run(&cx, argc - optind, argv + optind);
    if (cx.client)
        spoor_s3_client_free(cx.client);
    if (cx.engine)
        spoor_s3_engine_close(cx.engine, NULL, NULL);
    return code;
}
