/*
 * test_creds.c: the AWS credentials, region and endpoint chain (creds.c) and its INI reader.
 *
 * Every test starts from a clean environment: all AWS_* and LAKECTL_* variables unset and HOME
 * pointing at an empty temporary directory, so the machine's own ~/.aws never matters. Files
 * come from tests/data/creds/ (through AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE) or are
 * written into the temporary HOME. Every fake secret contains "sEcReT" and every fake token
 * "tOkEn", so one check per failure proves that no message repeats them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spoor/s3.h>

#include "creds.h"
#include "support/files.h"

#define DATA SPOOR_TEST_DATA "/creds/"

static char home[256];

static const char *const vars[] = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "LAKECTL_ACCESS",
    "LAKECTL_SECRET",
    "LAKECTL_TOKEN",
};

static void home_clear(void)
{
    rm_tree(home);
    assert_int_equal(mkdir(home, 0700), 0);
}

static int group_setup(void **state)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(home, sizeof home, "%s/spoor-creds-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(home) ? 0 : -1;
}

static int group_teardown(void **state)
{
    rm_tree(home);
    return 0;
}

static int setup(void **state)
{
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    setenv("HOME", home, 1);
    home_clear();
    return 0;
}

/* Writes text to HOME/rel, creating HOME/.aws if needed. */
static void home_write(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/.aws", home);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/%s", home, rel);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static void use_files(const char *credentials, const char *config)
{
    if (credentials)
        setenv("AWS_SHARED_CREDENTIALS_FILE", credentials, 1);
    if (config)
        setenv("AWS_CONFIG_FILE", config, 1);
}

/* The failure carries code and a message holding each of the NULL-terminated fragments, and
 * never a secret or a token. */
static void check_err(int rc, const struct spoor_error *err, int code, ...)
{
    assert_int_equal(rc, code);
    assert_int_equal(err->code, code);
    assert_null(strstr(err->message, "sEcReT"));
    assert_null(strstr(err->message, "tOkEn"));
    va_list ap;
    va_start(ap, code);
    for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *)) {
        if (!strstr(err->message, s))
            fail_msg("message \"%s\" lacks \"%s\"", err->message, s);
    }
    va_end(ap);
}

static void check_creds(const struct spoor_s3_credentials *c, const char *id, const char *secret,
                        const char *token, const char *source)
{
    assert_string_equal(c->access_key_id, id);
    assert_string_equal(c->secret_access_key, secret);
    assert_string_equal(c->session_token, token);
    assert_string_equal(c->source, source);
    assert_null(strstr(c->source, "sEcReT"));
}

/* ---- INI reader ------------------------------------------------------------------------ */

static void test_ini_comments_spaces_duplicates(void **state)
{
    struct ini ini;
    struct spoor_error err = {0};
    assert_int_equal(ini_load(&ini, DATA "credentials-comments", "comments", &err), 0);
    /* Tabs and spaces around '=', keys folded to lower case, the last duplicate wins. */
    assert_string_equal(ini_get(&ini, "default", "aws_access_key_id"), "AKIASPACED0000000004");
    assert_string_equal(ini_get(&ini, "default", "aws_secret_access_key"),
                        "spaced/sEcReT+0000000000000000000000004");
    /* The repeated [default] merged into the first. */
    assert_string_equal(ini_get(&ini, "default", "region"), "ignored-in-credentials");
    assert_string_equal(ini_get(&ini, "other", "aws_access_key_id"), "AKIAOTHER00000000005");
    assert_null(ini_get(&ini, "other", "region"));
    assert_null(ini_get(&ini, "nope", "aws_access_key_id"));
    ini_cleanup(&ini);
}

static void test_ini_crlf_bom_no_newline(void **state)
{
    const char text[] = "\xEF\xBB\xBF[a]\r\nk = v\r\nquoted = \"q\"\r\n\r\n[b]\r\n"
                        "token = abc==\r\nempty =\r\nlast = x";
    struct ini ini;
    assert_int_equal(ini_parse(&ini, text, sizeof text - 1, "t", NULL), 0);
    assert_string_equal(ini_get(&ini, "a", "k"), "v");
    assert_string_equal(ini_get(&ini, "a", "quoted"), "\"q\""); /* kept as written */
    assert_string_equal(ini_get(&ini, "b", "token"), "abc==");  /* split at the first '=' */
    assert_string_equal(ini_get(&ini, "b", "empty"), "");
    assert_string_equal(ini_get(&ini, "b", "last"), "x");
    ini_cleanup(&ini);
}

