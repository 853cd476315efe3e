/*
 * api_annot.c: annotations (burr-compat.md 2.3: AnnotationCreate, AnnotationUpdate,
 * AnnotationOut), stored in the index so that they travel with its snapshots.
 *
 * A body is checked field by field against the model and every problem names the field
 * ("observations[1].data_pointers[0].type must be \"state_field\" or \"attribute\""). What is
 * stored is the normalized form: the model's fields in the model's order, defaults filled in,
 * unknown fields dropped; data_fields keep their values, with floats written as Python writes
 * them (0.1 stays 0.1, 2e10 is 20000000000.0).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "idx.h"

/* ---- JSON writing of parsed values ---------------------------------------------------- */

/* d as Python's repr writes a float: the fewest significant digits that read back as d, in
 * fixed notation when the decimal exponent is in [-4, 16) (with ".0" when there is no
 * fraction), else in exponent notation ("1e+16", "1.5e-05"). */
static void put_real(struct buf *b, double d)
{
    char s[48];
    int prec = 1;
    for (;; prec++) { /* 17 significant digits always read back */
        snprintf(s, sizeof s, "%.*e", prec - 1, d);
        if (prec == 17 || strtod(s, NULL) == d)
            break;
    }
    int exp = (int)strtol(strchr(s, 'e') + 1, NULL, 10); /* "%e" always writes the 'e' */
    if (exp < -4 || exp >= 16) {
        snprintf(s, sizeof s, "%.*g", prec, d);
        buf_append_str(b, s);
        return;
    }
    int decimals = prec - 1 - exp;
    snprintf(s, sizeof s, "%.*f", decimals > 0 ? decimals : 0, d);
    buf_append_str(b, s);
    if (!strchr(s, '.'))
        buf_append_str(b, ".0");
}

static void put_value(struct buf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *e;
        bool first = true;
        buf_append_byte(b, '{');
        json_object_foreach((json_t *)v, k, e)
        {
            if (!first)
                buf_append_byte(b, ',');
            first = false;
            api_put_str(b, k);
            buf_append_byte(b, ':');
            put_value(b, e);
        }
        buf_append_byte(b, '}');
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *e;
        buf_append_byte(b, '[');
        json_array_foreach(v, i, e)
        {
            if (i)
                buf_append_byte(b, ',');
            put_value(b, e);
        }
        buf_append_byte(b, ']');
        break;
    }
    case JSON_STRING:
        api_put_strn(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        buf_printf(b, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        put_real(b, json_real_value(v));
        break;
    case JSON_TRUE:
        buf_append_str(b, "true");
        break;
    case JSON_FALSE:
        buf_append_str(b, "false");
        break;
    case JSON_NULL:
        buf_append_str(b, "null");
        break;
    }
}

/* ---- checking a body ---------------------------------------------------------------------- */

struct body {
    json_t *root;
    const char *span_id, *step_name;
    struct buf tags, observations; /* normalized JSON */
    char problem[300];
};

static bool problem(struct body *bd, const char *fmt, const char *field)
{
    snprintf(bd->problem, sizeof bd->problem, fmt, field);
    return false;
}

/* An optional string-or-null field; *out NULL when null or absent. */
static bool opt_string(struct body *bd, json_t *obj, const char *name, const char *path,
                       const char **out)
{
    json_t *v = json_object_get(obj, name);
    *out = json_string_value(v);
    if (v && !json_is_null(v) && !json_is_string(v))
        return problem(bd, "%s must be a string or null", path);
    return true;
}

static bool check_pointer(struct body *bd, json_t *p, const char *path, struct buf *out)
{
    char f[200];
    if (!json_is_object(p))
        return problem(bd, "%s must be an object", path);
    const char *type = json_string_value(json_object_get(p, "type"));
    if (!type || (strcmp(type, "state_field") != 0 && strcmp(type, "attribute") != 0)) {
        snprintf(f, sizeof f, "%s.type", path);
        return problem(bd, "%s must be \"state_field\" or \"attribute\"", f);
    }
    const char *field_name = json_string_value(json_object_get(p, "field_name"));
    if (!field_name) {
        snprintf(f, sizeof f, "%s.field_name", path);
        return problem(bd, "%s must be a string", f);
    }
    const char *span_id;
    snprintf(f, sizeof f, "%s.span_id", path);
    if (!opt_string(bd, p, "span_id", f, &span_id))
        return false;
    buf_append_str(out, "{\"type\":");
    api_put_str(out, type);
    api_put_field(out, "field_name", field_name);
    api_put_field(out, "span_id", span_id);
    buf_append_byte(out, '}');
    return true;
}

