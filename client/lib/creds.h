/*
 * creds.h: the pieces behind spoor_s3_config_from_env() that the router reuses for each endpoint:
 * a reader for the AWS shared INI files, credentials from named environment variables, '~'
 * expansion, and checks of endpoint URLs and region names.
 *
 * The INI dialect is the one botocore reads, with these choices:
 *  - "[name]" opens a section; text after the ']' must be blank or a comment. Section names
 *    are case-sensitive. The credentials file names profiles "[dev]"; the config file names them
 *    "[profile dev]" (any run of blanks after "profile"), and the default "[default]".
 *  - "key = value", blanks around '=' ignored; keys are folded to lower case (as configparser
 *    does), values are kept as written (no quotes removed, no inline comments: '#' and ';'
 *    start a comment only as the first non-blank byte of a line).
 *  - A line indented deeper than the key line above it is a sub-property of that key
 *    ("s3 =" then "  addressing_style = path"), stored as the key "s3.addressing_style".
 *  - CRLF and LF line ends, a missing final newline and a UTF-8 byte-order mark are accepted.
 *  - A key given twice, or a section repeated, is not an error: the last value wins. (botocore
 *    rejects duplicates; the AWS Go and Rust SDKs keep the last one, which is kinder to files
 *    edited by hand and by several tools.)
 *  - Ceilings: a file of at most INI_MAX_FILE_BYTES, lines of at most INI_MAX_LINE_BYTES. Past
 *    them, and on any malformed line, loading fails with SPOOR_E_CONFIG naming file and line.
 *
 * Error messages never contain a secret or a session token.
 */
#ifndef SPOOR_CREDS_H
#define SPOOR_CREDS_H

#include <stdbool.h>
#include <stddef.h>

#include <spoor/error.h>
#include <spoor/s3.h>

#define INI_MAX_FILE_BYTES (1024 * 1024)
#define INI_MAX_LINE_BYTES 8192
#define CREDS_PATH_MAX 4096

/* ---- INI files ------------------------------------------------------------------------- */

struct ini_entry {
    char *section;
    char *key; /* lower case; NULL for the line of a section header */
    char *value;
    unsigned line;
};

struct ini {
    struct ini_entry *v; /* in file order */
    size_t n;
    size_t cap;
};

/* Which naming of profiles a file uses: "[dev]" (credentials) or "[profile dev]" (config). */
enum ini_style {
    INI_CREDENTIALS,
    INI_CONFIG,
};

/* Parses text[0..len) into ini (initialised here; ini_cleanup it on success and on error).
 * name is the file as shown in messages. Pure: touches no file. */
int ini_parse(struct ini *ini, const char *text, size_t len, const char *name,
              struct spoor_error *err);
/* Reads and parses the file at path (already expanded). A missing file is -ENOENT, other
 * read failures -errno, both with a message naming shown (the path as the user wrote it). */
int ini_load(struct ini *ini, const char *path, const char *shown, struct spoor_error *err);
void ini_cleanup(struct ini *ini);

/* Value of key in the section named exactly section, or NULL. Borrowed until ini_cleanup. */
const char *ini_get(const struct ini *ini, const char *section, const char *key);
/* Whether profile has a section (possibly empty), named as style names it. */
bool ini_profile_exists(const struct ini *ini, enum ini_style style, const char *profile);
/* Value of key in profile's section(s), named as style names it, or NULL. Borrowed. */
const char *ini_profile_get(const struct ini *ini, enum ini_style style, const char *profile,
                            const char *key);

/* ---- credentials ----------------------------------------------------------------------- */

/* Fills c from the variables access_var, secret_var and (if token_var is not NULL) token_var.
 * An empty variable counts as unset. Returns 0 when both keys are set (source says which
 * variables); -ENOENT when neither is (c zeroed); SPOOR_E_CONFIG when only one is, or a value is
 * too long for its field or holds a blank or control byte. */
int creds_from_env_vars(struct spoor_s3_credentials *c, const char *access_var,
                        const char *secret_var, const char *token_var, struct spoor_error *err);

/* Fills c from aws_access_key_id, aws_secret_access_key and aws_session_token of profile in a
 * parsed file; shown names the file in source and in messages. Returns 0; -ENOENT when the
 * profile is absent or has neither key (err says which); SPOOR_E_CONFIG when it has one key but
 * not the other, a bad value, or only a method spoor does not run (role_arn, sso_*,
 * credential_process, ...). */
int creds_from_ini(struct spoor_s3_credentials *c, const struct ini *ini, enum ini_style style,
                   const char *profile, const char *shown, struct spoor_error *err);

/* ---- paths, endpoints, regions --------------------------------------------------------- */

/* Copies path to out[outsz], replacing a leading "~" or "~/" with $HOME ("~user" is left as
 * is). SPOOR_E_CONFIG when HOME is needed but unset, or the result does not fit. */
int creds_expand_home(const char *path, char *out, size_t outsz, struct spoor_error *err);

/* Checks that url is http:// or https:// with a host (optionally :port, IPv6 in brackets),
 * without user info, query or fragment, and without a path other than "/". Writes it to
 * out[outsz] with the scheme in lower case and no trailing '/'. what names where the URL came
 * from in messages ("AWS_ENDPOINT_URL_S3"). SPOOR_E_CONFIG otherwise. */
int creds_endpoint_url_normalize(const char *url, const char *what, char *out, size_t outsz,
                                 struct spoor_error *err);

/* Checks that region is 1-63 bytes of letters, digits, '-', '_' and '.' (AWS names are
 * "us-east-1"; other S3 services are freer) and copies it to out[outsz]; what names its
 * origin in messages. SPOOR_E_CONFIG otherwise: a blank or a trailing comment is a mistake. */
int creds_region_check(const char *region, const char *what, char *out, size_t outsz,
                       struct spoor_error *err);

#endif
