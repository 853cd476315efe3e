/*
 * creds.c: where an AWS-type endpoint's credentials, region and URL come from, following the
 * AWS CLI's chain (router spec 6.8), and the INI reader for ~/.aws/credentials and ~/.aws/config.
 *
 *   credentials: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN)
 *                -> shared credentials file [profile] -> config file [profile NAME] -> error
 *   region:      AWS_REGION -> AWS_DEFAULT_REGION -> region of the profile in the config file
 *                -> "us-east-1"
 *   endpoint:    AWS_ENDPOINT_URL_S3 -> AWS_ENDPOINT_URL -> "" (AWS)
 *
 * An explicit profile argument skips the environment keys, as `aws --profile` does: a route's
 * endpoint that names a profile must never pick up another account's AWS_* keys. AWS_PROFILE
 * only chooses the profile the files are read with; environment keys still win over it.
 *
 * What it is not: no role assumption, SSO, credential_process or instance metadata; a profile
 * that relies on one of those is reported as such. No YAML (lakectl) here either: lakeFS
 * endpoints reuse creds_from_env_vars() with LAKECTL_* names.
 *
 * spoor_s3_credentials_from_file() with a NULL path reads AWS_SHARED_CREDENTIALS_FILE, else
 * ~/.aws/credentials; with a NULL profile, AWS_PROFILE, else "default".
 *
 * Invariants: no credential, region or URL is truncated (longer than its field is an error;
 * only the source label and messages may be cut); no message contains a secret key or session
 * token, nor a URL with user info; on failure the credentials struct is left zeroed.
 */
#include "creds.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"

/* ---- INI parsing ----------------------------------------------------------------------- */

struct parse_state {
    struct ini *ini;
    const char *name;    /* file as shown in messages */
    const char *section; /* current section (owned by its header entry), NULL before one */
    const char *key;     /* last top-level key, parent of indented sub-properties */
    size_t key_indent;
    unsigned line;
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *n)
{
    while (*n && is_blank(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && is_blank((*s)[*n - 1]))
        (*n)--;
}

/* Takes section, key and value. */
static void ini_push(struct ini *ini, char *section, char *key, char *value, unsigned line)
{
    if (ini->n == ini->cap) {
        ini->cap = ini->cap ? ini->cap * 2 : 16;
        ini->v = xrealloc(ini->v, ini->cap * sizeof *ini->v);
    }
    ini->v[ini->n++] = (struct ini_entry){section, key, value, line};
}

static int parse_section(struct parse_state *ps, const char *s, size_t n, struct spoor_error *err)
{
    const char *close = memchr(s, ']', n);
    if (!close)
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "%s line %u: section header has no closing ']': fix the line",
                               ps->name, ps->line);
    const char *rest = close + 1;
    size_t rn = n - (size_t)(rest - s);
    trim(&rest, &rn);
    if (rn && rest[0] != '#' && rest[0] != ';')
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "%s line %u: text after the section header's ']': remove it",
                               ps->name, ps->line);
    const char *name = s + 1;
    size_t nn = (size_t)(close - name);
    trim(&name, &nn);
    if (nn == 0)
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "%s line %u: empty section name []: name it or remove it", ps->name,
                               ps->line);
    char *sec = xstrndup(name, nn);
    ini_push(ps->ini, sec, NULL, NULL, ps->line);
    ps->section = sec;
    ps->key = NULL;
    return 0;
}