static void test_ini_config_profiles_and_subkeys(void **state)
{
    struct ini ini;
    assert_int_equal(ini_load(&ini, DATA "config", "config", NULL), 0);
    assert_string_equal(ini_profile_get(&ini, INI_CONFIG, "default", "region"), "eu-west-1");
    assert_string_equal(ini_profile_get(&ini, INI_CONFIG, "dev", "region"), "eu-central-1");
    assert_string_equal(ini_profile_get(&ini, INI_CONFIG, "dev", "s3.addressing_style"), "path");
    assert_string_equal(ini_profile_get(&ini, INI_CONFIG, "dev", "s3.max_concurrent_requests"),
                        "4");
    assert_string_equal(ini_profile_get(&ini, INI_CONFIG, "dev", "s3"), "");
    assert_string_equal(ini_profile_get(&ini, INI_CONFIG, "spaced", "region"), "ap-south-1");
    /* [plain] is not a profile in the config file; in credentials style it would be. */
    assert_false(ini_profile_exists(&ini, INI_CONFIG, "plain"));
    assert_true(ini_profile_exists(&ini, INI_CREDENTIALS, "plain"));
    assert_false(ini_profile_exists(&ini, INI_CREDENTIALS, "dev"));
    assert_null(ini_profile_get(&ini, INI_CONFIG, "plain", "region"));
    ini_cleanup(&ini);

    const char text[] = "[profile default]\nregion = r1\n";
    assert_int_equal(ini_parse(&ini, text, sizeof text - 1, "t", NULL), 0);
    assert_string_equal(ini_profile_get(&ini, INI_CONFIG, "default", "region"), "r1");
    ini_cleanup(&ini);
}

static void parse_fails_n(const char *text, size_t len, const char *fragment)
{
    struct ini ini;
    struct spoor_error err = {0};
    int rc = ini_parse(&ini, text, len, "FILE", &err);
    ini_cleanup(&ini);
    check_err(rc, &err, SPOOR_E_CONFIG, "FILE", fragment, NULL);
}

static void parse_fails(const char *text, const char *fragment)
{
    parse_fails_n(text, strlen(text), fragment);
}

static void test_ini_syntax_errors(void **state)
{
    parse_fails("[default\nk = v\n", "line 1: section header has no closing ']'");
    parse_fails("[a] b\n", "line 1: text after the section header");
    parse_fails("[ ]\n", "line 1: empty section name");
    parse_fails("k = v\n[a]\n", "line 1: 'name = value' before any [section]");
    parse_fails("[a]\n\n# c\njust words\n", "line 4: expected '[section]' or 'name = value'");
    parse_fails("[a]\n = v\n", "line 2: '=' with no name");
    parse_fails("[a]\ns3 =\n  not an assignment\n", "line 3: indented line under 's3'");
    const char nul[] = "[a]\nk = v\0w\n";
    parse_fails_n(nul, sizeof nul - 1, "line 2 contains a NUL byte");

    struct spoor_error err = {0};
    struct ini ini;
    assert_int_equal(ini_load(&ini, DATA "bad-syntax", "bad-syntax", &err), SPOOR_E_CONFIG);
    ini_cleanup(&ini);
    assert_non_null(strstr(err.message, "bad-syntax line 3"));
}

static void test_ini_ceilings(void **state)
{
    size_t n = INI_MAX_LINE_BYTES + 10;
    char *text = malloc(n + 16);
    memcpy(text, "[a]\nk = ", 8);
    memset(text + 8, 'x', n);
    text[8 + n] = '\0';
    parse_fails(text, "line 2 is longer than 8192 bytes");
    free(text);

    /* A file past the size ceiling, made of short valid lines. */
    char path[512];
    snprintf(path, sizeof path, "%s/big", home);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("[a]\n", f);
    for (int i = 0; i < INI_MAX_FILE_BYTES / 16 + 1; i++)
        fputs("# fill fill fill\n", f);
    fclose(f);
    struct ini ini;
    struct spoor_error err = {0};
    check_err(ini_load(&ini, path, "~/big", &err), &err, SPOOR_E_CONFIG, "~/big",
              "larger than 1048576 bytes", NULL);
    ini_cleanup(&ini);
}

