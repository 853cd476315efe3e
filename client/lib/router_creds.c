/*
 * router_creds.c: resolves an endpoint of the routes file into a client configuration: URL,
 * region, addressing and credentials, each from the endpoint's own settings first and then
 * from the standard chain of its type. Credentials never cross types: an s3 endpoint reads
 * AWS_* and the shared credentials file, never LAKECTL_*; a lakefs endpoint reads LAKECTL_*
 * and ~/.lakectl.yaml, never AWS_*. An endpoint that names its own variables reads only those.
 *
 * The lakectl file is YAML; only its two-level "section:\n  key: value" form is read (what
 * lakectl writes: credentials.access_key_id, credentials.secret_access_key,
 * server.endpoint_url). Anything else in the file is ignored.
 */
#include "router_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "creds.h"
#include "util.h"

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && v[0] ? v : NULL;
}

/* Named variables (access_key_id_env etc.): all or nothing, and only those. */
static int creds_named(const struct route_endpoint *def, struct spoor_s3_credentials *c,
                       struct spoor_error *err)
{
    const struct route_creds_spec *s = &def->creds;
    int rc = creds_from_env_vars(c, s->access_key_id_env, s->secret_access_key_env,
                                 s->session_token_env[0] ? s->session_token_env : NULL, err);
    if (rc == -ENOENT)
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "endpoint %s: its credentials variables %s and %s are not set; "
                               "export them or change \"credentials\" of the endpoint",
                               def->name, s->access_key_id_env, s->secret_access_key_env);
    return rc;
}

static int s3_creds(const struct route_endpoint *def, struct spoor_s3_config *cfg,
                    struct spoor_error *err)
{
    if (def->creds.access_key_id_env[0])
        return creds_named(def, &cfg->creds, err);
    if (def->creds.profile[0])
        return spoor_s3_credentials_from_file(&cfg->creds, NULL, def->creds.profile, err);
    struct spoor_s3_config std;
    int rc = spoor_s3_config_from_env(&std, NULL, err);
    if (rc) {
        char msg[sizeof err->message];
        snprintf(msg, sizeof msg, "%s", err->message);
        return spoor_error_set(err, rc, "endpoint %s: %s", def->name, msg);
    }
    cfg->creds = std.creds;
    return 0;
}

/* "key: value" of a two-level YAML mapping, value unquoted. */
static bool yaml_get(const char *text, const char *section, const char *key, char *out, size_t size)
{
    bool in = false;
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        size_t indent = strspn(line, " ");
        if (indent == 0 && n > 0 && line[0] != '#')
            in = n == strlen(section) + 1 && strncmp(line, section, strlen(section)) == 0 &&
                 line[n - 1] == ':';
        else if (in && indent > 0 && strncmp(line + indent, key, strlen(key)) == 0 &&
                 line[indent + strlen(key)] == ':') {
            const char *v = line + indent + strlen(key) + 1;
            size_t vn = n - (size_t)(v - line);
            while (vn && (*v == ' ' || *v == '"' || *v == '\''))
                v++, vn--;
            while (vn &&
                   (v[vn - 1] == ' ' || v[vn - 1] == '"' || v[vn - 1] == '\'' || v[vn - 1] == '\r'))
                vn--;
            snprintf(out, size, "%.*s", (int)vn, v);
            return vn > 0;
        }
        line = end ? end + 1 : NULL;
    }
    return false;
}