static char *key_dup(const char *parent, const char *s, size_t n)
{
    size_t pn = parent ? strlen(parent) + 1 : 0;
    char *k = xmalloc(pn + n + 1);
    if (parent) {
        memcpy(k, parent, pn - 1);
        k[pn - 1] = '.';
    }
    for (size_t i = 0; i < n; i++)
        k[pn + i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    k[pn + n] = '\0';
    return k;
}

static int parse_assignment(struct parse_state *ps, const char *s, size_t n, size_t indent,
                            struct spoor_error *err)
{
    const char *eq = memchr(s, '=', n);
    bool sub = ps->key && indent > ps->key_indent;
    if (!eq && sub)
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "%s line %u: indented line under '%s' is not 'name = value': "
                               "fix it or unindent it",
                               ps->name, ps->line, ps->key);
    if (!eq)
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "%s line %u: expected '[section]' or 'name = value': fix or "
                               "remove the line",
                               ps->name, ps->line);
    if (!ps->section)
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "%s line %u: 'name = value' before any [section]: put it under "
                               "a section such as [default]",
                               ps->name, ps->line);
    const char *k = s, *v = eq + 1;
    size_t kn = (size_t)(eq - s), vn = n - kn - 1;
    trim(&k, &kn);
    trim(&v, &vn);
    if (kn == 0)
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "%s line %u: '=' with no name before it: fix the line", ps->name,
                               ps->line);
    char *key = key_dup(sub ? ps->key : NULL, k, kn);
    ini_push(ps->ini, xstrdup(ps->section), key, xstrndup(v, vn), ps->line);
    if (!sub) {
        ps->key = key;
        ps->key_indent = indent;
    }
    return 0;
}

static int parse_line(struct parse_state *ps, const char *s, size_t n, struct spoor_error *err)
{
    size_t indent = 0;
    while (indent < n && is_blank(s[indent]))
        indent++;
    s += indent;
    n -= indent;
    if (n == 0 || s[0] == '#' || s[0] == ';')
        return 0;
    if (s[0] == '[')
        return parse_section(ps, s, n, err);
    return parse_assignment(ps, s, n, indent, err);
}

int ini_parse(struct ini *ini, const char *text, size_t len, const char *name,
              struct spoor_error *err)
{
    memset(ini, 0, sizeof *ini);
    struct parse_state ps = {.ini = ini, .name = name};
    size_t pos = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len, n = end - pos;
        ps.line++;
        if (n > INI_MAX_LINE_BYTES)
            return spoor_error_set(err, SPOOR_E_CONFIG,
                                   "%s line %u is longer than %d bytes: is this the right file?",
                                   name, ps.line, INI_MAX_LINE_BYTES);
        if (n && text[pos + n - 1] == '\r')
            n--;
        if (memchr(text + pos, '\0', n))
            return spoor_error_set(err, SPOOR_E_CONFIG,
                                   "%s line %u contains a NUL byte: is this the right file?", name,
                                   ps.line);
        int rc = parse_line(&ps, text + pos, n, err);
        if (rc)
            return rc;
        pos = end + 1;
    }
    return 0;
}

static int read_file(const char *path, const char *shown, struct buf *out, struct spoor_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return spoor_error_set(err, -e, "cannot read %s: %s", shown, strerror(e));
    }
    char chunk[8192];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (buf_append(out, chunk, n) != 0) {
            rc = spoor_error_set(err, SPOOR_E_CONFIG,
                                 "%s is larger than %d bytes: is this the right file?", shown,
                                 INI_MAX_FILE_BYTES);
            goto done;
        }
    }
    if (ferror(f)) {
        int e = errno ? errno : EIO;
        rc = spoor_error_set(err, -e, "cannot read %s: %s", shown, strerror(e));
    }
done:
    fclose(f);
    return rc;
}

int ini_load(struct ini *ini, const char *path, const char *shown, struct spoor_error *err)
{
    struct buf b;
    buf_init(&b, INI_MAX_FILE_BYTES);
    memset(ini, 0, sizeof *ini);
    int rc = read_file(path, shown, &b, err);
    if (rc == 0)
        rc = ini_parse(ini, b.data ? b.data : "", b.len, shown, err);
    buf_cleanup(&b);
    return rc;
}

void ini_cleanup(struct ini *ini)
{
    for (size_t i = 0; i < ini->n; i++) {
        free(ini->v[i].section);
        free(ini->v[i].key);
        free(ini->v[i].value);
    }
    free(ini->v);
    memset(ini, 0, sizeof *ini);
}

/* ---- INI lookups ----------------------------------------------------------------------- */

/* style NULL: section is exactly want; else want is a profile named as *style names it. */
static bool section_is(const char *section, const char *want, const enum ini_style *style)
{
    if (!style || *style == INI_CREDENTIALS)
        return strcmp(section, want) == 0;
    if (strcmp(want, "default") == 0 && strcmp(section, "default") == 0)
        return true;
    if (strncmp(section, "profile", 7) != 0 || !is_blank(section[7]))
        return false;
    const char *p = section + 7;
    while (is_blank(*p))
        p++;
    return strcmp(p, want) == 0;
}