static void test_ini_load_errors(void **state)
{
    struct ini ini;
    struct spoor_error err = {0};
    check_err(ini_load(&ini, DATA "no-such-file", "shown-name", &err), &err, -ENOENT,
              "cannot read shown-name", NULL);
    ini_cleanup(&ini);
    check_err(ini_load(&ini, home, "a-directory", &err), &err, -EISDIR, "a-directory", NULL);
    ini_cleanup(&ini);
}

/* ---- spoor_s3_credentials_from_file ---------------------------------------------------- */

static void test_file_profiles(void **state)
{
    struct spoor_s3_credentials c;
    struct spoor_error err = {0};
    assert_int_equal(spoor_s3_credentials_from_file(&c, DATA "credentials", "default", &err), 0);
    check_creds(&c, "AKIADEFAULT000000001", "default/sEcReT+0000000000000000000000001", "",
                "shared credentials file " DATA "credentials, profile [default]");
    assert_int_equal(spoor_s3_credentials_from_file(&c, DATA "credentials", "dev", &err), 0);
    check_creds(&c, "AKIADEV0000000000002", "dev/sEcReT+00000000000000000000000000002",
                "dev-tOkEn-IQoJb3JpZ2luX2VjEA0aCXVzLWVhc3QtMSJH==",
                "shared credentials file " DATA "credentials, profile [dev]");
    /* No blanks around '=' at all. */
    assert_int_equal(spoor_s3_credentials_from_file(&c, DATA "credentials", "ci", &err), 0);
    assert_string_equal(c.secret_access_key, "ci/sEcReT+000000000000000000000000000003");
}

static void test_file_crlf_and_no_newline(void **state)
{
    struct spoor_s3_credentials c;
    assert_int_equal(spoor_s3_credentials_from_file(&c, DATA "credentials-crlf", "default", NULL),
                     0);
    check_creds(&c, "AKIACRLF000000000006", "crlf/sEcReT+0000000000000000000000006",
                "crlf-tOkEn-0006",
                "shared credentials file " DATA "credentials-crlf, profile [default]");
    assert_int_equal(spoor_s3_credentials_from_file(&c, DATA "credentials-crlf", "dev", NULL), 0);
    assert_string_equal(c.secret_access_key, "crlfdev/sEcReT+0000000000000000000007");
    assert_int_equal(
        spoor_s3_credentials_from_file(&c, DATA "credentials-no-newline", "default", NULL), 0);
    assert_string_equal(c.secret_access_key, "nonl/sEcReT+0000000000000000000000008");
}

static void test_file_defaults_from_env_and_home(void **state)
{
    struct spoor_s3_credentials c;
    home_write(".aws/credentials", "[default]\naws_access_key_id = AKIAHOME\n"
                                   "aws_secret_access_key = home/sEcReT\n"
                                   "[work]\naws_access_key_id = AKIAWORK\n"
                                   "aws_secret_access_key = work/sEcReT\n");
    /* NULL path and profile: ~/.aws/credentials and [default]; then AWS_PROFILE. */
    assert_int_equal(spoor_s3_credentials_from_file(&c, NULL, NULL, NULL), 0);
    check_creds(&c, "AKIAHOME", "home/sEcReT", "",
                "shared credentials file ~/.aws/credentials, profile [default]");
    setenv("AWS_PROFILE", "work", 1);
    assert_int_equal(spoor_s3_credentials_from_file(&c, NULL, NULL, NULL), 0);
    assert_string_equal(c.access_key_id, "AKIAWORK");
    /* An explicit "~/..." path expands from HOME too. */
    assert_int_equal(spoor_s3_credentials_from_file(&c, "~/.aws/credentials", "default", NULL), 0);
    assert_string_equal(c.access_key_id, "AKIAHOME");
    /* AWS_SHARED_CREDENTIALS_FILE replaces the default path. */
    setenv("AWS_SHARED_CREDENTIALS_FILE", DATA "credentials", 1);
    assert_int_equal(spoor_s3_credentials_from_file(&c, NULL, "ci", NULL), 0);
    assert_string_equal(c.access_key_id, "AKIACI00000000000003");
}

