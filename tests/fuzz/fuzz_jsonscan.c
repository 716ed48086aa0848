/* The JSON event scanner of the rule engine (lib/jsonscan.h), against json-c as rules.c runs it:
 * whatever jscan_object accepts, json-c parses into an object with the same top-level members
 * (the last of a repeated key), each of the same type; plain strings byte for byte, scalars to
 * the same value, objects and arrays to equal JSON. Input: one line. */
#include <json-c/json.h>

#include "jsonscan.h"

#include "fuzz.h"

/* As rules.c's parse_json_once. */
#define JSON_DEPTH 32

static json_object *parse(const char *s, size_t len)
{
    json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
    json_object *o = json_tokener_parse_ex(tok, s, (int)len);
    json_tokener_free(tok);
    return o;
}

static void check_scalar(const jmember *m, json_object *v)
{
    char *text = xstrndup(m->val, m->vlen);
    switch (json_object_get_type(v)) {
    case json_type_boolean:
        FUZZ_ASSERT(strcmp(text, json_object_get_boolean(v) ? "true" : "false") == 0);
        break;
    case json_type_null:
        FUZZ_ASSERT(strcmp(text, "null") == 0);
        break;
    case json_type_int:
        FUZZ_ASSERT(!strpbrk(text, ".eE") && strtoll(text, NULL, 10) == json_object_get_int64(v));
        break;
    case json_type_double:
        FUZZ_ASSERT(strtod(text, NULL) == json_object_get_double(v));
        break;
    default:
        FUZZ_ASSERT(!"a scalar is a number, true, false or null");
    }
    free(text);
}

static void check_member(const jmember *m, json_object *v)
{
    if (m->type == JSCAN_STRING) {
        FUZZ_ASSERT(json_object_is_type(v, json_type_string));
        if (!m->escaped)
            FUZZ_ASSERT((size_t)json_object_get_string_len(v) == m->vlen &&
                        memcmp(json_object_get_string(v), m->val, m->vlen) == 0);
    } else if (m->type == JSCAN_SCALAR) {
        check_scalar(m, v);
    } else {
        FUZZ_ASSERT(json_object_is_type(v, m->type == JSCAN_OBJECT ? json_type_object : json_type_array));
        json_object *as_written = parse(m->val, m->vlen);
        FUZZ_ASSERT(as_written && json_object_equal(as_written, v));
        json_object_put(as_written);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jscan js;
    const char *line = (const char *)data;
    if (size > INT32_MAX || !jscan_object(line, size, &js))
        return 0;
    json_object *o = parse(line, size);
    if (!o || !json_object_is_type(o, json_type_object))
        fprintf(stderr, "jscan_object accepts what json-c does not parse as an object\n");
    FUZZ_ASSERT(o && json_object_is_type(o, json_type_object));
    FUZZ_ASSERT(js.n <= JSCAN_MAX);
    size_t distinct = 0;
    for (size_t i = 0; i < js.n; i++) {
        char *key = xstrndup(js.v[i].key, js.v[i].klen);
        const jmember *m = jscan_get(&js, key);
        json_object *v = NULL;
        FUZZ_ASSERT(m && m->klen == js.v[i].klen && json_object_object_get_ex(o, key, &v));
        if (m == &js.v[i])   /* the last of its key: the one json-c keeps */
            distinct++;
        check_member(m, v);
        free(key);
    }
    FUZZ_ASSERT(distinct == (size_t)json_object_object_length(o));
    json_object_put(o);
    return 0;
}