/* Last entry of the section with key (NULL key: the section's header), or NULL. */
static const struct ini_entry *find(const struct ini *ini, const char *section,
                                    const enum ini_style *style, const char *key)
{
    for (size_t i = ini->n; i-- > 0;) {
        const struct ini_entry *e = &ini->v[i];
        if (!section_is(e->section, section, style))
            continue;
        if (key ? e->key && strcmp(e->key, key) == 0 : !e->key)
            return e;
    }
    return NULL;
}

const char *ini_get(const struct ini *ini, const char *section, const char *key)
{
    const struct ini_entry *e = find(ini, section, NULL, key);
    return e ? e->value : NULL;
}

bool ini_profile_exists(const struct ini *ini, enum ini_style style, const char *profile)
{
    return find(ini, profile, &style, NULL) != NULL;
}

const char *ini_profile_get(const struct ini *ini, enum ini_style style, const char *profile,
                            const char *key)
{
    const struct ini_entry *e = find(ini, profile, &style, key);
    return e ? e->value : NULL;
}

/* ---- credential values ----------------------------------------------------------------- */

static void label_set(char *out, size_t outsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Bounded formatting of a label for messages; a cut label is still a fine label. */
static void label_set(char *out, size_t outsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, outsz, fmt, ap);
    va_end(ap);
}

/* label names the value ("AWS_SECRET_ACCESS_KEY"); the value itself never appears. */
static int check_value(const char *value, size_t fieldsz, const char *label,
                       struct spoor_error *err)
{
    size_t n = strlen(value);
    if (n == 0)
        return spoor_error_set(err, SPOOR_E_CONFIG, "%s is empty: fill it in or remove it", label);
    if (n >= fieldsz)
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "%s is %zu bytes long, more than the %zu spoor accepts: check "
                               "that it holds only the key",
                               label, n, fieldsz - 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c <= ' ' || c == 0x7f)
            return spoor_error_set(err, SPOOR_E_CONFIG,
                                   "%s contains a blank or control character: check how it "
                                   "was copied (quotes, a trailing newline)",
                                   label);
    }
    return 0;
}

static const char *env_get(const char *name)
{
    const char *v = name ? getenv(name) : NULL;
    return v && *v ? v : NULL;
}

/* hint ends the message about a half-set pair: what unsetting both falls back to. */
static int env_vars_read(struct spoor_s3_credentials *c, const char *access_var,
                         const char *secret_var, const char *token_var, const char *hint,
                         struct spoor_error *err)
{
    memset(c, 0, sizeof *c);
    const char *id = env_get(access_var), *secret = env_get(secret_var);
    const char *token = env_get(token_var);
    if (!id && !secret)
        return spoor_error_set(err, -ENOENT, "neither %s nor %s is set", access_var, secret_var);
    if (!id || !secret)
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "%s is set but %s is not: set both, or unset both%s",
                               id ? access_var : secret_var, id ? secret_var : access_var, hint);
    int rc = check_value(id, sizeof c->access_key_id, access_var, err);
    if (rc == 0)
        rc = check_value(secret, sizeof c->secret_access_key, secret_var, err);
    if (rc == 0 && token)
        rc = check_value(token, sizeof c->session_token, token_var, err);
    if (rc) {
        memset(c, 0, sizeof *c);
        return rc;
    }
    str_copy(c->access_key_id, sizeof c->access_key_id, id);
    str_copy(c->secret_access_key, sizeof c->secret_access_key, secret);
    str_copy(c->session_token, sizeof c->session_token, token ? token : "");
    label_set(c->source, sizeof c->source, "environment variables %s/%s%s%s", access_var,
              secret_var, token ? "/" : "", token ? token_var : "");
    return 0;
}

int creds_from_env_vars(struct spoor_s3_credentials *c, const char *access_var,
                        const char *secret_var, const char *token_var, struct spoor_error *err)
{
    return env_vars_read(c, access_var, secret_var, token_var, "", err);
}

/* ---- credentials from an INI file ------------------------------------------------------ */