static void test_file_errors(void **state)
{
    struct spoor_s3_credentials c;
    struct spoor_error err = {0};
    const char *f = DATA "credentials-missing";
    check_err(spoor_s3_credentials_from_file(&c, DATA "nope", "default", &err), &err, -ENOENT,
              DATA "nope", NULL);
    check_err(spoor_s3_credentials_from_file(&c, f, "x", &err), &err, SPOOR_E_CONFIG,
              "profile [x] not found in ", f, NULL);
    check_err(spoor_s3_credentials_from_file(&c, f, "default", &err), &err, SPOOR_E_CONFIG,
              "profile [default] in ", f, "has aws_access_key_id but no aws_secret_access_key",
              NULL);
    assert_string_equal(c.access_key_id, ""); /* nothing half-filled */
    check_err(spoor_s3_credentials_from_file(&c, f, "onlysecret", &err), &err, SPOOR_E_CONFIG,
              "has aws_secret_access_key but no aws_access_key_id", NULL);
    check_err(spoor_s3_credentials_from_file(&c, f, "empty", &err), &err, SPOOR_E_CONFIG,
              "profile [empty]", "has no aws_access_key_id or aws_secret_access_key", NULL);
    check_err(spoor_s3_credentials_from_file(&c, f, "emptyvalue", &err), &err, SPOOR_E_CONFIG,
              "aws_access_key_id of profile [emptyvalue]", "is empty", NULL);
    check_err(spoor_s3_credentials_from_file(&c, f, "blankinside", &err), &err, SPOOR_E_CONFIG,
              "aws_secret_access_key of profile [blankinside]", "blank or control", NULL);
    check_err(spoor_s3_credentials_from_file(&c, f, "prefixed", &err), &err, SPOOR_E_CONFIG,
              "profile [prefixed] not found", "write [prefixed]", NULL);
    check_err(spoor_s3_credentials_from_file(&c, f, "assume", &err), &err, SPOOR_E_CONFIG,
              "profile [assume]", "uses role_arn", "export-credentials --profile assume", NULL);
    check_err(spoor_s3_credentials_from_file(&c, DATA "bad-syntax", "default", &err), &err,
              SPOOR_E_CONFIG, "bad-syntax line 3", NULL);
    check_err(spoor_s3_credentials_from_file(&c, f, "bad]name", &err), &err, SPOOR_E_CONFIG,
              "profile name", NULL);
}

static void test_file_value_too_long(void **state)
{
    /* A token one byte past its field is refused, not cut. */
    size_t n = sizeof((struct spoor_s3_credentials *)0)->session_token;
    char *text = malloc(n + 128);
    int len = snprintf(text, n + 128,
                       "[default]\naws_access_key_id = A\n"
                       "aws_secret_access_key = s/sEcReT\naws_session_token = ");
    memset(text + len, 't', n);
    memcpy(text + len + n - 5, "tOkEn", 5);
    text[len + n] = '\0';
    home_write(".aws/credentials", text);
    free(text);
    struct spoor_s3_credentials c;
    struct spoor_error err = {0};
    check_err(spoor_s3_credentials_from_file(&c, NULL, NULL, &err), &err, SPOOR_E_CONFIG,
              "aws_session_token of profile [default] in ~/.aws/credentials",
              "4096 bytes long, more than the 4095", NULL);
    assert_string_equal(c.session_token, "");
}

/* ---- spoor_s3_config_from_env: credentials --------------------------------------------- */

static void test_env_beats_file(void **state)
{
    use_files(DATA "credentials", DATA "config");
    setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env/sEcReT", 1);
    setenv("AWS_PROFILE", "dev", 1); /* chooses a file profile only; the environment wins */
    struct spoor_s3_config cfg;
    struct spoor_error err = {0};
    assert_int_equal(spoor_s3_config_from_env(&cfg, NULL, &err), 0);
    check_creds(&cfg.creds, "AKIAENV", "env/sEcReT", "",
                "environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY");
    assert_string_equal(cfg.name, "aws");
    assert_int_equal(cfg.addressing, SPOOR_S3_ADDRESSING_AUTO);
    assert_string_equal(cfg.endpoint_url, "");
    assert_int_equal(err.code, 0); /* untouched on success */

    setenv("AWS_SESSION_TOKEN", "env-tOkEn", 1);
    assert_int_equal(spoor_s3_config_from_env(&cfg, NULL, &err), 0);
    check_creds(&cfg.creds, "AKIAENV", "env/sEcReT", "env-tOkEn",
                "environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN");
}

