/* YAML for the config loader, in two parts.
 *
 * A small document tree (scalars, lists, mappings with 1-based positions) built from libyaml's
 * event stream with hostile input in mind: aliases and anchors are refused (they allow
 * billion-laughs expansion), nesting and node count are capped, and a syntax error is one message
 * at libyaml's problem mark.
 *
 * A table-driven mapper from that tree onto C structs: one ykey row per YAML key (name, converter,
 * offset, bounds, default, which variants may use it). It reports every problem as a config_error
 * naming the key path ("rules[2].severity: ...") at the key's or value's position, and goes on. */
#ifndef PCMON_YAMLNODE_H
#define PCMON_YAMLNODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Deeper than any sane config (which nests 4 levels), shallow enough to bound the parse. */
#define YNODE_MAX_DEPTH 64
/* The shipped config has ~1000 nodes; this bounds memory for a 4 MiB file of "[1,1,1,...". */
#define YNODE_MAX_NODES 200000

enum ynode_type { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

typedef struct ynode {
    enum ynode_type type;
    int line, col;          /* 1-based position of the node's first character */
    bool plain;             /* scalar written without quotes (only then can it mean null) */
    char *s;                /* scalar text, NUL-terminated (a NUL inside is a parse error) */
    size_t len;
    struct ynode **v;       /* list items; for a mapping: key, value, key, value, ... */
    size_t n, cap;
} ynode;

typedef struct ynode_error {
    int line, col;
    char *msg;
} ynode_error;

/* Parses len bytes of text (need not be NUL-terminated) holding at most one YAML document.
 * Returns 0 and the root in *root (NULL when the stream has no document; free with ynode_free),
 * or -EINVAL with *root NULL and *err filled (caller frees err->msg). */
int ynode_parse(const char *text, size_t len, ynode **root, ynode_error *err);
/* Frees the node and its children; accepts NULL, returns NULL. */
ynode *ynode_free(ynode *n);
/* True for an absent value: a plain scalar "", "~", "null", "Null" or "NULL". */
bool ynode_is_null(const ynode *n);
/* The value for key in a mapping, or NULL. */
const ynode *ynode_get(const ynode *map, const char *key);
/* "a string", "a list" or "a mapping", for messages. */
const char *ynode_type_name(const ynode *n);

/* The mapper's state: where errors go. */
typedef struct ymap {
    const char *file;
    config_errors *errs;
    size_t nerr;
} ymap;

/* Past this many the rest is usually one mistake repeated; check-config stays readable. */
#define YMAP_MAX_ERRORS 100

#define YK_REQUIRED  1u   /* missing or empty is an error */
#define YK_NONEMPTY  2u   /* strings: "" is an error; lists: [] is (leave the key out for "all") */
#define YK_INF       4u   /* durations: absent means USEC_INFINITY ("use the default") */
#define YK_AS_STRING 8u   /* enums: store a copy of the name, not the index */
#define YK_AS_BOOL   16u  /* enums: store index == 1 */
#define YK_FIELD     32u  /* string lists: each item is a field name */

typedef struct ykey ykey;
/* Converts v (never a null scalar) into base + k->off; reports errors, never fails otherwise. */
typedef void ykey_conv(ymap *x, const char *path, const ynode *v, char *base, const ykey *k);

struct ykey {
    const char *name;
    ykey_conv *conv;
    size_t off, noff;     /* where the value goes in the section's struct; lists: their count */
    uint64_t min, max;    /* numbers and sizes: bounds; durations: min only (usec) */
    const void *arg;      /* enum names (NULL-terminated), a yname_rule, or a ysection */
    unsigned flags;       /* YK_* */
    unsigned only;        /* bit per variant (rule kind, notifier type) that may use it; 0 = all */
    const char *def;      /* default, converted like a value from the file; NULL = zero */
};

/* Where a key was found in one mapping (both NULL when absent). */
typedef struct yslot {
    const ynode *key, *val;
} yslot;

typedef struct ysection {
    const ykey *keys;
    size_t nkeys;
    size_t size;          /* lists of mappings: the item struct's size */
    /* Lists: called per item after its keys; items is the array, seen has nkeys slots. */
    void (*check)(ymap *x, const char *path, const ynode *item, char *items, size_t index, const yslot *seen);
} ysection;

/* Allowed characters of a name, whether it must start with a letter or _, and how to say so. */
typedef struct yname_rule {
    const char *chars;
    bool letter_first;
    const char *hint;
} yname_rule;

/* Field names: what PCRE2 group names, templates and Alertmanager labels all accept. */
extern const yname_rule yname_field;

/* Converters for ykey.conv. */
ykey_conv ykey_str, ykey_abspath, ykey_name, ykey_duration, ykey_uint, ykey_size, ykey_bool, ykey_enum,
    ykey_strlist, ykey_section, ykey_list;

/* Applies sec to mapping m: converts known keys into base; reports unknown keys (with a
 * suggestion), duplicates, wrong types and missing required keys; fills defaults. seen (nkeys
 * slots, zeroed) gets where each key was. Returns false when m is not a mapping. */
bool ymap_parse(ymap *x, const char *path, const ynode *m, const ysection *sec, char *base, yslot *seen);
/* Reports each key given (not null) in seen whose ykey.only lacks bit, e.g. "rules[0].resolve: only for
 * kind state, not kind event" (what = "kind", names = the variants' names, variant = this one). */
void ymap_check_only(ymap *x, const char *path, const ysection *sec, const yslot *seen, unsigned bit,
                     const char *what, const char *const *names, int variant);
/* The value node of key in seen, or fallback when the key was absent. */
const ynode *ymap_where(const ysection *sec, const yslot *seen, const char *key, const ynode *fallback);
/* Calls fn for each pair of a free-form mapping (keys not from a table) after checking the key is
 * a string, unique and (field_keys) a field name. */
void ymap_each_pair(ymap *x, const char *path, const ynode *m, bool field_keys, void *ud,
                    void (*fn)(ymap *x, const char *path, const ynode *key, const ynode *val, void *ud));
/* False (and an error) unless v is a scalar; what is e.g. "a string". */
bool ymap_need_scalar(ymap *x, const char *path, const ynode *v, const char *what);
bool yname_ok(const char *s, const yname_rule *r);

/* Appends one error at n's position (1:1 for NULL), up to YMAP_MAX_ERRORS. */
void ymap_error(ymap *x, const ynode *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A value quoted for a message: truncated, non-printables escaped, and anything URL-like cut to
 * scheme and host, because URLs (Slack webhooks, user:password@host) carry secrets. */
typedef struct yshown {
    char s[96];
} yshown;
yshown yshow(const char *v);

#endif