/* A note for "profile not found" when the file names the profile the other file's way. */
static void naming_hint(char *out, size_t outsz, const struct ini *ini, enum ini_style style,
                        const char *profile)
{
    out[0] = '\0';
    enum ini_style other = style == INI_CONFIG ? INI_CREDENTIALS : INI_CONFIG;
    if (strcmp(profile, "default") == 0 || !ini_profile_exists(ini, other, profile))
        return;
    if (style == INI_CREDENTIALS)
        label_set(out, outsz,
                  " (it has [profile %s], but the credentials file names profiles "
                  "without 'profile ': write [%s])",
                  profile, profile);
    else
        label_set(out, outsz, " (it has [%s], but the config file names profiles [profile %s])",
                  profile, profile);
}

static const char *unsupported_method(const struct ini *ini, enum ini_style style,
                                      const char *profile)
{
    static const char *const keys[] = {
        "role_arn",      "credential_process",      "sso_session",
        "sso_start_url", "web_identity_token_file", "credential_source"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (ini_profile_get(ini, style, profile, keys[i]))
            return keys[i];
    return NULL;
}

static int profile_without_keys(const struct ini *ini, enum ini_style style, const char *profile,
                                const char *shown, struct spoor_error *err)
{
    const char *method = unsupported_method(ini, style, profile);
    if (method)
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "profile [%s] in %s uses %s, which spoor does not run: export "
                               "keys with `aws configure export-credentials --profile %s "
                               "--format env`",
                               profile, shown, method, profile);
    return spoor_error_set(err, -ENOENT,
                           "profile [%s] in %s has no aws_access_key_id or "
                           "aws_secret_access_key: add both",
                           profile, shown);
}

static int check_profile_value(const char *value, size_t fieldsz, const char *key,
                               const char *profile, const char *shown, struct spoor_error *err)
{
    char label[512];
    label_set(label, sizeof label, "%s of profile [%s] in %s", key, profile, shown);
    return check_value(value, fieldsz, label, err);
}

int creds_from_ini(struct spoor_s3_credentials *c, const struct ini *ini, enum ini_style style,
                   const char *profile, const char *shown, struct spoor_error *err)
{
    memset(c, 0, sizeof *c);
    if (!ini_profile_exists(ini, style, profile)) {
        char hint[256];
        naming_hint(hint, sizeof hint, ini, style, profile);
        return spoor_error_set(err, -ENOENT, "profile [%s] not found in %s%s", profile, shown,
                               hint);
    }
    const char *id = ini_profile_get(ini, style, profile, "aws_access_key_id");
    const char *secret = ini_profile_get(ini, style, profile, "aws_secret_access_key");
    const char *token = ini_profile_get(ini, style, profile, "aws_session_token");
    if (!id && !secret)
        return profile_without_keys(ini, style, profile, shown, err);
    if (!id || !secret)
        return spoor_error_set(err, SPOOR_E_CONFIG, "profile [%s] in %s has %s but no %s: add it",
                               profile, shown, id ? "aws_access_key_id" : "aws_secret_access_key",
                               id ? "aws_secret_access_key" : "aws_access_key_id");
    int rc =
        check_profile_value(id, sizeof c->access_key_id, "aws_access_key_id", profile, shown, err);
    if (rc == 0)
        rc = check_profile_value(secret, sizeof c->secret_access_key, "aws_secret_access_key",
                                 profile, shown, err);
    if (rc == 0 && token)
        rc = check_profile_value(token, sizeof c->session_token, "aws_session_token", profile,
                                 shown, err);
    if (rc)
        return rc;
    str_copy(c->access_key_id, sizeof c->access_key_id, id);
    str_copy(c->secret_access_key, sizeof c->secret_access_key, secret);
    str_copy(c->session_token, sizeof c->session_token, token ? token : "");
    label_set(c->source, sizeof c->source, "%s %s, profile [%s]",
              style == INI_CONFIG ? "config file" : "shared credentials file", shown, profile);
    return 0;
}

/* ---- paths, endpoints, regions --------------------------------------------------------- */