static void test_env_half_set(void **state)
{
    use_files(DATA "credentials", NULL);
    struct spoor_s3_config cfg;
    struct spoor_error err = {0};
    setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
    check_err(spoor_s3_config_from_env(&cfg, NULL, &err), &err, SPOOR_E_CONFIG,
              "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or unset "
              "both to use the shared credentials file",
              NULL);
    unsetenv("AWS_ACCESS_KEY_ID");
    setenv("AWS_SECRET_ACCESS_KEY", "env/sEcReT", 1);
    check_err(spoor_s3_config_from_env(&cfg, NULL, &err), &err, SPOOR_E_CONFIG,
              "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not", NULL);
    assert_string_equal(cfg.creds.secret_access_key, "");
    /* An empty variable counts as unset. */
    setenv("AWS_ACCESS_KEY_ID", "", 1);
    check_err(spoor_s3_config_from_env(&cfg, NULL, &err), &err, SPOOR_E_CONFIG,
              "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not", NULL);
    setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env/sEcReT\n", 1);
    check_err(spoor_s3_config_from_env(&cfg, NULL, &err), &err, SPOOR_E_CONFIG,
              "AWS_SECRET_ACCESS_KEY contains a blank or control character", NULL);
}

static void test_profile_precedence(void **state)
{
    use_files(DATA "credentials", DATA "config");
    struct spoor_s3_config cfg;
    struct spoor_error err = {0};
    assert_int_equal(spoor_s3_config_from_env(&cfg, NULL, &err), 0);
    assert_string_equal(cfg.creds.access_key_id, "AKIADEFAULT000000001");
    assert_string_equal(cfg.creds.source,
                        "shared credentials file " DATA "credentials, profile [default]");
    setenv("AWS_PROFILE", "dev", 1);
    assert_int_equal(spoor_s3_config_from_env(&cfg, NULL, &err), 0);
    check_creds(&cfg.creds, "AKIADEV0000000000002", "dev/sEcReT+00000000000000000000000000002",
                "dev-tOkEn-IQoJb3JpZ2luX2VjEA0aCXVzLWVhc3QtMSJH==",
                "shared credentials file " DATA "credentials, profile [dev]");
    /* The argument beats AWS_PROFILE. */
    assert_int_equal(spoor_s3_config_from_env(&cfg, "ci", &err), 0);
    assert_string_equal(cfg.creds.access_key_id, "AKIACI00000000000003");
    /* ... and, like `aws --profile`, the AWS_* keys: a named profile is never replaced. */
    setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env/sEcReT", 1);
    assert_int_equal(spoor_s3_config_from_env(&cfg, "ci", &err), 0);
    assert_string_equal(cfg.creds.access_key_id, "AKIACI00000000000003");
    check_err(spoor_s3_config_from_env(&cfg, "nope", &err), &err, SPOOR_E_CONFIG,
              "profile [nope] not found in " DATA "credentials", "choose a profile", NULL);
    assert_string_equal(cfg.creds.access_key_id, "");
}

static void test_keys_in_config_file(void **state)
{
    use_files(DATA "credentials", DATA "config");
    struct spoor_s3_config cfg;
    struct spoor_error err = {0};
    assert_int_equal(spoor_s3_config_from_env(&cfg, "keys", &err), 0);
    check_creds(&cfg.creds, "AKIACONFIG0000000014", "config/sEcReT+00000000000000000000000014", "",
                "config file " DATA "config, profile [keys]");
    assert_string_equal(cfg.region, "us-west-2");
    check_err(spoor_s3_config_from_env(&cfg, "sso", &err), &err, SPOOR_E_CONFIG,
              "profile [sso] in " DATA "config uses sso_session", NULL);
}

static void test_no_credentials(void **state)
{
    struct spoor_s3_config cfg;
    struct spoor_error err = {0};
    check_err(spoor_s3_config_from_env(&cfg, NULL, &err), &err, SPOOR_E_CONFIG,
              "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add "
              "a [default] profile to ~/.aws/credentials (no such file)",
              NULL);
    home_write(".aws/credentials", "[other]\naws_access_key_id = A\naws_secret_access_key = s\n");
    check_err(spoor_s3_config_from_env(&cfg, NULL, &err), &err, SPOOR_E_CONFIG,
              "add a [default] profile to ~/.aws/credentials", NULL);
    assert_null(strstr(err.message, "no such file"));
    setenv("AWS_PROFILE", "gone", 1);
    check_err(spoor_s3_config_from_env(&cfg, NULL, &err), &err, SPOOR_E_CONFIG,
              "profile [gone] (from AWS_PROFILE) not found in ~/.aws/credentials or "
              "~/.aws/config",
              "unset AWS_PROFILE", NULL);
    home_write(".aws/credentials", "[gone]\nregion = x\n");
    check_err(spoor_s3_config_from_env(&cfg, NULL, &err), &err, SPOOR_E_CONFIG,
              "profile [gone] in ~/.aws/credentials has no aws_access_key_id", NULL);
    /* A malformed credentials file is reported, not skipped. */
    use_files(DATA "bad-syntax", NULL);
    check_err(spoor_s3_config_from_env(&cfg, NULL, &err), &err, SPOOR_E_CONFIG,
              DATA "bad-syntax line 3", NULL);
    /* Without HOME, ~ cannot be expanded: say so. */
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    unsetenv("HOME");
    check_err(spoor_s3_config_from_env(&cfg, NULL, &err), &err, SPOOR_E_CONFIG,
              "cannot expand ~ in ~/.aws/credentials: HOME is not set", NULL);
}