static bool check_observation(struct body *bd, json_t *o, size_t i)
{
    char path[100], f[160];
    struct buf *out = &bd->observations;
    snprintf(path, sizeof path, "observations[%zu]", i);
    if (!json_is_object(o))
        return problem(bd, "%s must be an object", path);
    json_t *fields = json_object_get(o, "data_fields");
    if (!json_is_object(fields)) {
        snprintf(f, sizeof f, "%s.data_fields", path);
        return problem(bd, "%s must be an object", f);
    }
    json_t *thumbs = json_object_get(o, "thumbs_up_thumbs_down");
    if (thumbs && !json_is_null(thumbs) && !json_is_boolean(thumbs)) {
        snprintf(f, sizeof f, "%s.thumbs_up_thumbs_down", path);
        return problem(bd, "%s must be true, false or null", f);
    }
    json_t *pointers = json_object_get(o, "data_pointers");
    if (pointers && !json_is_array(pointers)) {
        snprintf(f, sizeof f, "%s.data_pointers", path);
        return problem(bd, "%s must be a list", f);
    }
    buf_append_str(out, "{\"data_fields\":");
    put_value(out, fields);
    buf_printf(out, ",\"thumbs_up_thumbs_down\":%s,\"data_pointers\":[",
               json_is_boolean(thumbs) ? (json_is_true(thumbs) ? "true" : "false") : "null");
    size_t k;
    json_t *p;
    json_array_foreach(pointers, k, p)
    {
        if (k)
            buf_append_byte(out, ',');
        snprintf(f, sizeof f, "%s.data_pointers[%zu]", path, k);
        if (!check_pointer(bd, p, f, out))
            return false;
    }
    buf_append_str(out, "]}");
    return true;
}

/* Parses and checks body[0..len) as AnnotationCreate (create) or AnnotationUpdate. */
static bool body_check(struct body *bd, const char *body, size_t len, bool create)
{
    json_error_t je;
    buf_init(&bd->tags, SIZE_MAX);
    buf_init(&bd->observations, SIZE_MAX);
    bd->root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!bd->root) {
        snprintf(bd->problem, sizeof bd->problem, "the body is not JSON: %s at line %d, column %d",
                 je.text, je.line, je.column);
        return false;
    }
    if (!json_is_object(bd->root))
        return problem(bd, "the body must be a JSON object (%s)",
                       create ? "AnnotationCreate" : "AnnotationUpdate");
    if (!opt_string(bd, bd->root, "span_id", "span_id", &bd->span_id))
        return false;
    bd->step_name = json_string_value(json_object_get(bd->root, "step_name"));
    if (!bd->step_name)
        return problem(bd, "%s is required and must be a string", "step_name");
    json_t *tags = json_object_get(bd->root, "tags");
    if ((create && !tags) || (tags && !json_is_array(tags)))
        return problem(bd, "%s must be a list of strings", "tags");
    size_t i;
    json_t *v;
    buf_append_byte(&bd->tags, '[');
    json_array_foreach(tags, i, v)
    {
        if (!json_is_string(v))
            return problem(bd, "%s must be a list of strings", "tags");
        if (i)
            buf_append_byte(&bd->tags, ',');
        put_value(&bd->tags, v);
    }
    buf_append_byte(&bd->tags, ']');
    json_t *obs = json_object_get(bd->root, "observations");
    if (!json_is_array(obs))
        return problem(bd, "%s is required and must be a list", "observations");
    buf_append_byte(&bd->observations, '[');
    json_array_foreach(obs, i, v)
    {
        if (i)
            buf_append_byte(&bd->observations, ',');
        if (!check_observation(bd, v, i))
            return false;
    }
    buf_append_byte(&bd->observations, ']');
    return true;
}

static void body_cleanup(struct body *bd)
{
    json_decref(bd->root);
    buf_cleanup(&bd->tags);
    buf_cleanup(&bd->observations);
}

/* ---- AnnotationOut ------------------------------------------------------------------------ */

struct out {
    const char *project;
    struct buf b;
    int n;
};