int creds_expand_home(const char *path, char *out, size_t outsz, struct spoor_error *err)
{
    const char *home = "", *rest = path;
    if (path[0] == '~' && (path[1] == '\0' || path[1] == '/')) {
        home = getenv("HOME");
        if (!home || !*home)
            return spoor_error_set(err, SPOOR_E_CONFIG,
                                   "cannot expand ~ in %s: HOME is not set; set HOME or give "
                                   "the full path",
                                   path);
        rest = path + 1;
    }
    size_t hn = strlen(home), rn = strlen(rest);
    if (hn + rn >= outsz)
        return spoor_error_set(err, SPOOR_E_CONFIG, "path %s is longer than %zu bytes", path,
                               outsz - 1);
    memcpy(out, home, hn);
    memcpy(out + hn, rest, rn + 1);
    return 0;
}

static bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

/* host[0..n) is name[:port] or [v6][:port]. */
static bool authority_ok(const char *host, size_t n)
{
    size_t i = 0;
    if (n && host[0] == '[') {
        const char *close = memchr(host, ']', n);
        if (!close || close == host + 1)
            return false;
        for (i = 1; host + i < close; i++)
            if (!strchr("0123456789abcdefABCDEF:.", host[i]))
                return false;
        i++;
    } else {
        while (i < n && host_char(host[i]))
            i++;
        if (i == 0)
            return false;
    }
    if (i == n)
        return true;
    if (host[i] != ':' || i + 1 == n || n - i - 1 > 5)
        return false;
    long port = 0;
    for (i++; i < n; i++) {
        if (host[i] < '0' || host[i] > '9')
            return false;
        port = port * 10 + (host[i] - '0');
    }
    return port >= 1 && port <= 65535;
}

int creds_endpoint_url_normalize(const char *url, const char *what, char *out, size_t outsz,
                                 struct spoor_error *err)
{
    /* A URL with '@' may carry a password: never repeat it. */
    const char *shown = strchr(url, '@') ? "(not shown: it contains '@')" : url;
    size_t skip = str_ieq_n(url, "http://", 7) ? 7 : str_ieq_n(url, "https://", 8) ? 8 : 0;
    if (!skip)
        return spoor_error_set(err, SPOOR_E_CONFIG, "%s %s must start with http:// or https://",
                               what, shown);
    const char *host = url + skip;
    size_t hn = strcspn(host, "/?#");
    const char *rest = host + hn;
    if (memchr(host, '@', hn))
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "%s has user info (user@host): remove it; credentials never go "
                               "in the URL",
                               what);
    if (*rest == '/' && rest[1] != '\0')
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "%s %s has a path: an S3 endpoint URL is the server root "
                               "(scheme://host[:port]); remove the path",
                               what, shown);
    if (*rest == '?' || *rest == '#')
        return spoor_error_set(err, SPOOR_E_CONFIG, "%s %s has a query or fragment: remove it",
                               what, shown);
    if (!authority_ok(host, hn))
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "%s %s has no valid host[:port] after the scheme: fix it", what,
                               shown);
    if (skip + hn >= outsz)
        return spoor_error_set(err, SPOOR_E_CONFIG, "%s is longer than %zu bytes", what, outsz - 1);
    memcpy(out, skip == 7 ? "http://" : "https://", skip);
    memcpy(out + skip, host, hn);
    out[skip + hn] = '\0';
    return 0;
}

int creds_region_check(const char *region, const char *what, char *out, size_t outsz,
                       struct spoor_error *err)
{
    size_t n = strlen(region);
    bool ok = n > 0 && n < 64 && n < outsz;
    for (size_t i = 0; ok && i < n; i++)
        ok = host_char(region[i]);
    if (!ok)
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "%s \"%.80s\" is not a region name: use letters, digits and '-' "
                               "(like us-east-1), at most 63, without comments",
                               what, region);
    str_copy(out, outsz, region);
    return 0;
}

/* ---- the standard AWS environment ------------------------------------------------------ */

enum profile_origin { PROFILE_ARG, PROFILE_ENV, PROFILE_DEFAULT };

/* One file of the chain, loaded at most once. */
struct aws_file {
    const char *shown; /* as the user wrote it (variable value or default) */
    struct ini ini;
    int rc; /* 1: not loaded yet; 0: loaded; negative: why not */
};