static void test_default_files_under_home(void **state)
{
    home_write(".aws/credentials", "[default]\r\naws_access_key_id = AKIAH\r\n"
                                   "aws_secret_access_key = h/sEcReT\r\n");
    home_write(".aws/config", "[default]\nregion = ca-central-1\n");
    struct spoor_s3_config cfg;
    assert_int_equal(spoor_s3_config_from_env(&cfg, NULL, NULL), 0);
    check_creds(&cfg.creds, "AKIAH", "h/sEcReT", "",
                "shared credentials file ~/.aws/credentials, profile [default]");
    assert_string_equal(cfg.region, "ca-central-1");
}

/* ---- region ---------------------------------------------------------------------------- */

static void test_region_precedence(void **state)
{
    use_files(DATA "credentials", DATA "config");
    struct spoor_s3_config cfg;
    struct spoor_error err = {0};
    assert_int_equal(spoor_s3_config_from_env(&cfg, NULL, &err), 0);
    assert_string_equal(cfg.region, "eu-west-1"); /* config [default] */
    assert_int_equal(spoor_s3_config_from_env(&cfg, "dev", &err), 0);
    assert_string_equal(cfg.region, "eu-central-1"); /* config [profile dev] */
    setenv("AWS_PROFILE", "dev", 1);
    assert_int_equal(spoor_s3_config_from_env(&cfg, NULL, &err), 0);
    assert_string_equal(cfg.region, "eu-central-1");
    setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
    assert_int_equal(spoor_s3_config_from_env(&cfg, NULL, &err), 0);
    assert_string_equal(cfg.region, "us-west-1");
    setenv("AWS_REGION", "ap-northeast-1", 1);
    assert_int_equal(spoor_s3_config_from_env(&cfg, NULL, &err), 0);
    assert_string_equal(cfg.region, "ap-northeast-1");
    /* The environment beats an explicit profile's region too. */
    assert_int_equal(spoor_s3_config_from_env(&cfg, "dev", &err), 0);
    assert_string_equal(cfg.region, "ap-northeast-1");
}