static char *read_small_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = xmalloc(65537);
    size_t n = fread(buf, 1, 65536, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static int lakectl_file(const struct route_endpoint *def, struct spoor_s3_config *cfg, char *url,
                        size_t url_size, struct spoor_error *err)
{
    const char *shown = env("LAKECTL_CONFIG_FILE") ? env("LAKECTL_CONFIG_FILE") : "~/.lakectl.yaml";
    char path[CREDS_PATH_MAX];
    if (creds_expand_home(shown, path, sizeof path, err) != 0)
        return SPOOR_E_CONFIG;
    char *text = read_small_file(path);
    struct spoor_s3_credentials *c = &cfg->creds;
    bool ok =
        text &&
        yaml_get(text, "credentials", "access_key_id", c->access_key_id, sizeof c->access_key_id) &&
        yaml_get(text, "credentials", "secret_access_key", c->secret_access_key,
                 sizeof c->secret_access_key);
    if (ok && !url[0])
        yaml_get(text, "server", "endpoint_url", url, url_size);
    free(text);
    if (!ok)
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "endpoint %s: no lakeFS credentials: set "
                               "LAKECTL_CREDENTIALS_ACCESS_KEY_ID and "
                               "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY, or write them to %s, or "
                               "name variables in the endpoint's \"credentials\"",
                               def->name, shown);
    snprintf(c->source, sizeof c->source, "lakectl file %s", shown);
    return 0;
}

static int lakefs_creds(const struct route_endpoint *def, struct spoor_s3_config *cfg, char *url,
                        size_t url_size, struct spoor_error *err)
{
    if (def->creds.access_key_id_env[0])
        return creds_named(def, &cfg->creds, err);
    int rc = creds_from_env_vars(&cfg->creds, "LAKECTL_CREDENTIALS_ACCESS_KEY_ID",
                                 "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY", NULL, err);
    if (rc != -ENOENT)
        return rc;
    return lakectl_file(def, cfg, url, url_size, err);
}

/* lakeFS serves its S3 gateway at the server root: a URL ending in /api/v1 is cut back. */
static void strip_api_path(char *url)
{
    size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        url[--n] = '\0';
    if (n >= 7 && strcmp(url + n - 7, "/api/v1") == 0)
        url[n - 7] = '\0';
}

static int resolve_url(const struct route_endpoint *def, char *raw, struct spoor_s3_config *cfg,
                       struct spoor_error *err)
{
    if (def->type == ROUTE_EP_LAKEFS) {
        if (!raw[0])
            return spoor_error_set(err, SPOOR_E_CONFIG,
                                   "endpoint %s: no lakeFS URL: set \"url\" on the endpoint or "
                                   "LAKECTL_SERVER_ENDPOINT_URL",
                                   def->name);
        strip_api_path(raw);
    }
    if (!raw[0])
        return 0; /* AWS for the region */
    char what[128];
    snprintf(what, sizeof what, "the URL of endpoint %s", def->name);
    return creds_endpoint_url_normalize(raw, what, cfg->endpoint_url, sizeof cfg->endpoint_url,
                                        err);
}

int rt_endpoint_config(const struct route_endpoint *def, struct spoor_s3_config *cfg,
                       struct spoor_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->name, sizeof cfg->name, "%s", def->name);
    char url[512] = "";
    const char *region = def->region[0] ? def->region : NULL;
    int rc;
    if (def->type == ROUTE_EP_LAKEFS) {
        snprintf(
            url, sizeof url, "%s",
            def->url[0]
                ? def->url
                : (env("LAKECTL_SERVER_ENDPOINT_URL") ? env("LAKECTL_SERVER_ENDPOINT_URL") : ""));
        rc = lakefs_creds(def, cfg, url, sizeof url, err);
        region = "us-east-1";
        cfg->addressing = SPOOR_S3_ADDRESSING_PATH;
    } else {
        const char *e =
            env("AWS_ENDPOINT_URL_S3") ? env("AWS_ENDPOINT_URL_S3") : env("AWS_ENDPOINT_URL");
        snprintf(url, sizeof url, "%s", def->url[0] ? def->url : (e ? e : ""));
        rc = s3_creds(def, cfg, err);
        if (!region)
            region = env("AWS_REGION") ? env("AWS_REGION") : env("AWS_DEFAULT_REGION");
        cfg->addressing = def->addressing;
    }
    if (rc)
        return rc;
    snprintf(cfg->region, sizeof cfg->region, "%s", region ? region : "us-east-1");
    return resolve_url(def, url, cfg, err);
}