struct env_ctx {
    const char *profile;
    enum profile_origin origin;
    struct aws_file cred;
    struct aws_file conf;
};

static void aws_file_init(struct aws_file *f, const char *var, const char *fallback)
{
    memset(f, 0, sizeof *f);
    f->shown = env_get(var);
    if (!f->shown)
        f->shown = fallback;
    f->rc = 1;
}

/* Moves a failure's code and message to the caller's err; the rest of *err is left alone. */
static void error_move(struct spoor_error *err, const struct spoor_error *e)
{
    if (err) {
        err->code = e->code;
        str_copy(err->message, sizeof err->message, e->message);
    }
}

/* -ENOENT (err untouched) when the file does not exist; quiet says HOME missing is -ENOENT. */
static int aws_file_load(struct aws_file *f, bool quiet, struct spoor_error *err)
{
    if (f->rc != 1)
        return f->rc;
    char path[CREDS_PATH_MAX];
    f->rc = creds_expand_home(f->shown, path, sizeof path, quiet ? NULL : err);
    if (f->rc)
        return f->rc = quiet ? -ENOENT : f->rc;
    struct spoor_error e = {0};
    f->rc = ini_load(&f->ini, path, f->shown, &e);
    if (f->rc == -ENOENT || f->rc == -ENOTDIR)
        f->rc = -ENOENT;
    else if (f->rc)
        error_move(err, &e);
    if (f->rc)
        ini_cleanup(&f->ini);
    return f->rc;
}

static int profile_choose(struct env_ctx *x, const char *profile, struct spoor_error *err)
{
    x->origin = profile ? PROFILE_ARG : env_get("AWS_PROFILE") ? PROFILE_ENV : PROFILE_DEFAULT;
    x->profile = profile ? profile : x->origin == PROFILE_ENV ? env_get("AWS_PROFILE") : "default";
    size_t n = strlen(x->profile);
    bool ok = n > 0 && n < 128 && !is_blank(x->profile[0]) && !is_blank(x->profile[n - 1]);
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char c = (unsigned char)x->profile[i];
        ok = c >= ' ' && c != 0x7f && c != '[' && c != ']';
    }
    if (!ok)
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "profile name%s is not usable: it must be 1-127 characters "
                               "without brackets, control characters or blanks at its ends",
                               x->origin == PROFILE_ENV ? " in AWS_PROFILE" : "");
    return 0;
}

static int no_creds_error(struct env_ctx *x, struct spoor_error *err)
{
    const char *cred = x->cred.shown, *missing = x->cred.rc == -ENOENT ? " (no such file)" : "";
    if (x->cred.rc == 0 && ini_profile_exists(&x->cred.ini, INI_CREDENTIALS, x->profile))
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "profile [%s] in %s has no aws_access_key_id or "
                               "aws_secret_access_key: add both",
                               x->profile, cred);
    if (x->origin == PROFILE_DEFAULT)
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "no AWS credentials found: set AWS_ACCESS_KEY_ID and "
                               "AWS_SECRET_ACCESS_KEY, or add a [default] profile to %s%s",
                               cred, missing);
    char hint[256] = "";
    if (x->cred.rc == 0)
        naming_hint(hint, sizeof hint, &x->cred.ini, INI_CREDENTIALS, x->profile);
    return spoor_error_set(
        err, SPOOR_E_CONFIG, "profile [%s]%s not found in %s%s%s or %s: add it to %s, or %s",
        x->profile, x->origin == PROFILE_ENV ? " (from AWS_PROFILE)" : "", cred, missing, hint,
        x->conf.shown, cred,
        x->origin == PROFILE_ENV ? "unset AWS_PROFILE" : "choose a profile that exists");
}

/* The steps report into a local error: a step that finds nothing (-ENOENT) must not leave its
 * message behind when a later step succeeds. */