static void test_region_default_and_errors(void **state)
{
    use_files(DATA "credentials", DATA "no-such-config");
    struct spoor_s3_config cfg;
    struct spoor_error err = {0};
    assert_int_equal(spoor_s3_config_from_env(&cfg, "ci", &err), 0);
    assert_string_equal(cfg.region, "us-east-1"); /* no config file */
    use_files(NULL, DATA "config");
    assert_int_equal(spoor_s3_config_from_env(&cfg, "ci", &err), 0);
    assert_string_equal(cfg.region, "us-east-1"); /* no [profile ci] in it */

    setenv("AWS_PROFILE", "badregion", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env/sEcReT", 1);
    check_err(spoor_s3_config_from_env(&cfg, NULL, &err), &err, SPOOR_E_CONFIG,
              "region of profile [badregion] in " DATA "config", "is not a region name", NULL);
    setenv("AWS_DEFAULT_REGION", "us east 1", 1);
    check_err(spoor_s3_config_from_env(&cfg, NULL, &err), &err, SPOOR_E_CONFIG,
              "AWS_DEFAULT_REGION \"us east 1\" is not a region name", NULL);
    setenv("AWS_REGION", "us-east-1/x", 1);
    check_err(spoor_s3_config_from_env(&cfg, NULL, &err), &err, SPOOR_E_CONFIG, "AWS_REGION", NULL);
    assert_string_equal(cfg.creds.secret_access_key, "");
    /* A malformed config file is an error once it is needed. */
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    use_files(NULL, DATA "bad-syntax");
    check_err(spoor_s3_config_from_env(&cfg, NULL, &err), &err, SPOOR_E_CONFIG,
              DATA "bad-syntax line 3", NULL);
}

/* ---- endpoint -------------------------------------------------------------------------- */

static void endpoint_ok(const char *url, const char *want)
{
    char out[512];
    struct spoor_error err = {0};
    if (creds_endpoint_url_normalize(url, "X", out, sizeof out, &err) != 0)
        fail_msg("%s: %s", url, err.message);
    assert_string_equal(out, want);
}

static void endpoint_bad(const char *url, const char *fragment)
{
    char out[512];
    struct spoor_error err = {0};
    check_err(creds_endpoint_url_normalize(url, "AWS_ENDPOINT_URL", out, sizeof out, &err), &err,
              SPOOR_E_CONFIG, "AWS_ENDPOINT_URL", fragment, NULL);
}

static void test_endpoint_validation(void **state)
{
    endpoint_ok("http://127.0.0.1:9000", "http://127.0.0.1:9000");
    endpoint_ok("http://127.0.0.1:9000/", "http://127.0.0.1:9000");
    endpoint_ok("HTTPS://s3.Example.com", "https://s3.Example.com");
    endpoint_ok("https://[::1]:8443/", "https://[::1]:8443");
    endpoint_ok("http://minio", "http://minio");
    endpoint_bad("ftp://host", "must start with http:// or https://");
    endpoint_bad("127.0.0.1:9000", "must start with http:// or https://");
    endpoint_bad("http://", "no valid host");
    endpoint_bad("http:///bucket", "has a path");
    endpoint_bad("http://host:9000/api/v1", "has a path");
    endpoint_bad("http://host//", "has a path");
    endpoint_bad("http://host?x=1", "query or fragment");
    endpoint_bad("http://host:0", "no valid host");
    endpoint_bad("http://host:65536", "no valid host");
    endpoint_bad("http://host:", "no valid host");
    endpoint_bad("http://ho st", "no valid host");
    endpoint_bad("http://[::1", "no valid host");
    endpoint_bad("http://user:pa55sEcReT@host", "user info");
    endpoint_bad("ftp://user:pa55sEcReT@host", "not shown");
    char small[16];
    struct spoor_error err = {0};
    check_err(
        creds_endpoint_url_normalize("http://a-long-host-name", "X", small, sizeof small, &err),
        &err, SPOOR_E_CONFIG, "longer than 15 bytes", NULL);
}

static void test_endpoint_precedence(void **state)
{
    use_files(DATA "credentials", DATA "config");
    struct spoor_s3_config cfg;
    struct spoor_error err = {0};
    setenv("AWS_ENDPOINT_URL", "http://generic:9000/", 1);
    assert_int_equal(spoor_s3_config_from_env(&cfg, NULL, &err), 0);
    assert_string_equal(cfg.endpoint_url, "http://generic:9000");
    setenv("AWS_ENDPOINT_URL_S3", "https://s3only:9443", 1);
    assert_int_equal(spoor_s3_config_from_env(&cfg, NULL, &err), 0);
    assert_string_equal(cfg.endpoint_url, "https://s3only:9443");
    assert_int_equal(cfg.addressing, SPOOR_S3_ADDRESSING_AUTO);
    setenv("AWS_ENDPOINT_URL_S3", "http://s3only:9000/bucket", 1);
    check_err(spoor_s3_config_from_env(&cfg, NULL, &err), &err, SPOOR_E_CONFIG,
              "AWS_ENDPOINT_URL_S3 http://s3only:9000/bucket has a path", "remove the path", NULL);
    assert_string_equal(cfg.creds.secret_access_key, "");
    setenv("AWS_ENDPOINT_URL_S3", "", 1); /* empty: unset, so AWS_ENDPOINT_URL applies */
    assert_int_equal(spoor_s3_config_from_env(&cfg, NULL, &err), 0);
    assert_string_equal(cfg.endpoint_url, "http://generic:9000");
}

/* ---- reusable pieces ------------------------------------------------------------------- */

static void test_named_env_vars(void **state)
{
    struct spoor_s3_credentials c;
    struct spoor_error err = {0};
    check_err(creds_from_env_vars(&c, "LAKECTL_ACCESS", "LAKECTL_SECRET", NULL, &err), &err,
              -ENOENT, "LAKECTL_ACCESS", "LAKECTL_SECRET", NULL);
    setenv("LAKECTL_ACCESS", "AKIALAKE", 1);
    setenv("LAKECTL_SECRET", "lake/sEcReT", 1);
    setenv("LAKECTL_TOKEN", "lake-tOkEn", 1);
    /* The standard AWS_* variables are never consulted for other names. */
    setenv("AWS_SESSION_TOKEN", "aws-tOkEn", 1);
    assert_int_equal(creds_from_env_vars(&c, "LAKECTL_ACCESS", "LAKECTL_SECRET", NULL, &err), 0);
    check_creds(&c, "AKIALAKE", "lake/sEcReT", "",
                "environment variables LAKECTL_ACCESS/LAKECTL_SECRET");
    assert_int_equal(
        creds_from_env_vars(&c, "LAKECTL_ACCESS", "LAKECTL_SECRET", "LAKECTL_TOKEN", &err), 0);
    check_creds(&c, "AKIALAKE", "lake/sEcReT", "lake-tOkEn",
                "environment variables LAKECTL_ACCESS/LAKECTL_SECRET/LAKECTL_TOKEN");
    unsetenv("LAKECTL_SECRET");
    check_err(creds_from_env_vars(&c, "LAKECTL_ACCESS", "LAKECTL_SECRET", NULL, &err), &err,
              SPOOR_E_CONFIG, "LAKECTL_ACCESS is set but LAKECTL_SECRET is not", NULL);
    assert_string_equal(c.access_key_id, "");
    char longkey[200];
    memset(longkey, 'A', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    setenv("LAKECTL_SECRET", "lake/sEcReT", 1);
    setenv("LAKECTL_ACCESS", longkey, 1);
    check_err(creds_from_env_vars(&c, "LAKECTL_ACCESS", "LAKECTL_SECRET", NULL, &err), &err,
              SPOOR_E_CONFIG, "LAKECTL_ACCESS is 199 bytes long, more than the 127", NULL);
}

static void test_expand_home(void **state)
{
    char out[512], want[512];
    struct spoor_error err = {0};
    assert_int_equal(creds_expand_home("~/.aws/x", out, sizeof out, &err), 0);
    snprintf(want, sizeof want, "%s/.aws/x", home);
    assert_string_equal(out, want);
    assert_int_equal(creds_expand_home("~", out, sizeof out, &err), 0);
    assert_string_equal(out, home);
    assert_int_equal(creds_expand_home("~user/x", out, sizeof out, &err), 0);
    assert_string_equal(out, "~user/x");
    assert_int_equal(creds_expand_home("rel/~/x", out, sizeof out, &err), 0);
    assert_string_equal(out, "rel/~/x");
    check_err(creds_expand_home("~/x", out, 4, &err), &err, SPOOR_E_CONFIG, "longer than 3", NULL);
    unsetenv("HOME");
    check_err(creds_expand_home("~/.aws/x", out, sizeof out, &err), &err, SPOOR_E_CONFIG,
              "cannot expand ~ in ~/.aws/x: HOME is not set", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ini_comments_spaces_duplicates, setup),
        cmocka_unit_test_setup(test_ini_crlf_bom_no_newline, setup),
        cmocka_unit_test_setup(test_ini_config_profiles_and_subkeys, setup),
        cmocka_unit_test_setup(test_ini_syntax_errors, setup),
        cmocka_unit_test_setup(test_ini_ceilings, setup),
        cmocka_unit_test_setup(test_ini_load_errors, setup),
        cmocka_unit_test_setup(test_file_profiles, setup),
        cmocka_unit_test_setup(test_file_crlf_and_no_newline, setup),
        cmocka_unit_test_setup(test_file_defaults_from_env_and_home, setup),
        cmocka_unit_test_setup(test_file_errors, setup),
        cmocka_unit_test_setup(test_file_value_too_long, setup),
        cmocka_unit_test_setup(test_env_beats_file, setup),
        cmocka_unit_test_setup(test_env_half_set, setup),
        cmocka_unit_test_setup(test_profile_precedence, setup),
        cmocka_unit_test_setup(test_keys_in_config_file, setup),
        cmocka_unit_test_setup(test_no_credentials, setup),
        cmocka_unit_test_setup(test_default_files_under_home, setup),
        cmocka_unit_test_setup(test_region_precedence, setup),
        cmocka_unit_test_setup(test_region_default_and_errors, setup),
        cmocka_unit_test_setup(test_endpoint_validation, setup),
        cmocka_unit_test_setup(test_endpoint_precedence, setup),
        cmocka_unit_test_setup(test_named_env_vars, setup),
        cmocka_unit_test_setup(test_expand_home, setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