static int put_annotation(void *ud, const struct idx_annotation *an)
{
    struct out *o = ud;
    if (o->n++)
        buf_append_byte(&o->b, ',');
    buf_append_str(&o->b, "{\"span_id\":");
    api_put_str(&o->b, an->span_id);
    api_put_field(&o->b, "step_name", an->step_name);
    buf_printf(&o->b, ",\"tags\":%s,\"observations\":%s,\"id\":%lld", an->tags_json,
               an->observations_json, (long long)an->id);
    api_put_field(&o->b, "project_id", o->project);
    api_put_field(&o->b, "app_id", an->app_id);
    api_put_field(&o->b, "partition_key", an->partition_key);
    buf_printf(&o->b, ",\"step_sequence_id\":%lld", (long long)an->step_sequence_id);
    api_put_field(&o->b, "created", an->created);
    api_put_field(&o->b, "updated", an->updated);
    buf_append_byte(&o->b, '}');
    return 0;
}

static int app_exists(void *ud, const struct idx_app_row *r, const char *version)
{
    *(bool *)ud = true;
    return 0;
}

void api_annotation_create(struct api *a, int64_t project_id, const char *project,
                           const char *app_id, const char *partition_key, int64_t seq,
                           const char *body, size_t len, struct http_reply *r)
{
    struct spoor_error err;
    bool found = false;
    if (idx_app_find(a->x, project_id, app_id, partition_key ? partition_key : "__none__",
                     app_exists, &found, &err) != 0)
        return api_index_error(r, "finding the application", err.message);
    if (!found)
        return api_error(r, 404,
                         "app %s%s%s not found in project %s: annotate an indexed "
                         "application",
                         app_id, partition_key ? " with partition key " : "",
                         partition_key ? partition_key : "", project);
    struct body bd = {0};
    if (!body_check(&bd, body, len, true)) {
        api_error(r, 400, "invalid annotation: %s", bd.problem);
        return body_cleanup(&bd);
    }
    struct idx_annotation an = {.app_id = app_id,
                                .partition_key = partition_key,
                                .step_sequence_id = seq,
                                .span_id = bd.span_id,
                                .step_name = bd.step_name,
                                .tags_json = bd.tags.data,
                                .observations_json = bd.observations.data};
    struct out o = {project, {0}, 0};
    buf_init(&o.b, SIZE_MAX);
    if (idx_annotation_create(a->x, project_id, &an, put_annotation, &o, &err) != 0) {
        buf_cleanup(&o.b);
        api_index_error(r, "storing the annotation", err.message);
    } else {
        api_json(r, 200, &o.b);
    }
    body_cleanup(&bd);
}

void api_annotation_update(struct api *a, int64_t project_id, const char *project, int64_t id,
                           const char *body, size_t len, struct http_reply *r)
{
    struct body bd = {0};
    if (!body_check(&bd, body, len, false)) {
        api_error(r, 400, "invalid annotation: %s", bd.problem);
        return body_cleanup(&bd);
    }
    struct idx_annotation an = {.id = id,
                                .span_id = bd.span_id,
                                .step_name = bd.step_name,
                                .tags_json = bd.tags.data,
                                .observations_json = bd.observations.data};
    struct out o = {project, {0}, 0};
    struct spoor_error err;
    bool found;
    buf_init(&o.b, SIZE_MAX);
    if (idx_annotation_update(a->x, project_id, &an, &found, put_annotation, &o, &err) != 0) {
        buf_cleanup(&o.b);
        api_index_error(r, "updating the annotation", err.message);
    } else if (!found) {
        buf_cleanup(&o.b);
        api_error(r, 404, "annotation %lld not found in project %s", (long long)id, project);
    } else {
        api_json(r, 200, &o.b);
    }
    body_cleanup(&bd);
}

void api_annotations(struct api *a, int64_t project_id, const char *project,
                     const struct http_request *rq, struct http_reply *r)
{
    const char *app_id = http_query(rq, "app_id"), *pk = http_query(rq, "partition_key"),
               *step = http_query(rq, "step_sequence_id");
    int64_t seq = -1;
    if (app_id && !api_id_ok(app_id))
        return api_error(r, 400,
                         "invalid app_id \"%.200s\": use letters, digits, '_', '-' and "
                         "':'",
                         app_id);
    if (pk && !api_partition_ok(pk))
        return api_error(r, 400, "invalid partition_key \"%.200s\"", pk);
    if (step && !api_uint_ok(step, &seq))
        return api_error(r, 400, "step_sequence_id must be an integer >= 0, not \"%.80s\"", step);
    struct out o = {project, {0}, 0};
    struct spoor_error err;
    buf_init(&o.b, SIZE_MAX);
    buf_append_byte(&o.b, '[');
    if (idx_annotations(a->x, project_id, app_id, pk, seq, put_annotation, &o, &err) != 0) {
        buf_cleanup(&o.b);
        return api_index_error(r, "listing annotations", err.message);
    }
    buf_append_byte(&o.b, ']');
    api_json(r, 200, &o.b);
}