static int creds_choose(struct env_ctx *x, struct spoor_s3_credentials *c, struct spoor_error *err)
{
    struct spoor_error e = {0};
    int rc;
    if (x->origin != PROFILE_ARG) {
        rc = env_vars_read(c, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                           " to use the shared credentials file", &e);
        if (rc != -ENOENT)
            goto out;
    }
    rc = aws_file_load(&x->cred, false, &e);
    if (rc == 0)
        rc = creds_from_ini(c, &x->cred.ini, INI_CREDENTIALS, x->profile, x->cred.shown, &e);
    if (rc != -ENOENT)
        goto out;
    /* Like the AWS CLI, keys may also sit in the config file's profile. */
    rc = aws_file_load(&x->conf, true, &e);
    if (rc == 0)
        rc = creds_from_ini(c, &x->conf.ini, INI_CONFIG, x->profile, x->conf.shown, &e);
    if (rc != -ENOENT)
        goto out;
    rc = no_creds_error(x, &e);
out:
    if (rc)
        error_move(err, &e);
    return rc;
}

static int region_choose(struct env_ctx *x, char *out, size_t outsz, struct spoor_error *err)
{
    const char *v;
    if ((v = env_get("AWS_REGION")))
        return creds_region_check(v, "AWS_REGION", out, outsz, err);
    if ((v = env_get("AWS_DEFAULT_REGION")))
        return creds_region_check(v, "AWS_DEFAULT_REGION", out, outsz, err);
    int rc = aws_file_load(&x->conf, true, err);
    if (rc && rc != -ENOENT)
        return rc;
    if (rc == 0 && (v = ini_profile_get(&x->conf.ini, INI_CONFIG, x->profile, "region"))) {
        char label[512];
        label_set(label, sizeof label, "region of profile [%s] in %s", x->profile, x->conf.shown);
        return creds_region_check(v, label, out, outsz, err);
    }
    str_copy(out, outsz, "us-east-1");
    return 0;
}

static int endpoint_choose(char *out, size_t outsz, struct spoor_error *err)
{
    static const char *const vars[] = {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = env_get(vars[i]);
        if (v)
            return creds_endpoint_url_normalize(v, vars[i], out, outsz, err);
    }
    out[0] = '\0';
    return 0;
}

SPOOR_API int spoor_s3_config_from_env(struct spoor_s3_config *cfg, const char *profile,
                                       struct spoor_error *err)
{
    struct env_ctx x;
    memset(&x, 0, sizeof x);
    aws_file_init(&x.cred, "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials");
    aws_file_init(&x.conf, "AWS_CONFIG_FILE", "~/.aws/config");
    memset(cfg, 0, sizeof *cfg);
    str_copy(cfg->name, sizeof cfg->name, "aws");
    cfg->addressing = SPOOR_S3_ADDRESSING_AUTO;
    int rc = profile_choose(&x, profile, err);
    if (rc)
        goto fail;
    rc = creds_choose(&x, &cfg->creds, err);
    if (rc)
        goto fail;
    rc = region_choose(&x, cfg->region, sizeof cfg->region, err);
    if (rc)
        goto fail;
    rc = endpoint_choose(cfg->endpoint_url, sizeof cfg->endpoint_url, err);
fail:
    if (rc)
        memset(&cfg->creds, 0, sizeof cfg->creds);
    ini_cleanup(&x.cred.ini);
    ini_cleanup(&x.conf.ini);
    return rc;
}

SPOOR_API int spoor_s3_credentials_from_file(struct spoor_s3_credentials *creds, const char *path,
                                             const char *profile, struct spoor_error *err)
{
    struct env_ctx x;
    char full[CREDS_PATH_MAX];
    memset(&x, 0, sizeof x);
    memset(creds, 0, sizeof *creds);
    aws_file_init(&x.cred, "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials");
    if (path)
        x.cred.shown = path;
    int rc = profile_choose(&x, profile, err);
    if (rc)
        goto fail;
    rc = creds_expand_home(x.cred.shown, full, sizeof full, err);
    if (rc)
        goto fail;
    rc = ini_load(&x.cred.ini, full, x.cred.shown, err);
    if (rc)
        goto fail;
    rc = creds_from_ini(creds, &x.cred.ini, INI_CREDENTIALS, x.profile, x.cred.shown, err);
    if (rc == -ENOENT) { /* the file exists: a missing profile or key is a config error */
        rc = SPOOR_E_CONFIG;
        if (err)
            err->code = rc;
    }
fail:
    ini_cleanup(&x.cred.ini);
    return rc;
}
